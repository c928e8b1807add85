"""Object calls through `aws s3api` and presigned URLs (issue #4):
put-object with --content-md5, metadata, content type and cache control
(a wrong MD5: 400 BadDigest and nothing stored), additional checksums
(CRC32, SHA256; a wrong --checksum-crc32: BadDigest), head-object,
get-object with --range (206 with Content-Range; 416 InvalidRange past the
end), copy-object with COPY and REPLACE metadata directives and across
buckets, delete-objects quiet and verbose, error codes of absent keys and
buckets, and `aws s3 presign` URLs fetched with urllib: 200 with the
object, 403 SignatureDoesNotMatch for another key, 403 AccessDenied once
expired.
"""
import base64
import hashlib
import json
import os
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

from clients import AwsCliCase, crc32_b64, data_of, make_bucket, md5hex

MiB = 1024 * 1024


class TestObjectApi(AwsCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_bucket(cls.d, "obj-api")

    def test_put_object_md5_metadata(self):
        data = data_of(70000, "md5")
        md5b64 = base64.b64encode(hashlib.md5(data).digest()).decode()
        r = self.put("obj-api", "meta/o", data, "--content-md5", md5b64, "--content-type", "text/x-test",
                     "--metadata", "Color=blue,size-class=L", "--cache-control", "no-cache")
        self.assertEqual(r["ETag"], '"%s"' % md5hex(data))
        head = self.api("head-object", "--bucket", "obj-api", "--key", "meta/o")
        self.assertEqual(head["ContentLength"], len(data))
        self.assertEqual(head["ContentType"], "text/x-test")
        self.assertEqual(head["Metadata"], {"color": "blue", "size-class": "L"})
        self.assertEqual(head["ETag"], r["ETag"])
        self.assertEqual(head.get("CacheControl"), "no-cache")
        self.assertIn("LastModified", head)
        meta, got = self.get("obj-api", "meta/o")
        self.assertEqual(got, data)
        self.assertEqual(meta["Metadata"], {"color": "blue", "size-class": "L"})
        # A Content-MD5 of other bytes: 400 BadDigest, nothing stored.
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        path = self.write("bad-md5", data)
        self.assertEqual(self.api_error("put-object", "--bucket", "obj-api", "--key", "meta/bad",
                                        "--body", path, "--content-md5", wrong), "BadDigest")
        self.assertEqual(self.api_error("head-object", "--bucket", "obj-api", "--key", "meta/bad"), "404")
        # Overwrite replaces content and metadata.
        self.put("obj-api", "meta/o", b"new", "--metadata", "v=2")
        head = self.api("head-object", "--bucket", "obj-api", "--key", "meta/o")
        self.assertEqual((head["ContentLength"], head["Metadata"]), (3, {"v": "2"}))

    def test_put_object_checksums(self):
        data = data_of(300000, "ck")
        r = self.put("obj-api", "ck/crc32", data, "--checksum-algorithm", "CRC32")
        self.assertEqual(r.get("ChecksumCRC32"), crc32_b64(data))
        head = self.api("head-object", "--bucket", "obj-api", "--key", "ck/crc32", "--checksum-mode", "ENABLED")
        self.assertEqual(head.get("ChecksumCRC32"), crc32_b64(data))
        _, got = self.get("obj-api", "ck/crc32", "--checksum-mode", "ENABLED")
        self.assertEqual(got, data)
        r = self.put("obj-api", "ck/sha256", data, "--checksum-algorithm", "SHA256")
        self.assertEqual(r.get("ChecksumSHA256"), base64.b64encode(hashlib.sha256(data).digest()).decode())
        _, got = self.get("obj-api", "ck/sha256", "--checksum-mode", "ENABLED")
        self.assertEqual(got, data)
        # A checksum of other bytes: refused, nothing stored.
        path = self.write("ck-bad", data)
        self.assertEqual(self.api_error("put-object", "--bucket", "obj-api", "--key", "ck/bad", "--body", path,
                                        "--checksum-crc32", crc32_b64(b"other")), "BadDigest")
        self.assertEqual(self.api_error("head-object", "--bucket", "obj-api", "--key", "ck/bad"), "404")

    def test_get_range(self):
        data = data_of(1 * MiB + 333, "range")
        n = len(data)
        self.put("obj-api", "range/o", data)
        for rng, lo, hi in (("bytes=100-199", 100, 199), ("bytes=0-0", 0, 0), ("bytes=-10", n - 10, n - 1),
                            ("bytes=%d-" % (n - 77), n - 77, n - 1), ("bytes=1000-%d" % (n + 5000), 1000, n - 1)):
            meta, got = self.get("obj-api", "range/o", "--range", rng)
            self.assertEqual(got, data[lo:hi + 1], rng)
            self.assertEqual(meta["ContentLength"], hi - lo + 1, rng)
            self.assertEqual(meta["ContentRange"], "bytes %d-%d/%d" % (lo, hi, n), rng)
        self.assertEqual(self.api_error("get-object", "--bucket", "obj-api", "--key", "range/o",
                                        "--range", "bytes=%d-%d" % (n, n + 10),
                                        os.path.join(self.d.tmp, "x")), "InvalidRange")

    def test_copy_object(self):
        data = data_of(200000, "copy")
        src = self.put("obj-api", "copy/src", data, "--metadata", "a=1", "--content-type", "image/x-src")
        r = self.api("copy-object", "--bucket", "obj-api", "--key", "copy/dst1", "--copy-source", "obj-api/copy/src")
        self.assertEqual(r["CopyObjectResult"]["ETag"], src["ETag"])
        head = self.api("head-object", "--bucket", "obj-api", "--key", "copy/dst1")
        self.assertEqual((head["Metadata"], head["ContentType"]), ({"a": "1"}, "image/x-src"))
        self.assertEqual(self.get("obj-api", "copy/dst1")[1], data)
        r = self.api("copy-object", "--bucket", "obj-api", "--key", "copy/dst2", "--copy-source", "obj-api/copy/src",
                     "--metadata-directive", "REPLACE", "--metadata", "b=2", "--content-type", "text/x-dst")
        self.assertEqual(r["CopyObjectResult"]["ETag"], src["ETag"])
        head = self.api("head-object", "--bucket", "obj-api", "--key", "copy/dst2")
        self.assertEqual((head["Metadata"], head["ContentType"]), ({"b": "2"}, "text/x-dst"))
        self.assertEqual(self.get("obj-api", "copy/dst2")[1], data)
        # Across buckets; the source is unchanged; the copy is independent.
        make_bucket(self.d, "obj-api-2")
        self.api("copy-object", "--bucket", "obj-api-2", "--key", "c", "--copy-source", "obj-api/copy/src")
        self.cli("s3", "rm", "s3://obj-api/copy/src")
        self.assertEqual(self.get("obj-api-2", "c")[1], data)
        self.assertEqual(self.get("obj-api", "copy/dst1")[1], data)
        self.assertEqual(self.api_error("copy-object", "--bucket", "obj-api", "--key", "copy/x",
                                        "--copy-source", "obj-api/copy/absent"), "NoSuchKey")

    def test_delete_objects(self):
        for i in range(6):
            self.put_raw("obj-api", "del/%d" % i, b"%d" % i)
        out = self.api("delete-objects", "--bucket", "obj-api", "--delete", json.dumps(
            {"Objects": [{"Key": "del/0"}, {"Key": "del/1"}, {"Key": "del/2"}, {"Key": "del/absent"}],
             "Quiet": True}))
        self.assertEqual(out.get("Deleted", []), [], "quiet mode lists no deleted keys")
        self.assertEqual(out.get("Errors", []), [])
        self.assertEqual(self.keys("obj-api", "del/"), ["del/3", "del/4", "del/5"])
        out = self.api("delete-objects", "--bucket", "obj-api", "--delete", json.dumps(
            {"Objects": [{"Key": "del/3"}, {"Key": "del/4"}]}))
        self.assertEqual(sorted(d["Key"] for d in out["Deleted"]), ["del/3", "del/4"])
        self.assertEqual(self.keys("obj-api", "del/"), ["del/5"])

    def test_head_and_errors(self):
        self.assertEqual(self.api_error("head-object", "--bucket", "obj-api", "--key", "absent"), "404")
        self.assertEqual(self.api_error("get-object", "--bucket", "obj-api", "--key", "absent",
                                        os.path.join(self.d.tmp, "x")), "NoSuchKey")
        self.assertEqual(self.api_error("list-objects-v2", "--bucket", "no-such-bucket-here"), "NoSuchBucket")
        self.assertEqual(self.api_error("head-bucket", "--bucket", "no-such-bucket-here"), "404")
        self.api("head-bucket", "--bucket", "obj-api")

    def test_presign(self):
        data = data_of(123457, "presign")
        self.put("obj-api", "pre/sign d.bin", data)
        url = self.cli("s3", "presign", "s3://obj-api/pre/sign d.bin", "--expires-in", "300").strip()
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), data)
        # A presigned URL for another key (signature does not cover it).
        bad = url.replace("sign%20d.bin", "sign%20e.bin")
        self.assertNotEqual(bad, url)
        self.assertEqual(self.http_error(bad), (403, "SignatureDoesNotMatch"))
        # Expired.
        url = self.cli("s3", "presign", "s3://obj-api/pre/sign d.bin", "--expires-in", "1").strip()
        time.sleep(2.5)
        self.assertEqual(self.http_error(url), (403, "AccessDenied"))

    def http_error(self, url):
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                self.fail("GET %s: %d, want an error" % (url, r.status))
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, ET.fromstring(body).findtext("Code")


if __name__ == "__main__":
    unittest.main()
