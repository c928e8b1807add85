"""One store under both protocols: a file written over DDP is an S3 object
in the bucket of the same name, and an S3 object is a DDP file.

Drives a real dedupd with the real clients: our `ddp` and the aws CLI.
"""
import os
import tempfile
import unittest

from clients import aws
from harness import DedupdTestCase, run_tool


class TestCrossProtocol(DedupdTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="test_cross.", dir=self.d.tmp)
        self.env = {"DDP_ENDPOINT": "%s:%d" % tuple(self.d.ddp_addr),
                    "DDP_ACCESS_KEY": self.d.access_key,
                    "DDP_SECRET_KEY": self.d.secret_key}

    def ddp(self, *args):
        r = run_tool("ddp", *args, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def aws_ok(self, *args):
        r = aws(self.d, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def write(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_ddp_file_is_s3_object(self):
        data = os.urandom(3 << 20) + b"tail"
        self.ddp("mkunit", "plc-gold")
        self.ddp("put", self.write("vol.img", data), "plc-gold:pvc/vol.img")
        out = os.path.join(self.tmp, "via-s3")
        self.aws_ok("s3", "cp", "s3://plc-gold/pvc/vol.img", out)
        self.assertEqual(self.read(out), data)
        listing = self.aws_ok("s3", "ls", "s3://plc-gold/pvc/").stdout
        self.assertIn("vol.img", listing)

    def test_s3_object_is_ddp_file(self):
        data = os.urandom(1 << 20)
        self.aws_ok("s3", "mb", "s3://velero-bsl")
        self.aws_ok("s3", "cp", self.write("backup.tar.gz", data),
                    "s3://velero-bsl/backups/b1/b1.tar.gz")
        out = os.path.join(self.tmp, "via-ddp")
        self.ddp("get", "velero-bsl:backups/b1/b1.tar.gz", out)
        self.assertEqual(self.read(out), data)
        # A DDP delete is visible to S3.
        self.ddp("rm", "velero-bsl:backups/b1/b1.tar.gz")
        r = aws(self.d, "s3api", "head-object", "--bucket", "velero-bsl",
                "--key", "backups/b1/b1.tar.gz")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("404", r.stderr)


if __name__ == "__main__":
    unittest.main()
