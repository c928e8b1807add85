"""s3cmd (Debian's, SigV4, path-style) against a real dedupd (issue #4):
mb, put, ls (objects and DIR prefixes), get (s3cmd checks the MD5 it
recorded), multipart put of a 12 MiB file with --multipart-chunk-size-mb=5
(3 parts: S3's multipart ETag must follow), del, rb.
"""
import os
import unittest

from clients import SharedDedupdCase, data_of, multipart_etag, s3_request, s3cmd

MiB = 1024 * 1024


class TestS3cmd(SharedDedupdCase):
    def sc(self, *args, ok=True):
        p = s3cmd(self.d, *args)
        if ok:
            self.assertEqual(p.returncode, 0, "s3cmd %s:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
        return p

    def write(self, name, data):
        path = os.path.join(self.d.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_s3cmd_round_trip(self):
        self.sc("mb", "s3://s3cmd-bkt")
        self.assertIn("s3://s3cmd-bkt", self.sc("ls").stdout)
        small = data_of(54321, "s3cmd-small")
        self.sc("put", self.write("small", small), "s3://s3cmd-bkt/dir/small.bin")
        self.sc("put", self.write("top", b"top level"), "s3://s3cmd-bkt/top.txt")
        listing = self.sc("ls", "s3://s3cmd-bkt/dir/").stdout
        self.assertRegex(listing, r"\s%d\s+s3://s3cmd-bkt/dir/small\.bin" % len(small))
        top = self.sc("ls", "s3://s3cmd-bkt").stdout
        self.assertRegex(top, r"DIR\s+s3://s3cmd-bkt/dir/")
        self.assertRegex(top, r"\s9\s+s3://s3cmd-bkt/top\.txt")
        out = os.path.join(self.d.tmp, "small.back")
        self.sc("get", "--force", "s3://s3cmd-bkt/dir/small.bin", out)
        self.assertEqual(self.read(out), small)

        big = data_of(12 * MiB, "s3cmd-big")
        p = self.sc("put", "--progress", "--multipart-chunk-size-mb=5", self.write("big", big), "s3://s3cmd-bkt/big.bin")
        self.assertIn("part 3 of 3", p.stdout + p.stderr)
        head = s3_request(self.d, "HEAD", "/s3cmd-bkt/big.bin")
        self.assertEqual(head.status, 200)
        self.assertEqual(int(head.headers["content-length"]), len(big))
        self.assertEqual(head.headers["etag"], multipart_etag([big[:5 * MiB], big[5 * MiB:10 * MiB], big[10 * MiB:]]))
        out = os.path.join(self.d.tmp, "big.back")
        self.sc("get", "--force", "s3://s3cmd-bkt/big.bin", out)
        self.assertEqual(self.read(out), big)

        self.sc("del", "s3://s3cmd-bkt/dir/small.bin")
        self.assertNotIn("small.bin", self.sc("ls", "--recursive", "s3://s3cmd-bkt").stdout)
        self.assertEqual(s3_request(self.d, "HEAD", "/s3cmd-bkt/dir/small.bin").status, 404)
        p = self.sc("rb", "s3://s3cmd-bkt", ok=False)
        self.assertNotEqual(p.returncode, 0, "rb of a non-empty bucket succeeded")
        self.assertIn("BucketNotEmpty", p.stdout + p.stderr)
        self.sc("del", "s3://s3cmd-bkt/big.bin", "s3://s3cmd-bkt/top.txt")
        self.sc("rb", "s3://s3cmd-bkt")
        self.assertNotIn("s3://s3cmd-bkt", self.sc("ls").stdout)


if __name__ == "__main__":
    unittest.main()
