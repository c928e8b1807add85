"""64 uploads at once all succeed and read back intact (issue #4).

concurrent.mjs starts 64 uploads of 6 MiB at the same time with the JS SDK
(default CRC32 checksums; half single PUTs, half multipart with 5 MiB
parts, so up to ~100 connections are open at once), then reads every
object back and compares it, and lists the prefix. Smaller objects under
ASan (DD_SANITIZED=1), same count.
"""
import unittest

from harness import SANITIZED
from clients import SharedDedupdCase, make_bucket, node_json

COUNT = 64
SIZE = (1 if SANITIZED else 6) * 1024 * 1024 + 12345


class TestConcurrentUploads(SharedDedupdCase):
    def test_64_concurrent_uploads(self):
        make_bucket(self.d, "concurrent")
        p, s = node_json(self.d, "concurrent.mjs", "--bucket", "concurrent",
                         "--count", str(COUNT), "--size", str(SIZE), timeout=900)
        detail = "stdout:\n%s\nstderr:\n%s" % (p.stdout[-3000:], p.stderr[-5000:])
        self.assertEqual(p.returncode, 0, detail)
        self.assertIsNotNone(s, detail)
        self.assertTrue(s["ok"], detail)
        self.assertEqual(s["count"], COUNT)
        self.assertEqual(s["totalBytes"], COUNT * SIZE)


if __name__ == "__main__":
    unittest.main()
