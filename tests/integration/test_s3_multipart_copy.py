"""UploadPartCopy (issue #4): a multipart part made from an existing object
or a byte range of it, through `aws s3api upload-part-copy` and raw signed
requests against a real dedupd.

- whole objects and x-amz-copy-source-range parts, mixed with an ordinary
  UploadPart, from the same and from another bucket; CopyPartResult ETag is
  the MD5 of the copied bytes, LastModified is set; ListParts shows the
  sizes; Complete gives "<md5 of md5s>-N" and the bytes read back exactly;
- a part copied from a source that is then overwritten keeps the old bytes;
- the part copy of an upload created with a checksum algorithm carries
  that part checksum (CopyPartResult ChecksumCRC32, ListParts);
- errors: InvalidRange (range past the end, any range of an empty object),
  InvalidArgument (malformed range), NoSuchKey, NoSuchBucket, NoSuchUpload,
  PreconditionFailed for x-amz-copy-source-if-match / if-none-match /
  if-unmodified-since, and a copy of 0..end of an empty object.
"""
import base64
import hashlib
import json
import threading
import unittest
import xml.etree.ElementTree as ET
import zlib

from clients import (AwsCliCase, SharedDedupdCase, crc32_b64, data_of, make_bucket, md5hex,
                     multipart_etag, put_object, s3_request)
from harness import SANITIZED, run_tool

MiB = 1024 * 1024
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class TestUploadPartCopy(AwsCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.big = data_of(12 * MiB + 3, "copy-src-big")
        cls.small = data_of(1000, "copy-src-small")
        make_bucket(cls.d, "cp-src")
        put_object(cls.d, "cp-src", "big", cls.big)
        put_object(cls.d, "cp-src", "dir/small", cls.small)
        put_object(cls.d, "cp-src", "empty", b"")

    def create(self, bucket, key, *extra):
        return self.api("create-multipart-upload", "--bucket", bucket, "--key", key, *extra)["UploadId"]

    def copy_part(self, bucket, key, uid, n, source, rng=None, *extra):
        args = ["upload-part-copy", "--bucket", bucket, "--key", key, "--upload-id", uid,
                "--part-number", str(n), "--copy-source", source]
        if rng:
            args += ["--copy-source-range", rng]
        return self.api(*args, *extra)["CopyPartResult"]

    def raw_copy(self, bucket, key, uid, n, headers):
        return s3_request(self.d, "PUT", "/%s/%s" % (bucket, key),
                          query=[("partNumber", str(n)), ("uploadId", uid)], headers=headers)

    def test_copy_parts_and_complete(self):
        make_bucket(self.d, "cp-dst")
        uid = self.create("cp-dst", "assembled")
        pieces = []
        r1 = self.copy_part("cp-dst", "assembled", uid, 1, "cp-src/big", "bytes=0-5242879")
        pieces.append(self.big[:5 * MiB])
        self.assertEqual(r1["ETag"], '"%s"' % md5hex(pieces[-1]))
        self.assertTrue(r1.get("LastModified"))
        # An unaligned range from the middle (cuts chunks at both ends).
        r2 = self.copy_part("cp-dst", "assembled", uid, 2, "/cp-src/big", "bytes=6000001-12000000")
        pieces.append(self.big[6000001:12000001])
        self.assertEqual(r2["ETag"], '"%s"' % md5hex(pieces[-1]))
        # An ordinary part in between.
        p3 = data_of(5 * MiB, "copy-own-part")
        path = self.write("own", p3)
        r3 = self.api("upload-part", "--bucket", "cp-dst", "--key", "assembled", "--upload-id", uid,
                      "--part-number", "3", "--body", path)
        pieces.append(p3)
        # The whole of another object (key with a slash), as the last part.
        r4 = self.copy_part("cp-dst", "assembled", uid, 4, "cp-src/dir/small")
        pieces.append(self.small)
        self.assertEqual(r4["ETag"], '"%s"' % md5hex(self.small))
        lp = self.api("list-parts", "--bucket", "cp-dst", "--key", "assembled", "--upload-id", uid)
        self.assertEqual([(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]],
                         [(n, len(d), '"%s"' % md5hex(d)) for n, d in enumerate(pieces, 1)])
        etags = [r1["ETag"], r2["ETag"], r3["ETag"], r4["ETag"]]
        done = self.api("complete-multipart-upload", "--bucket", "cp-dst", "--key", "assembled",
                        "--upload-id", uid, "--multipart-upload", json.dumps(
                            {"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]}))
        self.assertEqual(done["ETag"], multipart_etag(pieces))
        _, got = self.get("cp-dst", "assembled")
        self.assertEqual(len(got), sum(map(len, pieces)))
        self.assertEqual(got, b"".join(pieces))
        # The source is untouched.
        _, src = self.get("cp-src", "big")
        self.assertEqual(src, self.big)

    def test_copy_within_bucket_and_snapshot(self):
        # Source in the destination bucket; overwriting the source after
        # the part was made does not change the part.
        make_bucket(self.d, "cp-same")
        old = data_of(6 * MiB, "copy-old")
        put_object(self.d, "cp-same", "src", old)
        uid = self.create("cp-same", "dst")
        e1 = self.copy_part("cp-same", "dst", uid, 1, "cp-same/src")["ETag"]
        e2 = self.copy_part("cp-same", "dst", uid, 2, "cp-same/src", "bytes=100-199")["ETag"]
        put_object(self.d, "cp-same", "src", data_of(6 * MiB, "copy-new"))
        self.api("complete-multipart-upload", "--bucket", "cp-same", "--key", "dst", "--upload-id", uid,
                 "--multipart-upload", json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1},
                                                             {"PartNumber": 2, "ETag": e2}]}))
        _, got = self.get("cp-same", "dst")
        self.assertEqual(got, old + old[100:200])

    def test_copy_part_with_upload_checksum(self):
        make_bucket(self.d, "cp-ck")
        uid = self.create("cp-ck", "c", "--checksum-algorithm", "CRC32")
        r = self.copy_part("cp-ck", "c", uid, 1, "cp-src/big", "bytes=1-5242880")
        part = self.big[1:5242881]
        self.assertEqual(r["ETag"], '"%s"' % md5hex(part))
        self.assertEqual(r.get("ChecksumCRC32"), crc32_b64(part))
        lp = self.api("list-parts", "--bucket", "cp-ck", "--key", "c", "--upload-id", uid)
        self.assertEqual(lp["Parts"][0].get("ChecksumCRC32"), crc32_b64(part))
        self.assertEqual(lp.get("ChecksumAlgorithm"), "CRC32")
        done = self.api("complete-multipart-upload", "--bucket", "cp-ck", "--key", "c", "--upload-id", uid,
                        "--multipart-upload", json.dumps({"Parts": [
                            {"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}]}))
        composite = base64.b64encode(zlib.crc32(zlib.crc32(part).to_bytes(4, "big"))
                                     .to_bytes(4, "big")).decode() + "-1"
        self.assertEqual(done.get("ChecksumCRC32"), composite)

    def test_copy_errors(self):
        make_bucket(self.d, "cp-err")
        uid = self.create("cp-err", "k")
        size = len(self.big)

        def err(headers, n=1, uid_=None, key="k"):
            r = self.raw_copy("cp-err", key, uid_ or uid, n, headers)
            return r.status, r.code

        src = {"x-amz-copy-source": "/cp-src/big"}
        self.assertEqual(err(dict(src, **{"x-amz-copy-source-range": "bytes=0-%d" % size})),
                         (416, "InvalidRange"))
        self.assertEqual(err(dict(src, **{"x-amz-copy-source-range": "bytes=%d-%d" % (size, size + 5)})),
                         (416, "InvalidRange"))
        for bad in ("bytes=5-", "bytes=9-5", "bytes=-5", "5-9", "bytes=a-b"):
            self.assertEqual(err(dict(src, **{"x-amz-copy-source-range": bad})),
                             (400, "InvalidArgument"), bad)
        self.assertEqual(err({"x-amz-copy-source": "/cp-src/empty",
                              "x-amz-copy-source-range": "bytes=0-0"}), (416, "InvalidRange"))
        self.assertEqual(err({"x-amz-copy-source": "/cp-src/nothing"}), (404, "NoSuchKey"))
        self.assertEqual(err({"x-amz-copy-source": "/cp-nobucket/big"}), (404, "NoSuchBucket"))
        self.assertEqual(err(src, uid_="0" * 32), (404, "NoSuchUpload"))
        self.assertEqual(err(src, key="other"), (404, "NoSuchUpload"))
        etag = '"%s"' % md5hex(self.big)
        self.assertEqual(err(dict(src, **{"x-amz-copy-source-if-match": '"%s"' % ("0" * 32)})),
                         (412, "PreconditionFailed"))
        self.assertEqual(err(dict(src, **{"x-amz-copy-source-if-none-match": etag})),
                         (412, "PreconditionFailed"))
        self.assertEqual(err(dict(src, **{"x-amz-copy-source-if-unmodified-since":
                                          "Mon, 01 Jan 2001 00:00:00 GMT"})),
                         (412, "PreconditionFailed"))
        # None of the failures left a part behind.
        lp = self.api("list-parts", "--bucket", "cp-err", "--key", "k", "--upload-id", uid)
        self.assertEqual(lp.get("Parts", []), [])
        # Conditions that hold, and the empty object as a whole.
        r = self.raw_copy("cp-err", "k", uid, 1, dict(src, **{
            "x-amz-copy-source-if-match": etag,
            "x-amz-copy-source-if-modified-since": "Mon, 01 Jan 2001 00:00:00 GMT",
            "x-amz-copy-source-range": "bytes=10-19"}))
        self.assertEqual(r.status, 200, r)
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, NS + "CopyPartResult")
        self.assertEqual(root.findtext(NS + "ETag"), '"%s"' % md5hex(self.big[10:20]))
        r = self.raw_copy("cp-err", "k", uid, 2, {"x-amz-copy-source": "cp-src/empty"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(ET.fromstring(r.body).findtext(NS + "ETag"), '"%s"' % md5hex(b""))
        lp = self.api("list-parts", "--bucket", "cp-err", "--key", "k", "--upload-id", uid)
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in lp["Parts"]], [(1, 10), (2, 0)])


if __name__ == "__main__":
    unittest.main()


class TestUploadPartCopyLong(SharedDedupdCase):
    """A part copied from a multi-GiB range is digested (MD5 for its ETag,
    the upload's checksum) in 16 MiB steps, each its own worker job: with
    ONE worker thread, small GETs still complete while the copy runs. The
    source is a synthetic full made with `ddp synth` (metadata only) of a
    repeated 8 MiB object, so the test writes little. The part's ETag and
    CRC32 are checked against Python's over the whole range."""
    dedupd_config = "[server]\nworker_threads = 1\n"
    REPEATS = 64 if SANITIZED else 256  # x 8 MiB: 512 MiB / 2 GiB

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seed = data_of(8 * MiB, "pcl-seed")
        make_bucket(cls.d, "pcl")
        put_object(cls.d, "pcl", "seed", cls.seed)
        env = {"DDP_ENDPOINT": "%s:%d" % tuple(cls.d.ddp_addr),
               "DDP_ACCESS_KEY": cls.d.access_key, "DDP_SECRET_KEY": cls.d.secret_key}
        extents = ["seed@0+%d" % len(cls.seed)] * cls.REPEATS
        r = run_tool("ddp", "synth", "pcl:huge", *extents, env=env)
        if r.returncode != 0:
            raise AssertionError("ddp synth: %s" % r.stderr)

    def test_long_copy_leaves_the_worker_to_others(self):
        r = s3_request(self.d, "POST", "/pcl/dst", query=[("uploads", "")],
                       headers={"x-amz-checksum-algorithm": "CRC32"})
        self.assertEqual(r.status, 200, r)
        uid = ET.fromstring(r.body).findtext(NS + "UploadId")
        result = {}

        def copy():
            result["r"] = s3_request(self.d, "PUT", "/pcl/dst",
                                     query=[("partNumber", "1"), ("uploadId", uid)],
                                     headers={"x-amz-copy-source": "/pcl/huge"}, timeout=900)

        t = threading.Thread(target=copy)
        t.start()
        done_during = 0
        while t.is_alive():
            g = s3_request(self.d, "GET", "/pcl/seed", headers={"Range": "bytes=0-99"},
                           timeout=900)
            self.assertEqual(g.status, 206, g)
            self.assertEqual(g.body, self.seed[:100])
            if t.is_alive():
                done_during += 1
        t.join()
        # One worker: before the copy was cut into steps, a GET queued
        # behind it waited for the whole copy, so at most one finished.
        self.assertGreaterEqual(done_during, 3)
        r = result["r"]
        self.assertEqual(r.status, 200, r)
        md5, crc = hashlib.md5(), 0
        for _ in range(self.REPEATS):
            md5.update(self.seed)
            crc = zlib.crc32(self.seed, crc)
        res = ET.fromstring(r.body)
        self.assertEqual(res.findtext(NS + "ETag"), '"%s"' % md5.hexdigest())
        self.assertEqual(res.findtext(NS + "ChecksumCRC32"),
                         base64.b64encode(crc.to_bytes(4, "big")).decode())
        abort = s3_request(self.d, "DELETE", "/pcl/dst", query=[("uploadId", uid)])
        self.assertEqual(abort.status, 204, abort)
