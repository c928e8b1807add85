"""64 uploads at once all succeed and read back intact (issue #4).

concurrent.mjs starts 64 uploads of 6 MiB at the same time with the JS SDK
(default CRC32 checksums; half single PUTs, half multipart with 5 MiB
parts, so up to ~100 connections are open at once), then reads every
object back and compares it, and lists the prefix. Smaller objects under
ASan (DD_SANITIZED=1), same count. Also: racing conditional creates
(If-None-Match: *) of one key have exactly one winner.
"""
import threading
import unittest

from harness import SANITIZED
from clients import SharedDedupdCase, data_of, make_bucket, node_json, s3_request

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

    def test_racing_conditional_creates(self):
        """PUTs with If-None-Match: * racing for one new key (a lock file,
        as Terraform's S3 backend writes): exactly one gets 200, every
        other 412 PreconditionFailed, and the key holds the winner's
        bytes. The condition is checked in the catalog transaction that
        puts the object, so two writers cannot both see "absent". Several
        rounds, 8 writers each, bodies of 1 MiB so all are in flight at
        once."""
        make_bucket(self.d, "condrace")
        for rnd in range(6):
            key = "lock%d" % rnd
            bodies = [data_of(1 << 20, "race%d-%d" % (rnd, i)) for i in range(8)]
            results = [None] * len(bodies)

            def put(i):
                results[i] = s3_request(self.d, "PUT", "/condrace/" + key, body=bodies[i],
                                        headers={"If-None-Match": "*"}, timeout=300)

            threads = [threading.Thread(target=put, args=(i,)) for i in range(len(bodies))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            won = [i for i, r in enumerate(results) if r.status == 200]
            self.assertEqual(len(won), 1, "round %d: %r" % (rnd, results))
            for i, r in enumerate(results):
                if i not in won:
                    self.assertEqual((r.status, r.code), (412, "PreconditionFailed"), r)
            g = s3_request(self.d, "GET", "/condrace/" + key)
            self.assertEqual(g.body, bodies[won[0]])


if __name__ == "__main__":
    unittest.main()
