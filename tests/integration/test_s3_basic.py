"""S3 end to end: Debian's aws CLI v2 (and rclone) against a real dedupd.

Covers buckets (create, list, head, location, delete, BucketNotEmpty),
objects (PutObject, multipart through `aws s3 cp` of a 20 MiB file,
GetObject whole and ranged, HeadObject, DeleteObject), listings (V2 with
prefix, delimiter, pagination, start-after, encoding-type=url; V1),
errors (SignatureDoesNotMatch, InvalidAccessKeyId, NoSuchKey, NoSuchBucket,
InvalidRange, BadDigest) and persistence across a restart.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import zlib

from harness import Dedupd, DedupdTestCase
from clients import aws, rclone


def write_random(path, size, seed):
    """Writes size deterministic pseudo-random bytes; returns them."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 32
    data = bytes(out[:size])
    with open(path, "wb") as f:
        f.write(data)
    return data


class S3Case(DedupdTestCase):
    def aws_ok(self, *args, **kw):
        r = aws(self.d, *args, **kw)
        self.assertEqual(r.returncode, 0,
                         "aws %s failed:\n%s\n%s" % (args, r.stdout, r.stderr))
        return r

    def aws_json(self, *args, **kw):
        out = self.aws_ok(*args, **kw).stdout
        return json.loads(out) if out.strip() else {}

    def aws_fail(self, code, *args, **kw):
        r = aws(self.d, *args, **kw)
        self.assertNotEqual(r.returncode, 0, "aws %s succeeded" % (args,))
        self.assertIn(code, r.stderr, "aws %s: %s" % (args, r.stderr))
        return r

    def path(self, name):
        return os.path.join(self.d.tmp, name)


class TestBuckets(S3Case):
    def test_bucket_lifecycle(self):
        self.aws_ok("s3", "mb", "s3://alpha")
        self.aws_ok("s3", "mb", "s3://beta")
        names = [b["Name"] for b in self.aws_json("s3api", "list-buckets")["Buckets"]]
        self.assertEqual(names, ["alpha", "beta"])
        self.aws_fail("BucketAlreadyOwnedByYou", "s3api", "create-bucket",
                      "--bucket", "alpha")
        self.aws_ok("s3api", "head-bucket", "--bucket", "alpha")
        loc = self.aws_json("s3api", "get-bucket-location", "--bucket", "alpha")
        self.assertIn(loc.get("LocationConstraint"), (None, "", "us-east-1"))
        self.aws_fail("InvalidBucketName", "s3api", "create-bucket",
                      "--bucket", "Bad_Name")

        self.aws_ok("s3api", "put-object", "--bucket", "alpha", "--key", "k",
                    "--body", __file__)
        self.aws_fail("BucketNotEmpty", "s3", "rb", "s3://alpha")
        self.aws_ok("s3", "rm", "s3://alpha/k")
        self.aws_ok("s3", "rb", "s3://alpha")
        r = self.aws_fail("404", "s3api", "head-bucket", "--bucket", "alpha")
        self.aws_fail("NoSuchBucket", "s3api", "list-objects-v2", "--bucket", "alpha")
        names = [b["Name"] for b in self.aws_json("s3api", "list-buckets")["Buckets"]]
        self.assertEqual(names, ["beta"])


class TestObjects(S3Case):
    def setUp(self):
        super().setUp()
        self.aws_ok("s3", "mb", "s3://data")

    def test_small_and_multipart_roundtrip(self):
        small = write_random(self.path("small"), 100_000, "small")
        big = write_random(self.path("big"), 20 << 20, "big")
        self.aws_ok("s3", "cp", self.path("small"), "s3://data/dir/small.bin")
        self.aws_ok("s3", "cp", self.path("big"), "s3://data/dir/big.bin")
        self.aws_ok("s3", "cp", "s3://data/dir/small.bin", self.path("small.back"))
        self.aws_ok("s3", "cp", "s3://data/dir/big.bin", self.path("big.back"))
        with open(self.path("small.back"), "rb") as f:
            self.assertEqual(f.read(), small)
        with open(self.path("big.back"), "rb") as f:
            self.assertEqual(f.read(), big)
        h = self.aws_json("s3api", "head-object", "--bucket", "data",
                          "--key", "dir/small.bin")
        self.assertEqual(h["ContentLength"], len(small))
        self.assertEqual(h["ETag"], '"%s"' % hashlib.md5(small).hexdigest())
        h = self.aws_json("s3api", "head-object", "--bucket", "data",
                          "--key", "dir/big.bin")
        self.assertEqual(h["ContentLength"], len(big))
        # aws s3 cp uploads 20 MiB in 8 MiB parts: multipart ETag "-3".
        self.assertRegex(h["ETag"], r'^"[0-9a-f]{32}-3"$')

    def test_put_object_metadata_and_digests(self):
        data = write_random(self.path("obj"), 4097, "meta")
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        put = self.aws_json("s3api", "put-object", "--bucket", "data",
                            "--key", "m/obj", "--body", self.path("obj"),
                            "--content-type", "application/x-test",
                            "--content-md5", md5,
                            "--metadata", "color=blue,Size-Class=XL")
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(data).hexdigest())
        h = self.aws_json("s3api", "head-object", "--bucket", "data",
                          "--key", "m/obj")
        self.assertEqual(h["ContentType"], "application/x-test")
        self.assertEqual(h["Metadata"], {"color": "blue", "size-class": "XL"})
        self.assertEqual(h["ContentLength"], 4097)
        self.assertTrue(h["LastModified"])
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        self.aws_fail("BadDigest", "s3api", "put-object", "--bucket", "data",
                      "--key", "m/bad", "--body", self.path("obj"),
                      "--content-md5", wrong)
        self.aws_fail("404", "s3api", "head-object", "--bucket", "data",
                      "--key", "m/bad")

    def test_checksum_and_conditionals(self):
        data = write_random(self.path("ck"), 10_000, "ck")
        crc = base64.b64encode(
            (__import__("zlib").crc32(data) & 0xffffffff).to_bytes(4, "big")).decode()
        put = self.aws_json("s3api", "put-object", "--bucket", "data", "--key", "ck",
                            "--body", self.path("ck"), "--checksum-algorithm", "CRC32")
        self.assertEqual(put.get("ChecksumCRC32"), crc)
        h = self.aws_json("s3api", "head-object", "--bucket", "data", "--key", "ck",
                          "--checksum-mode", "ENABLED")
        self.assertEqual(h.get("ChecksumCRC32"), crc)
        h = self.aws_json("s3api", "head-object", "--bucket", "data", "--key", "ck")
        self.assertNotIn("ChecksumCRC32", h)
        etag = h["ETag"]
        self.aws_fail("304", "s3api", "head-object", "--bucket", "data",
                      "--key", "ck", "--if-none-match", etag)
        self.aws_fail("412", "s3api", "head-object", "--bucket", "data",
                      "--key", "ck", "--if-match", '"0123"')
        self.aws_ok("s3api", "head-object", "--bucket", "data", "--key", "ck",
                    "--if-match", etag)

    def test_multipart_abort(self):
        up = self.aws_json("s3api", "create-multipart-upload", "--bucket", "data",
                           "--key", "mp")
        uid = up["UploadId"]
        self.assertRegex(uid, r"^[0-9a-f]{32}$")
        p1 = write_random(self.path("p1"), 12345, "p1")
        part = self.aws_json("s3api", "upload-part", "--bucket", "data", "--key", "mp",
                             "--upload-id", uid, "--part-number", "1",
                             "--body", self.path("p1"))
        self.assertEqual(part["ETag"], '"%s"' % hashlib.md5(p1).hexdigest())
        # An open upload keeps the bucket from being deleted; parts never list.
        self.aws_fail("BucketNotEmpty", "s3", "rb", "s3://data")
        r = self.aws_json("s3api", "list-objects-v2", "--bucket", "data")
        self.assertNotIn("Contents", r)
        self.aws_fail("InvalidPart", "s3api", "complete-multipart-upload",
                      "--bucket", "data", "--key", "mp", "--upload-id", uid,
                      "--multipart-upload",
                      '{"Parts":[{"PartNumber":1,"ETag":"\\"00\\""}]}')
        self.aws_ok("s3api", "abort-multipart-upload", "--bucket", "data",
                    "--key", "mp", "--upload-id", uid)
        self.aws_fail("NoSuchUpload", "s3api", "upload-part", "--bucket", "data",
                      "--key", "mp", "--upload-id", uid, "--part-number", "2",
                      "--body", __file__)
        self.aws_fail("NoSuchUpload", "s3api", "abort-multipart-upload",
                      "--bucket", "data", "--key", "mp", "--upload-id", uid)
        self.aws_ok("s3", "rb", "s3://data")

    def test_list_parts(self):
        uid = self.aws_json("s3api", "create-multipart-upload", "--bucket", "data",
                            "--key", "lp")["UploadId"]
        datas = {}
        for n in (1, 2, 3):
            datas[n] = write_random(self.path("p%d" % n), 1000 + n, "lp%d" % n)
            args = ["s3api", "upload-part", "--bucket", "data", "--key", "lp",
                    "--upload-id", uid, "--part-number", str(n),
                    "--body", self.path("p%d" % n)]
            if n == 2:
                args += ["--checksum-algorithm", "CRC32"]
            self.aws_ok(*args)
        r = self.aws_json("s3api", "list-parts", "--bucket", "data", "--key", "lp",
                          "--upload-id", uid)
        parts = r["Parts"]
        self.assertEqual([p["PartNumber"] for p in parts], [1, 2, 3])
        for p in parts:
            d = datas[p["PartNumber"]]
            self.assertEqual(p["Size"], len(d))
            self.assertEqual(p["ETag"], '"%s"' % hashlib.md5(d).hexdigest())
            self.assertIn("LastModified", p)
        crc = base64.b64encode(zlib.crc32(datas[2]).to_bytes(4, "big")).decode()
        self.assertEqual(parts[1].get("ChecksumCRC32"), crc)
        self.assertNotIn("ChecksumCRC32", parts[0])
        # Paging: two per page, then the rest after the marker.
        r = self.aws_json("s3api", "list-parts", "--bucket", "data", "--key", "lp",
                          "--upload-id", uid, "--max-parts", "2", "--no-paginate")
        self.assertEqual([p["PartNumber"] for p in r["Parts"]], [1, 2])
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(int(r["NextPartNumberMarker"]), 2)
        r = self.aws_json("s3api", "list-parts", "--bucket", "data", "--key", "lp",
                          "--upload-id", uid, "--max-parts", "2",
                          "--part-number-marker", "2", "--no-paginate")
        self.assertEqual([p["PartNumber"] for p in r["Parts"]], [3])
        self.assertFalse(r["IsTruncated"])
        self.aws_fail("NoSuchUpload", "s3api", "list-parts", "--bucket", "data",
                      "--key", "lp", "--upload-id", "0" * 32)
        self.aws_ok("s3api", "abort-multipart-upload", "--bucket", "data",
                    "--key", "lp", "--upload-id", uid)
        self.aws_fail("NoSuchUpload", "s3api", "list-parts", "--bucket", "data",
                      "--key", "lp", "--upload-id", uid)

    def test_list_multipart_uploads(self):
        ids = {}
        for key in ("a/1", "a/2", "a/2", "b/1"):
            uid = self.aws_json("s3api", "create-multipart-upload", "--bucket",
                                "data", "--key", key)["UploadId"]
            ids.setdefault(key, []).append(uid)
        want = sorted((k, u) for k, us in ids.items() for u in us)
        r = self.aws_json("s3api", "list-multipart-uploads", "--bucket", "data")
        got = [(u["Key"], u["UploadId"]) for u in r["Uploads"]]
        self.assertEqual(got, want)
        self.assertTrue(all("Initiated" in u for u in r["Uploads"]))
        r = self.aws_json("s3api", "list-multipart-uploads", "--bucket", "data",
                          "--prefix", "a/")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]],
                         [w for w in want if w[0].startswith("a/")])
        # Paging by key-marker / upload-id-marker, two per page.
        r = self.aws_json("s3api", "list-multipart-uploads", "--bucket", "data",
                          "--max-uploads", "2", "--no-paginate")
        self.assertTrue(r["IsTruncated"])
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]], want[:2])
        self.assertEqual((r["NextKeyMarker"], r["NextUploadIdMarker"]), want[1])
        r = self.aws_json("s3api", "list-multipart-uploads", "--bucket", "data",
                          "--max-uploads", "2", "--no-paginate",
                          "--key-marker", want[1][0],
                          "--upload-id-marker", want[1][1])
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]], want[2:])
        self.assertFalse(r["IsTruncated"])
        # key-marker alone skips every upload of that key.
        r = self.aws_json("s3api", "list-multipart-uploads", "--bucket", "data",
                          "--key-marker", "a/2")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]],
                         [w for w in want if w[0] > "a/2"])
        # Completed and aborted uploads are gone from the listing.
        self.aws_ok("s3api", "abort-multipart-upload", "--bucket", "data",
                    "--key", "b/1", "--upload-id", ids["b/1"][0])
        uid = ids["a/1"][0]
        write_random(self.path("c1"), 100, "c1")
        part = self.aws_json("s3api", "upload-part", "--bucket", "data",
                             "--key", "a/1", "--upload-id", uid,
                             "--part-number", "1", "--body", self.path("c1"))
        self.aws_ok("s3api", "complete-multipart-upload", "--bucket", "data",
                    "--key", "a/1", "--upload-id", uid, "--multipart-upload",
                    json.dumps({"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}))
        r = self.aws_json("s3api", "list-multipart-uploads", "--bucket", "data")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in r["Uploads"]],
                         [w for w in want if w[0] == "a/2"])

    def test_create_multipart_checksum_algorithm(self):
        r = self.aws_json("s3api", "create-multipart-upload", "--bucket", "data",
                          "--key", "ck", "--checksum-algorithm", "CRC32C")
        self.assertEqual(r.get("ChecksumAlgorithm"), "CRC32C")
        uid = r["UploadId"]
        d = write_random(self.path("ck1"), 500, "ck1")
        part = self.aws_json("s3api", "upload-part", "--bucket", "data",
                             "--key", "ck", "--upload-id", uid,
                             "--part-number", "1", "--body", self.path("ck1"),
                             "--checksum-algorithm", "CRC32C")
        self.assertIn("ChecksumCRC32C", part)
        self.aws_ok("s3api", "complete-multipart-upload", "--bucket", "data",
                    "--key", "ck", "--upload-id", uid, "--multipart-upload",
                    json.dumps({"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                           "ChecksumCRC32C": part["ChecksumCRC32C"]}]}))
        # The remembered algorithm is the upload's, never an object header.
        h = self.aws_json("s3api", "head-object", "--bucket", "data", "--key", "ck",
                          "--checksum-mode", "ENABLED")
        self.assertEqual(h["ContentLength"], len(d))
        self.assertNotIn("ChecksumAlgorithm", h)
        # Without the header nothing is echoed.
        r = self.aws_json("s3api", "create-multipart-upload", "--bucket", "data",
                          "--key", "ck2")
        self.assertNotIn("ChecksumAlgorithm", r)

    def signed_headers(self, method, path, headers):
        """SigV4 headers (UNSIGNED-PAYLOAD) for a raw request to dedupd,
        signed by the suite's own signer (clients.sigv4_headers)."""
        import urllib.parse
        from clients import sigv4_headers
        host = urllib.parse.urlparse(self.d.s3_url).netloc
        h = sigv4_headers(method, host, path, [], headers, "UNSIGNED-PAYLOAD",
                          self.d.access_key, self.d.secret_key)
        return {("Authorization" if k == "authorization" else k): v
                for k, v in h.items()}

    def test_put_over_5gib_refused_from_headers(self):
        import http.client
        import urllib.parse
        u = urllib.parse.urlparse(self.d.s3_url)
        size = (5 << 30) + 1
        for name in ("Content-Length", "x-amz-decoded-content-length"):
            hdrs = {"Expect": "100-continue"}
            if name == "Content-Length":
                hdrs["Content-Length"] = str(size)
            else:
                hdrs["Content-Length"] = "1000"
                hdrs[name] = str(size)
            hdrs = self.signed_headers("PUT", "/data/huge", hdrs)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            c.putrequest("PUT", "/data/huge", skip_host=True,
                         skip_accept_encoding=True)
            c.putheader("Host", u.netloc)
            for k, v in hdrs.items():
                if k.lower() != "host":
                    c.putheader(k, v)
            c.endheaders()  # no body: the answer must come from the headers
            r = c.getresponse()
            body = r.read().decode()
            c.close()
            self.assertEqual(r.status, 400, body)
            self.assertIn("<Code>EntityTooLarge</Code>", body)
        self.aws_fail("404", "s3api", "head-object", "--bucket", "data",
                      "--key", "huge")
        # Auth comes first, as AWS: a wrong signature answers 403, not 400.
        hdrs = self.signed_headers("PUT", "/data/huge", {
            "Expect": "100-continue", "Content-Length": str(size)})
        hdrs["Authorization"] = hdrs["Authorization"][:-4] + "0000"
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.putrequest("PUT", "/data/huge", skip_host=True, skip_accept_encoding=True)
        c.putheader("Host", u.netloc)
        for k, v in hdrs.items():
            if k.lower() != "host":
                c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        self.assertEqual(r.status, 403, body)
        self.assertIn("SignatureDoesNotMatch", body)

    def test_copy_and_batch_delete(self):
        data = write_random(self.path("cp"), 50_000, "copy")
        self.aws_ok("s3api", "put-object", "--bucket", "data", "--key", "src",
                    "--body", self.path("cp"), "--content-type", "text/x-src",
                    "--metadata", "a=1")
        self.aws_ok("s3", "mb", "s3://other")
        self.aws_ok("s3api", "copy-object", "--bucket", "other", "--key", "dst",
                    "--copy-source", "data/src")
        h = self.aws_json("s3api", "head-object", "--bucket", "other", "--key", "dst")
        self.assertEqual(h["ContentType"], "text/x-src")
        self.assertEqual(h["Metadata"], {"a": "1"})
        self.assertEqual(h["ETag"], '"%s"' % hashlib.md5(data).hexdigest())
        self.aws_ok("s3api", "copy-object", "--bucket", "data", "--key", "src",
                    "--copy-source", "data/src", "--metadata-directive", "REPLACE",
                    "--content-type", "text/x-new", "--metadata", "b=2")
        h = self.aws_json("s3api", "head-object", "--bucket", "data", "--key", "src")
        self.assertEqual((h["ContentType"], h["Metadata"]), ("text/x-new", {"b": "2"}))
        self.aws_fail("InvalidRequest", "s3api", "copy-object", "--bucket", "data",
                      "--key", "src", "--copy-source", "data/src")
        self.aws_fail("NoSuchKey", "s3api", "copy-object", "--bucket", "data",
                      "--key", "x", "--copy-source", "data/none")
        self.aws_ok("s3", "cp", "s3://other/dst", self.path("cp.back"))
        with open(self.path("cp.back"), "rb") as f:
            self.assertEqual(f.read(), data)
        r = self.aws_json("s3api", "delete-objects", "--bucket", "data", "--delete",
                          '{"Objects":[{"Key":"src"},{"Key":"missing"}]}')
        self.assertEqual(sorted(o["Key"] for o in r["Deleted"]), ["missing", "src"])
        self.aws_fail("NoSuchKey", "s3api", "get-object", "--bucket", "data",
                      "--key", "src", self.path("x"))
        # The copy is independent of its deleted source.
        self.aws_ok("s3", "cp", "s3://other/dst", self.path("cp.back2"))
        with open(self.path("cp.back2"), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_ranged_get(self):
        data = write_random(self.path("r"), 300_000, "range")
        self.aws_ok("s3api", "put-object", "--bucket", "data", "--key", "r",
                    "--body", self.path("r"))
        for rng, want in (("bytes=0-0", data[0:1]),
                          ("bytes=1000-200999", data[1000:201000]),
                          ("bytes=299990-", data[299990:]),
                          ("bytes=-7", data[-7:]),
                          ("bytes=299000-999999", data[299000:])):
            out = self.path("r.part")
            g = self.aws_json("s3api", "get-object", "--bucket", "data",
                              "--key", "r", "--range", rng, out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), want, rng)
            self.assertEqual(g["ContentLength"], len(want))
            self.assertTrue(g["ContentRange"].endswith("/300000"), g)
        self.aws_fail("InvalidRange", "s3api", "get-object", "--bucket", "data",
                      "--key", "r", "--range", "bytes=300000-", self.path("x"))

    def test_missing_keys_and_delete(self):
        self.aws_fail("NoSuchKey", "s3api", "get-object", "--bucket", "data",
                      "--key", "nope", self.path("x"))
        self.aws_fail("404", "s3api", "head-object", "--bucket", "data",
                      "--key", "nope")
        # DeleteObject of a missing key succeeds (204), as S3.
        self.aws_ok("s3api", "delete-object", "--bucket", "data", "--key", "nope")
        self.aws_ok("s3api", "put-object", "--bucket", "data", "--key", "gone",
                    "--body", __file__)
        self.aws_ok("s3api", "delete-object", "--bucket", "data", "--key", "gone")
        self.aws_fail("NoSuchKey", "s3api", "get-object", "--bucket", "data",
                      "--key", "gone", self.path("x"))
        self.aws_fail("NoSuchBucket", "s3api", "get-object", "--bucket", "nobucket",
                      "--key", "k", self.path("x"))

    def test_bad_credentials(self):
        self.aws_fail("SignatureDoesNotMatch", "s3", "ls",
                      secret_key="wrong-secret-key-0123456789abcdef")
        self.aws_fail("InvalidAccessKeyId", "s3", "ls",
                      access_key="AKIANOSUCHKEY000")


class TestWire(S3Case):
    """Raw HTTP: anonymous requests, error documents, common headers."""

    def request(self, method, path):
        import http.client
        host, port = self.d.addrs["s3"]
        c = http.client.HTTPConnection(host, port, timeout=10)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def test_anonymous_refused_with_error_document(self):
        status, h, body = self.request("GET", "/")
        self.assertEqual(status, 403)
        self.assertRegex(h["x-amz-request-id"], r"^[0-9A-F]{16}$")
        self.assertTrue(h["date"].endswith("GMT"))
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertIn(("<RequestId>%s</RequestId>" % h["x-amz-request-id"]).encode(), body)
        # HEAD errors carry the status only.
        status, h, body = self.request("HEAD", "/some-bucket/key")
        self.assertEqual(status, 403)
        self.assertEqual(body, b"")
        self.assertIn("x-amz-request-id", h)
        # Unsupported sub-resources are refused before anything else.
        status, h, body = self.request("GET", "/some-bucket?versioning")
        self.assertEqual(status, 501)
        self.assertIn(b"<Code>NotImplemented</Code>", body)


class TestListing(S3Case):
    KEYS = ["a/1", "a/2", "a/sub/3", "b/1", "c", "d e+f", "z"]

    def setUp(self):
        super().setUp()
        self.aws_ok("s3", "mb", "s3://lst")
        tree = self.path("tree")
        for i, k in enumerate(self.KEYS):
            os.makedirs(os.path.dirname(os.path.join(tree, k)), exist_ok=True)
            write_random(os.path.join(tree, k), 1000 + i, k)
        self.aws_ok("s3", "cp", "--recursive", tree, "s3://lst/")

    def list2(self, *extra):
        return self.aws_json("s3api", "list-objects-v2", "--bucket", "lst",
                             "--no-paginate", *extra)

    def test_prefix_and_delimiter(self):
        r = self.list2("--delimiter", "/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["c", "d e+f", "z"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/", "b/"])
        self.assertFalse(r["IsTruncated"])
        r = self.list2("--prefix", "a/", "--delimiter", "/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a/1", "a/2"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/sub/"])
        r = self.list2("--prefix", "a/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["a/1", "a/2", "a/sub/3"])
        self.assertEqual(r["KeyCount"], 3)
        self.assertEqual([c["Size"] for c in r["Contents"]], [1000, 1001, 1002])
        r = self.list2("--start-after", "b/1")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["c", "d e+f", "z"])
        # encoding-type=url asked for explicitly: the CLI shows keys as sent.
        r = self.list2("--encoding-type", "url", "--prefix", "d")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["d%20e%2Bf"])
        self.assertEqual(r["EncodingType"], "url")

    def test_pagination(self):
        seen, token, pages = [], None, 0
        while True:
            extra = ["--max-keys", "2"]
            if token:
                extra += ["--continuation-token", token]
            r = self.list2(*extra)
            pages += 1
            seen += [c["Key"] for c in r.get("Contents", [])]
            if not r["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", r)
                break
            token = r["NextContinuationToken"]
            self.assertTrue(token)
        self.assertEqual(seen, self.KEYS)
        self.assertEqual(pages, 4)
        # The CLI's own paginator walks the same pages.
        r = self.aws_ok("s3", "ls", "--recursive", "--page-size", "3", "s3://lst/")
        self.assertEqual([l.split(None, 3)[3] for l in r.stdout.splitlines()],
                         self.KEYS)

    def test_list_objects_v1(self):
        r = self.aws_json("s3api", "list-objects", "--bucket", "lst",
                          "--no-paginate", "--delimiter", "/")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["c", "d e+f", "z"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["a/", "b/"])
        r = self.aws_json("s3api", "list-objects", "--bucket", "lst",
                          "--no-paginate", "--marker", "c")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["d e+f", "z"])


class TestPersistence(unittest.TestCase):
    def test_data_survives_restart(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-s3-restart-")
        data_dir = os.path.join(tmp, "data")
        try:
            with Dedupd(data_dir=data_dir) as d:
                src = os.path.join(d.tmp, "f")
                data = write_random(src, 1 << 20, "restart")
                for args in (("s3", "mb", "s3://keep"),
                             ("s3", "cp", src, "s3://keep/x/f")):
                    r = aws(d, *args)
                    self.assertEqual(r.returncode, 0, r.stderr)
            # Same data dir, fresh process: the catalog's root user, the
            # bucket and the object are all still there.
            with Dedupd(data_dir=data_dir) as d:
                out = os.path.join(d.tmp, "back")
                r = aws(d, "s3", "cp", "s3://keep/x/f", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), data)
                r = aws(d, "s3api", "list-buckets")
                self.assertEqual([b["Name"] for b in json.loads(r.stdout)["Buckets"]],
                                 ["keep"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


@unittest.skipUnless(shutil.which("rclone"), "rclone not installed")
class TestRclone(S3Case):
    def setUp(self):
        super().setUp()
        # rclone reads AWS_* from the environment (AWS_CA_BUNDLE breaks its
        # plain-HTTP transport); the remote's config is all it needs.
        saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        for k in saved:
            del os.environ[k]
        self.addCleanup(os.environ.update, saved)

    def test_copy_and_check(self):
        src = self.path("tree")
        os.makedirs(os.path.join(src, "sub"))
        write_random(os.path.join(src, "a.bin"), 70_000, "ra")
        write_random(os.path.join(src, "sub", "b.bin"), 3 << 20, "rb")
        write_random(os.path.join(src, "empty"), 0, "re")
        self.aws_ok("s3", "mb", "s3://rcl")
        r = rclone(self.d, "copy", src, "dd:rcl/tree")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = rclone(self.d, "check", src, "dd:rcl/tree")
        self.assertEqual(r.returncode, 0, r.stderr)
        dst = self.path("tree.back")
        r = rclone(self.d, "copy", "dd:rcl/tree", dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(["diff", "-r", src, dst], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)


if __name__ == "__main__":
    unittest.main()
