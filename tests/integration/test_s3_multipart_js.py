"""Multipart uploads with the current AWS SDK for JavaScript v3 (issue #4),
through tests/clients/js/multipart.mjs against a real dedupd: lib-storage's
default COMPOSITE CRC32 upload (Complete, HeadObject and GetObject with
ChecksumMode ENABLED), FULL_OBJECT CRC64NVME and CRC32 uploads whose
whole-object checksum the SDK validates on GET, UploadPartCopyCommand with
and without CopySourceRange, ListMultipartUploadsCommand with a delimiter.
The script checks every step and exits non-zero on the first deviation.
"""
import unittest

from clients import SharedDedupdCase, make_bucket, node_json


class TestMultipartJs(SharedDedupdCase):
    def test_multipart_script(self):
        make_bucket(self.d, "mp-js")
        p, summary = node_json(self.d, "multipart.mjs", "--bucket", "mp-js")
        detail = "stdout:\n%s\nstderr:\n%s" % (p.stdout[-3000:], p.stderr[-5000:])
        self.assertEqual(p.returncode, 0, "multipart.mjs failed\n" + detail)
        self.assertIsNotNone(summary, detail)
        self.assertTrue(summary.get("ok"), detail)
        self.assertTrue(summary["composite"].endswith("-3"), summary)
        self.assertEqual(summary["fullObject"], ["full-crc64", "full-crc32"])


if __name__ == "__main__":
    unittest.main()
