"""UploadPartCopy across buckets and users (issue #4): a user may copy a
part only from a bucket granted to it (AccessDenied otherwise), and the
copy from a granted bucket works. Pending: it needs the admin CLI
(`dedupctl user add`, `grant`, see clients.py) to create a non-admin user.
"""
import unittest
import xml.etree.ElementTree as ET

from clients import (SharedDedupdCase, admin_create_user, admin_grant, data_of, make_bucket,
                     put_object, s3_request)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class TestPartCopyAccess(SharedDedupdCase):
    def test_source_bucket_must_be_granted(self):
        for b in ("pa-mine", "pa-other", "pa-shared"):
            make_bucket(self.d, b)
        put_object(self.d, "pa-other", "secret", data_of(1000, "secret"))
        put_object(self.d, "pa-shared", "pub", data_of(1000, "pub"))
        ak, sk = admin_create_user(self.d, "pa-user")
        admin_grant(self.d, "pa-user", "pa-mine")
        admin_grant(self.d, "pa-user", "pa-shared")
        kw = {"access_key": ak, "secret_key": sk}
        r = s3_request(self.d, "POST", "/pa-mine/k", query=[("uploads", "")], **kw)
        self.assertEqual(r.status, 200, r)
        uid = ET.fromstring(r.body).findtext(NS + "UploadId")

        def copy(src):
            return s3_request(self.d, "PUT", "/pa-mine/k",
                              query=[("partNumber", "1"), ("uploadId", uid)],
                              headers={"x-amz-copy-source": src}, **kw)
        r = copy("/pa-other/secret")
        self.assertEqual((r.status, r.code), (403, "AccessDenied"), r)
        r = copy("/pa-shared/pub")
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
