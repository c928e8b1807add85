"""Per-part checksums of multipart uploads (issue #4), against a real dedupd:
the aws CLI (create-multipart-upload --checksum-algorithm, upload-part
--checksum-algorithm, complete with per-part ChecksumXXX, head-object
--checksum-mode ENABLED) and raw signed requests for what the CLI here
(2.9) cannot send (x-amz-checksum-type, parts without a checksum).

- COMPOSITE (CRC32, SHA256): Complete returns "<b64 of checksum of the
  concatenated part checksums>-N" and ChecksumType COMPOSITE; HEAD/GET with
  checksum mode ENABLED return it with x-amz-checksum-type, a ranged GET
  does not; ListParts shows ChecksumAlgorithm/ChecksumType and each part's
  checksum.
- FULL_OBJECT (CRC32 asked for, CRC64NVME by default): parts may come
  without a checksum (computed), Complete returns the CRC of the whole
  object (checked against zlib / a Python CRC-64/NVME).
- Errors: a part without checksum or with another algorithm on a COMPOSITE
  upload (InvalidRequest), a part checksum missing in Complete
  (InvalidRequest) or wrong (InvalidPart), parts not 1..N (InvalidPartOrder),
  Complete's x-amz-checksum-type or full-object checksum not matching
  (BadDigest), algorithm/type combinations AWS refuses (InvalidRequest),
  a wrong part checksum on UploadPart (BadDigest).
"""
import base64
import hashlib
import json
import unittest
import xml.etree.ElementTree as ET
import zlib

from clients import AwsCliCase, crc32_b64, data_of, make_bucket, s3_request

MiB = 1024 * 1024
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _crc64_table():
    poly, t = 0x9A6C9329AC4BC9B5, []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T64 = _crc64_table()


def crc64nvme(data):
    """CRC-64/NVME (check value of b"123456789": 0xae8b14860a799888)."""
    c = 0xFFFFFFFFFFFFFFFF
    t = _T64
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


def b64(raw):
    return base64.b64encode(raw).decode()


def composite(digests):
    """COMPOSITE value for CRC32 part digests (raw bytes)."""
    return b64(zlib.crc32(b"".join(digests)).to_bytes(4, "big")) + "-%d" % len(digests)


def complete_xml(parts):
    body = "<CompleteMultipartUpload>"
    for p in parts:
        body += "<Part>" + "".join("<%s>%s</%s>" % (k, v, k) for k, v in p.items()) + "</Part>"
    return (body + "</CompleteMultipartUpload>").encode()


class TestMultipartChecksums(AwsCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parts = [data_of(5 * MiB, "ck-p1"), data_of(5 * MiB + 11, "ck-p2"), data_of(77777, "ck-p3")]
        assert crc64nvme(b"123456789") == 0xAE8B14860A799888

    # -- raw helpers ---------------------------------------------------------
    def raw_create(self, bucket, key, headers):
        r = s3_request(self.d, "POST", "/%s/%s" % (bucket, key), query=[("uploads", "")],
                       headers=headers)
        return r, (ET.fromstring(r.body).findtext(NS + "UploadId") if r.status == 200 else None)

    def raw_part(self, bucket, key, uid, n, data, headers=None):
        return s3_request(self.d, "PUT", "/%s/%s" % (bucket, key),
                          query=[("partNumber", str(n)), ("uploadId", uid)],
                          headers=headers or {}, body=data)

    def raw_complete(self, bucket, key, uid, parts, headers=None):
        return s3_request(self.d, "POST", "/%s/%s" % (bucket, key), query=[("uploadId", uid)],
                          headers=headers or {}, body=complete_xml(parts))

    def cli_parts(self, bucket, key, uid, alg):
        out = []
        for n, data in enumerate(self.parts, 1):
            path = self.write("ckpart-%d" % n, data)
            r = self.api("upload-part", "--bucket", bucket, "--key", key, "--upload-id", uid,
                         "--part-number", str(n), "--body", path, "--checksum-algorithm", alg)
            out.append({"PartNumber": n, "ETag": r["ETag"],
                        "Checksum" + alg: r["Checksum" + alg]})
        return out

    # -- COMPOSITE through the CLI ---------------------------------------------
    def test_composite_crc32_cli(self):
        make_bucket(self.d, "ck-comp")
        up = self.api("create-multipart-upload", "--bucket", "ck-comp", "--key", "o",
                      "--checksum-algorithm", "CRC32")
        uid = up["UploadId"]
        parts = self.cli_parts("ck-comp", "o", uid, "CRC32")
        self.assertEqual([p["ChecksumCRC32"] for p in parts], [crc32_b64(d) for d in self.parts])
        lp = self.api("list-parts", "--bucket", "ck-comp", "--key", "o", "--upload-id", uid)
        self.assertEqual(lp.get("ChecksumAlgorithm"), "CRC32")
        self.assertEqual([p.get("ChecksumCRC32") for p in lp["Parts"]],
                         [crc32_b64(d) for d in self.parts])
        r = s3_request(self.d, "GET", "/ck-comp/o", query=[("uploadId", uid)])
        self.assertEqual(ET.fromstring(r.body).findtext(NS + "ChecksumType"), "COMPOSITE")
        done = self.api("complete-multipart-upload", "--bucket", "ck-comp", "--key", "o",
                        "--upload-id", uid, "--multipart-upload", json.dumps({"Parts": parts}))
        want = composite([zlib.crc32(d).to_bytes(4, "big") for d in self.parts])
        self.assertEqual(done.get("ChecksumCRC32"), want)
        head = self.api("head-object", "--bucket", "ck-comp", "--key", "o", "--checksum-mode", "ENABLED")
        self.assertEqual(head.get("ChecksumCRC32"), want)
        self.assertEqual(head["ContentLength"], sum(map(len, self.parts)))
        # Raw: the header and its type; only with the mode, only on a full 200.
        r = s3_request(self.d, "HEAD", "/ck-comp/o", headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual((r.headers.get("x-amz-checksum-crc32"), r.headers.get("x-amz-checksum-type")),
                         (want, "COMPOSITE"))
        r = s3_request(self.d, "HEAD", "/ck-comp/o")
        self.assertNotIn("x-amz-checksum-crc32", r.headers)
        self.assertNotIn("x-amz-checksum-type", r.headers)
        self.assertNotIn("x-amz-checksum-algorithm", r.headers)
        r = s3_request(self.d, "GET", "/ck-comp/o", headers={"x-amz-checksum-mode": "ENABLED",
                                                            "Range": "bytes=0-9"})
        self.assertEqual(r.status, 206)
        self.assertNotIn("x-amz-checksum-crc32", r.headers)
        meta, got = self.get("ck-comp", "o", "--checksum-mode", "ENABLED")
        self.assertEqual(got, b"".join(self.parts))
        self.assertEqual(meta.get("ChecksumCRC32"), want)

    def test_composite_sha256_raw(self):
        make_bucket(self.d, "ck-sha")
        r, uid = self.raw_create("ck-sha", "s", {"x-amz-checksum-algorithm": "SHA256"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("x-amz-checksum-algorithm"), "SHA256")
        self.assertEqual(r.headers.get("x-amz-checksum-type"), "COMPOSITE")
        parts, digs = [], []
        for n, data in enumerate(self.parts, 1):
            dg = hashlib.sha256(data).digest()
            pr = self.raw_part("ck-sha", "s", uid, n, data, {"x-amz-checksum-sha256": b64(dg)})
            self.assertEqual(pr.status, 200, pr)
            self.assertEqual(pr.headers.get("x-amz-checksum-sha256"), b64(dg))
            parts.append({"PartNumber": n, "ETag": pr.headers["etag"], "ChecksumSHA256": b64(dg)})
            digs.append(dg)
        r = self.raw_complete("ck-sha", "s", uid, parts)
        self.assertEqual(r.status, 200, r)
        root = ET.fromstring(r.body)
        want = b64(hashlib.sha256(b"".join(digs)).digest()) + "-3"
        self.assertEqual(root.findtext(NS + "ChecksumSHA256"), want)
        self.assertEqual(root.findtext(NS + "ChecksumType"), "COMPOSITE")
        r = s3_request(self.d, "GET", "/ck-sha/s", headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"".join(self.parts))
        self.assertEqual(r.headers.get("x-amz-checksum-sha256"), want)

    # -- FULL_OBJECT ---------------------------------------------------------
    def test_full_object_crc32_and_crc64nvme(self):
        make_bucket(self.d, "ck-full")
        whole = b"".join(self.parts)
        cases = [("CRC32", {"x-amz-checksum-type": "FULL_OBJECT"},
                  b64(zlib.crc32(whole).to_bytes(4, "big")), lambda d: zlib.crc32(d).to_bytes(4, "big")),
                 ("CRC64NVME", {}, b64(crc64nvme(whole).to_bytes(8, "big")),
                  lambda d: crc64nvme(d).to_bytes(8, "big"))]
        for alg, extra, want, fn in cases:
            key = "full-" + alg
            r, uid = self.raw_create("ck-full", key, dict(extra, **{"x-amz-checksum-algorithm": alg}))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.headers.get("x-amz-checksum-type"), "FULL_OBJECT")
            parts = []
            for n, data in enumerate(self.parts, 1):
                # Part 2 carries its checksum, the others leave it to the server.
                hdr = {"x-amz-checksum-" + alg.lower(): b64(fn(data))} if n == 2 else {}
                pr = self.raw_part("ck-full", key, uid, n, data, hdr)
                self.assertEqual(pr.status, 200, pr)
                self.assertEqual(pr.headers.get("x-amz-checksum-" + alg.lower()), b64(fn(data)))
                parts.append({"PartNumber": n, "ETag": pr.headers["etag"]})
            # The whole-object checksum the client expects, wrong: BadDigest.
            bad = self.raw_complete("ck-full", key, uid, parts, {
                "x-amz-checksum-" + alg.lower(): b64(fn(b"other"))})
            self.assertEqual((bad.status, bad.code), (400, "BadDigest"), bad)
            bad = self.raw_complete("ck-full", key, uid, parts, {"x-amz-checksum-type": "COMPOSITE"})
            self.assertEqual((bad.status, bad.code), (400, "BadDigest"), bad)
            r = self.raw_complete("ck-full", key, uid, parts, {
                "x-amz-checksum-" + alg.lower(): want, "x-amz-checksum-type": "FULL_OBJECT"})
            self.assertEqual(r.status, 200, r)
            root = ET.fromstring(r.body)
            self.assertEqual(root.findtext(NS + "Checksum" + alg), want)
            self.assertEqual(root.findtext(NS + "ChecksumType"), "FULL_OBJECT")
            h = s3_request(self.d, "HEAD", "/ck-full/" + key, headers={"x-amz-checksum-mode": "ENABLED"})
            self.assertEqual(h.headers.get("x-amz-checksum-" + alg.lower()), want)
            self.assertEqual(h.headers.get("x-amz-checksum-type"), "FULL_OBJECT")

    # -- errors ----------------------------------------------------------------
    def test_create_errors(self):
        make_bucket(self.d, "ck-cerr")
        for hdr, code in [({"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-type": "FULL_OBJECT"},
                           "InvalidRequest"),
                          ({"x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "COMPOSITE"},
                           "InvalidRequest"),
                          ({"x-amz-checksum-type": "COMPOSITE"}, "InvalidRequest"),
                          ({"x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "PARTIAL"},
                           "InvalidRequest"),
                          ({"x-amz-checksum-algorithm": "MD4"}, "InvalidArgument")]:
            r, _ = self.raw_create("ck-cerr", "x", hdr)
            self.assertEqual((r.status, r.code), (400, code), hdr)
        # An empty algorithm means none.
        r, uid = self.raw_create("ck-cerr", "x", {"x-amz-checksum-algorithm": ""})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("x-amz-checksum-algorithm", r.headers)
        self.assertEqual(s3_request(self.d, "GET", "/ck-cerr", query=[("uploads", "")]).body.count(b"<Upload>"), 1)

    def test_part_and_complete_errors(self):
        make_bucket(self.d, "ck-err")
        r, uid = self.raw_create("ck-err", "e", {"x-amz-checksum-algorithm": "CRC32"})
        p = self.parts
        # UploadPart without a checksum, or with another algorithm (refused
        # from the headers, before the body: small bodies, so the early
        # answer does not reset a connection still sending).
        r = self.raw_part("ck-err", "e", uid, 1, b"small")
        self.assertEqual((r.status, r.code), (400, "InvalidRequest"), r)
        self.assertIn("expected checksum Type: crc32, actual checksum Type: null", r.message)
        c32c = self.raw_part("ck-err", "e", uid, 1, b"small", {"x-amz-checksum-crc32c": "AAAAAA=="})
        self.assertEqual((c32c.status, c32c.code), (400, "InvalidRequest"), c32c)
        # A wrong checksum of the right algorithm.
        r = self.raw_part("ck-err", "e", uid, 1, p[0], {"x-amz-checksum-crc32": crc32_b64(b"x")})
        self.assertEqual((r.status, r.code), (400, "BadDigest"), r)
        lp = s3_request(self.d, "GET", "/ck-err/e", query=[("uploadId", uid)])
        self.assertNotIn(b"<Part>", lp.body)
        parts = []
        for n, data in enumerate(p, 1):
            r = self.raw_part("ck-err", "e", uid, n, data, {"x-amz-checksum-crc32": crc32_b64(data)})
            self.assertEqual(r.status, 200, r)
            parts.append({"PartNumber": n, "ETag": r.headers["etag"], "ChecksumCRC32": crc32_b64(data)})

        def complete(ps, headers=None):
            r = self.raw_complete("ck-err", "e", uid, ps, headers)
            return r.status, r.code

        no_ck = [dict(parts[0]), {"PartNumber": 2, "ETag": parts[1]["ETag"]}, dict(parts[2])]
        self.assertEqual(complete(no_ck), (400, "InvalidRequest"))
        wrong = [dict(x) for x in parts]
        wrong[1]["ChecksumCRC32"] = crc32_b64(b"nope")
        self.assertEqual(complete(wrong), (400, "InvalidPart"))
        self.assertEqual(complete([parts[0], parts[2]]), (400, "InvalidPartOrder"))
        self.assertEqual(complete([parts[1], parts[2]]), (400, "InvalidPartOrder"))
        self.assertEqual(complete(parts, {"x-amz-checksum-type": "FULL_OBJECT"}), (400, "BadDigest"))
        self.assertEqual(complete(parts, {"x-amz-checksum-crc32": "AAAAAA==-3"}), (400, "BadDigest"))
        # The upload survived every refusal; the right complete works, and
        # the expected composite value may be sent along.
        want = composite([zlib.crc32(d).to_bytes(4, "big") for d in p])
        r = self.raw_complete("ck-err", "e", uid, parts, {"x-amz-checksum-crc32": want,
                                                         "x-amz-checksum-type": "COMPOSITE"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(ET.fromstring(r.body).findtext(NS + "ChecksumCRC32"), want)
        g = s3_request(self.d, "GET", "/ck-err/e")
        self.assertEqual(g.body, b"".join(p))

    def test_no_algorithm_upload_accepts_part_checksums(self):
        # Without an upload algorithm a part checksum is verified and kept
        # (AWS refuses it; accepting loses nothing), but the object gets no
        # checksum of its own.
        make_bucket(self.d, "ck-none")
        _, uid = self.raw_create("ck-none", "n", {})
        r = self.raw_part("ck-none", "n", uid, 1, b"abc", {"x-amz-checksum-crc32": crc32_b64(b"abc")})
        self.assertEqual(r.status, 200, r)
        r = self.raw_complete("ck-none", "n", uid, [{"PartNumber": 1, "ETag": r.headers["etag"]}])
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(ET.fromstring(r.body).findtext(NS + "ChecksumCRC32"))
        h = s3_request(self.d, "HEAD", "/ck-none/n", headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertFalse([k for k in h.headers if k.startswith("x-amz-checksum")], h.headers)

    def test_single_put_checksum_type(self):
        # A single PUT's checksum is of the whole object: FULL_OBJECT.
        make_bucket(self.d, "ck-put")
        data = data_of(100000, "ck-put")
        r = s3_request(self.d, "PUT", "/ck-put/p", body=data,
                       headers={"x-amz-checksum-crc32": crc32_b64(data)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("x-amz-checksum-type"), "FULL_OBJECT")
        h = s3_request(self.d, "HEAD", "/ck-put/p", headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual((h.headers.get("x-amz-checksum-crc32"), h.headers.get("x-amz-checksum-type")),
                         (crc32_b64(data), "FULL_OBJECT"))
        h = s3_request(self.d, "HEAD", "/ck-put/p")
        self.assertFalse([k for k in h.headers if k.startswith("x-amz-checksum")], h.headers)


if __name__ == "__main__":
    unittest.main()
