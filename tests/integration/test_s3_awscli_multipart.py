"""Multipart uploads through `aws s3api`, one call at a time (issue #4):
create-multipart-upload (content type, metadata, checksum algorithm),
upload-part (ETag = part MD5; ChecksumCRC32 echoed), list-parts (with
max-parts / part-number-marker paging), list-multipart-uploads (with
prefix), complete (ETag "<md5 of part md5s>-N"; a subset of the parts; a
part re-uploaded), abort, and the documented errors: NoSuchUpload after
complete/abort, InvalidPart (wrong ETag, unknown part), InvalidPartOrder,
EntityTooSmall (a non-last part under 5 MiB); a failed complete leaves the
upload usable. Uploads in progress are never listed as objects.
"""
import json
import unittest

from clients import AwsCliCase, crc32_b64, data_of, make_bucket, md5hex, multipart_etag

MiB = 1024 * 1024


class TestMultipartApi(AwsCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parts = [data_of(5 * MiB, "p1"), data_of(5 * MiB, "p2"), data_of(100 * 1024 + 7, "p3")]

    def upload_part(self, bucket, key, uid, n, data, *extra):
        path = self.write("part-%d" % n, data)
        return self.api("upload-part", "--bucket", bucket, "--key", key, "--upload-id", uid,
                        "--part-number", str(n), "--body", path, *extra)

    def test_multipart_complete(self):
        make_bucket(self.d, "mp-api")
        up = self.api("create-multipart-upload", "--bucket", "mp-api", "--key", "obj",
                      "--content-type", "application/x-test", "--metadata", "owner=alice")
        uid = up["UploadId"]
        self.assertTrue(uid)
        self.assertEqual((up["Bucket"], up["Key"]), ("mp-api", "obj"))
        etags = []
        for n, data in enumerate(self.parts, 1):
            r = self.upload_part("mp-api", "obj", uid, n, data)
            self.assertEqual(r["ETag"], '"%s"' % md5hex(data))
            etags.append(r["ETag"])
        lp = self.api("list-parts", "--bucket", "mp-api", "--key", "obj", "--upload-id", uid)
        self.assertEqual([(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]],
                         [(n, len(d), e) for n, (d, e) in enumerate(zip(self.parts, etags), 1)])
        # Paging the parts: 2 per page.
        page = self.api("list-parts", "--bucket", "mp-api", "--key", "obj", "--upload-id", uid,
                        "--no-paginate", "--max-parts", "2")
        self.assertEqual([p["PartNumber"] for p in page["Parts"]], [1, 2])
        self.assertTrue(page["IsTruncated"])
        self.assertEqual(str(page["NextPartNumberMarker"]), "2")
        page = self.api("list-parts", "--bucket", "mp-api", "--key", "obj", "--upload-id", uid,
                        "--no-paginate", "--max-parts", "2", "--part-number-marker", "2")
        self.assertEqual([p["PartNumber"] for p in page["Parts"]], [3])
        self.assertFalse(page["IsTruncated"])
        ups = self.api("list-multipart-uploads", "--bucket", "mp-api").get("Uploads", [])
        self.assertEqual([(u["Key"], u["UploadId"]) for u in ups], [("obj", uid)])
        self.assertEqual(self.api("list-multipart-uploads", "--bucket", "mp-api",
                                  "--prefix", "other").get("Uploads", []), [])
        # In progress: not an object, not listed.
        self.assertEqual(self.keys("mp-api"), [])
        done = self.api("complete-multipart-upload", "--bucket", "mp-api", "--key", "obj",
                        "--upload-id", uid, "--multipart-upload", json.dumps(
                            {"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]}))
        self.assertEqual(done["ETag"], multipart_etag(self.parts))
        self.assertEqual((done["Bucket"], done["Key"]), ("mp-api", "obj"))
        head = self.api("head-object", "--bucket", "mp-api", "--key", "obj")
        self.assertEqual(head["ContentLength"], sum(map(len, self.parts)))
        self.assertEqual(head["ContentType"], "application/x-test")
        self.assertEqual(head["Metadata"], {"owner": "alice"})
        self.assertEqual(head["ETag"], done["ETag"])
        _, got = self.get("mp-api", "obj")
        self.assertEqual(got, b"".join(self.parts))
        self.assertEqual(self.api("list-multipart-uploads", "--bucket", "mp-api").get("Uploads", []), [])
        self.assertEqual(self.api_error("list-parts", "--bucket", "mp-api", "--key", "obj",
                                        "--upload-id", uid), "NoSuchUpload")

    def test_multipart_reupload_part_and_subset(self):
        # A part uploaded twice counts with its last content; the object is
        # the parts named in Complete (part 2 left out).
        make_bucket(self.d, "mp-sub")
        uid = self.api("create-multipart-upload", "--bucket", "mp-sub", "--key", "o")["UploadId"]
        self.upload_part("mp-sub", "o", uid, 1, data_of(5 * MiB, "old"))
        e1 = self.upload_part("mp-sub", "o", uid, 1, self.parts[0])["ETag"]
        self.upload_part("mp-sub", "o", uid, 2, self.parts[1])
        e3 = self.upload_part("mp-sub", "o", uid, 3, self.parts[2])["ETag"]
        self.api("complete-multipart-upload", "--bucket", "mp-sub", "--key", "o", "--upload-id", uid,
                 "--multipart-upload", json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1},
                                                             {"PartNumber": 3, "ETag": e3}]}))
        _, got = self.get("mp-sub", "o")
        self.assertEqual(got, self.parts[0] + self.parts[2])

    def test_multipart_abort(self):
        make_bucket(self.d, "mp-abort")
        uid = self.api("create-multipart-upload", "--bucket", "mp-abort", "--key", "gone")["UploadId"]
        self.upload_part("mp-abort", "gone", uid, 1, self.parts[0])
        self.cli("s3api", "abort-multipart-upload", "--bucket", "mp-abort", "--key", "gone", "--upload-id", uid)
        self.assertEqual(self.api("list-multipart-uploads", "--bucket", "mp-abort").get("Uploads", []), [])
        self.assertEqual(self.api_error("list-parts", "--bucket", "mp-abort", "--key", "gone",
                                        "--upload-id", uid), "NoSuchUpload")
        path = self.write("p", b"late")
        self.assertEqual(self.api_error("upload-part", "--bucket", "mp-abort", "--key", "gone",
                                        "--upload-id", uid, "--part-number", "2", "--body", path),
                         "NoSuchUpload")
        self.assertEqual(self.api_error("head-object", "--bucket", "mp-abort", "--key", "gone"), "404")
        self.assertEqual(self.keys("mp-abort"), [])

    def test_multipart_errors(self):
        make_bucket(self.d, "mp-err")
        uid = self.api("create-multipart-upload", "--bucket", "mp-err", "--key", "e")["UploadId"]
        e1 = self.upload_part("mp-err", "e", uid, 1, self.parts[0])["ETag"]
        e2 = self.upload_part("mp-err", "e", uid, 2, self.parts[2])["ETag"]

        def complete(parts):
            return self.api_error("complete-multipart-upload", "--bucket", "mp-err", "--key", "e",
                                  "--upload-id", uid, "--multipart-upload", json.dumps({"Parts": parts}))
        self.assertEqual(complete([{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)},
                                   {"PartNumber": 2, "ETag": e2}]), "InvalidPart")
        self.assertEqual(complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 7, "ETag": e2}]),
                         "InvalidPart")
        self.assertEqual(complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]),
                         "InvalidPartOrder")
        # A part under 5 MiB that is not the last one.
        uid2 = self.api("create-multipart-upload", "--bucket", "mp-err", "--key", "small")["UploadId"]
        s1 = self.upload_part("mp-err", "small", uid2, 1, b"tiny first part")["ETag"]
        s2 = self.upload_part("mp-err", "small", uid2, 2, b"last")["ETag"]
        self.assertEqual(self.api_error("complete-multipart-upload", "--bucket", "mp-err", "--key", "small",
                                        "--upload-id", uid2, "--multipart-upload", json.dumps(
                                            {"Parts": [{"PartNumber": 1, "ETag": s1},
                                                       {"PartNumber": 2, "ETag": s2}]})),
                         "EntityTooSmall")
        self.assertEqual(self.api_error("complete-multipart-upload", "--bucket", "mp-err", "--key", "e",
                                        "--upload-id", "no-such-upload-id", "--multipart-upload",
                                        json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1}]})),
                         "NoSuchUpload")
        # The failed completions left the upload usable.
        self.api("complete-multipart-upload", "--bucket", "mp-err", "--key", "e", "--upload-id", uid,
                 "--multipart-upload", json.dumps({"Parts": [{"PartNumber": 1, "ETag": e1},
                                                             {"PartNumber": 2, "ETag": e2}]}))
        _, got = self.get("mp-err", "e")
        self.assertEqual(got, self.parts[0] + self.parts[2])
        self.assertEqual(self.api_error("head-object", "--bucket", "mp-err", "--key", "small"), "404")

    def test_multipart_with_checksums(self):
        make_bucket(self.d, "mp-ck")
        up = self.api("create-multipart-upload", "--bucket", "mp-ck", "--key", "c",
                      "--checksum-algorithm", "CRC32")
        uid = up["UploadId"]
        self.assertEqual(up.get("ChecksumAlgorithm"), "CRC32")
        parts = []
        for n, data in enumerate(self.parts, 1):
            r = self.upload_part("mp-ck", "c", uid, n, data, "--checksum-algorithm", "CRC32")
            self.assertEqual(r.get("ChecksumCRC32"), crc32_b64(data), "part %d" % n)
            parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        lp = self.api("list-parts", "--bucket", "mp-ck", "--key", "c", "--upload-id", uid)
        self.assertEqual([p.get("ChecksumCRC32") for p in lp["Parts"]], [p["ChecksumCRC32"] for p in parts])
        self.api("complete-multipart-upload", "--bucket", "mp-ck", "--key", "c", "--upload-id", uid,
                 "--multipart-upload", json.dumps({"Parts": parts}))
        _, got = self.get("mp-ck", "c", "--checksum-mode", "ENABLED")
        self.assertEqual(got, b"".join(self.parts))


if __name__ == "__main__":
    unittest.main()
