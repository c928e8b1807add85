"""CompleteMultipartUpload's rules (issue #4) with raw signed requests
against a real dedupd (the aws CLI cases are in test_s3_awscli_multipart.py):
ETag "<md5 of the concatenated binary part MD5s>-N", ETags matched with or
without quotes, repeated or descending part numbers (InvalidPartOrder),
part numbers outside 1..10000 and unknown ETags (InvalidPart), a non-last
part under 5 MiB, even empty (EntityTooSmall), an empty part list
(MalformedXML), and that a refused Complete leaves the upload as it was.
"""
import hashlib
import unittest
import xml.etree.ElementTree as ET

from clients import SharedDedupdCase, data_of, make_bucket, s3_request

MiB = 1024 * 1024
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def body(parts):
    return ("<CompleteMultipartUpload>" + "".join(
        "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>" % p for p in parts)
        + "</CompleteMultipartUpload>").encode()


class TestComplete(SharedDedupdCase):
    def upload(self, bucket, key, datas):
        r = s3_request(self.d, "POST", "/%s/%s" % (bucket, key), query=[("uploads", "")])
        self.assertEqual(r.status, 200, r)
        uid = ET.fromstring(r.body).findtext(NS + "UploadId")
        etags = []
        for n, data in enumerate(datas, 1):
            r = s3_request(self.d, "PUT", "/%s/%s" % (bucket, key),
                           query=[("partNumber", str(n)), ("uploadId", uid)], body=data)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.headers["etag"], '"%s"' % hashlib.md5(data).hexdigest())
            etags.append(r.headers["etag"])
        return uid, etags

    def complete(self, bucket, key, uid, parts):
        return s3_request(self.d, "POST", "/%s/%s" % (bucket, key), query=[("uploadId", uid)],
                          body=body(parts))

    def test_rules(self):
        make_bucket(self.d, "cmp")
        datas = [data_of(5 * MiB, "c1"), data_of(5 * MiB + 1, "c2"), data_of(1, "c3")]
        uid, etags = self.upload("cmp", "k", datas)

        def code(parts):
            r = self.complete("cmp", "k", uid, parts)
            return r.status, r.code

        self.assertEqual(code([(1, etags[0]), (1, etags[0])]), (400, "InvalidPartOrder"))
        self.assertEqual(code([(2, etags[1]), (1, etags[0])]), (400, "InvalidPartOrder"))
        self.assertEqual(code([(0, etags[0])]), (400, "InvalidPart"))
        self.assertEqual(code([(10001, etags[0])]), (400, "InvalidPart"))
        self.assertEqual(code([(1, etags[0]), (2, etags[0])]), (400, "InvalidPart"))
        self.assertEqual(code([(1, etags[0]), (4, etags[2])]), (400, "InvalidPart"))
        self.assertEqual(code([]), (400, "MalformedXML"))
        # Part 3 (1 byte) may only be last.
        self.assertEqual(code([(1, etags[0]), (3, etags[2]), ]), (200, None))
        # ... that completed it: the upload is gone now.
        self.assertEqual(code([(1, etags[0])]), (404, "NoSuchUpload"))
        got = s3_request(self.d, "GET", "/cmp/k")
        self.assertEqual(got.body, datas[0] + datas[2])
        want = hashlib.md5(hashlib.md5(datas[0]).digest() + hashlib.md5(datas[2]).digest()).hexdigest()
        self.assertEqual(got.headers["etag"], '"%s-2"' % want)

    def test_small_middle_part_and_unquoted_etags(self):
        make_bucket(self.d, "cmp2")
        datas = [data_of(5 * MiB, "d1"), b"", data_of(3, "d3")]
        uid, etags = self.upload("cmp2", "k", datas)
        r = self.complete("cmp2", "k", uid, [(n, e) for n, e in enumerate(etags, 1)])
        self.assertEqual((r.status, r.code), (400, "EntityTooSmall"), r)
        # Unquoted ETags are the same ETags; the failed attempt changed nothing.
        r = self.complete("cmp2", "k", uid, [(1, etags[0].strip('"')), (3, etags[2].strip('"'))])
        self.assertEqual(r.status, 200, r)
        want = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in (datas[0], datas[2]))).hexdigest()
        self.assertEqual(ET.fromstring(r.body).findtext(NS + "ETag"), '"%s-2"' % want)
        self.assertEqual(s3_request(self.d, "GET", "/cmp2/k").body, datas[0] + datas[2])


if __name__ == "__main__":
    unittest.main()
