"""restic (Debian's; S3 through minio-go, which over plain HTTP signs
uploads with STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunks) against a real
dedupd (issue #4): init (creates the bucket), backup of a generated tree
with shared content, check --read-data (reads back every pack), restore
compared byte-for-byte; then a second backup of a changed tree, forget
--prune (deletes packs, rewrites indexes), check --read-data again and a
restore of the newest snapshot.
"""
import json
import os
import unittest

from clients import SharedDedupdCase, data_of, make_tree, read_tree, restic

MiB = 1024 * 1024
BUCKET = "restic-bkt"


class TestRestic(SharedDedupdCase):
    def rs(self, *args):
        p = restic(self.d, BUCKET, *args)
        self.assertEqual(p.returncode, 0, "restic %s:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def restore_and_compare(self, snapshot, src, name):
        target = os.path.join(self.d.tmp, name)
        self.rs("restore", snapshot, "--target", target)
        # restic restores the absolute path of what was backed up.
        self.assertEqual(read_tree(os.path.join(target, src.lstrip("/"))), read_tree(src))

    def test_backup_check_restore(self):
        src = os.path.join(self.d.tmp, "src")
        make_tree(src, "restic", big=20 * MiB + 1)
        self.rs("init")
        self.rs("backup", src)
        out = self.rs("check", "--read-data")
        self.assertIn("no errors were found", out)
        self.restore_and_compare("latest", src, "restore1")
        # Change the tree, back up again, drop the first snapshot.
        with open(os.path.join(src, "b", "c1.txt"), "wb") as f:
            f.write(data_of(123456, "restic-changed"))
        os.unlink(os.path.join(src, "big", "large.bin"))
        self.rs("backup", src)
        snaps = json.loads(self.rs("snapshots", "--json"))
        self.assertEqual(len(snaps), 2)
        self.rs("forget", "--keep-last", "1", "--prune")
        snaps = json.loads(self.rs("snapshots", "--json"))
        self.assertEqual(len(snaps), 1)
        out = self.rs("check", "--read-data")
        self.assertIn("no errors were found", out)
        self.restore_and_compare("latest", src, "restore2")


if __name__ == "__main__":
    unittest.main()
