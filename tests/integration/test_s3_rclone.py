"""rclone (Debian's) against a real dedupd (issue #4), path-style, with
multipart forced for files over 5 MiB (--s3-upload-cutoff 5M,
--s3-chunk-size 5M): copy of a tree whose files share content, check
--download (byte comparison through GETs), lsf -R, sync after local
changes (a changed, a deleted and a new file), a copy back compared
byte-for-byte, deletefile, and check noticing the deleted file.
"""
import os
import unittest

from clients import SharedDedupdCase, data_of, make_tree, rclone, read_tree

MiB = 1024 * 1024
MULTIPART = ("--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M")


class TestRclone(SharedDedupdCase):
    def rc(self, *args, ok=True):
        p = rclone(self.d, *args)
        if ok:
            self.assertEqual(p.returncode, 0, "rclone %s:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
        return p

    def lsf(self, remote):
        out = self.rc("lsf", "-R", "--files-only", remote).stdout
        return sorted(line for line in out.splitlines() if line)

    def test_copy_check_sync_deletefile(self):
        src = os.path.join(self.d.tmp, "src")
        files = make_tree(src, "rclone", big=12 * MiB + 3)
        remote = "dd:rclone-bkt/tree"
        self.rc("mkdir", "dd:rclone-bkt")
        self.rc("copy", *MULTIPART, src, remote)
        self.assertEqual(self.lsf(remote), sorted(files))
        p = self.rc("check", "--download", src, remote)
        self.assertIn("0 differences found", p.stdout + p.stderr)
        # A second copy transfers nothing.
        p = self.rc("copy", "-v", *MULTIPART, src, remote)
        self.assertNotIn("Copied", p.stdout + p.stderr)
        # Local changes, then sync.
        with open(os.path.join(src, "b/c1.txt"), "wb") as f:
            f.write(data_of(7777, "changed"))
        os.unlink(os.path.join(src, "a0.txt"))
        with open(os.path.join(src, "new file.bin"), "wb") as f:
            f.write(files["big/large.bin"][:6 * MiB])
        self.rc("sync", *MULTIPART, src, remote)
        self.assertEqual(self.lsf(remote), sorted(read_tree(src)))
        p = self.rc("check", "--download", src, remote)
        self.assertIn("0 differences found", p.stdout + p.stderr)
        # Back down, byte for byte.
        back = os.path.join(self.d.tmp, "back")
        self.rc("copy", remote, back)
        self.assertEqual(read_tree(back), read_tree(src))
        # deletefile; check now reports the missing file.
        self.rc("deletefile", remote + "/copy/of-b1.txt")
        self.assertNotIn("copy/of-b1.txt", self.lsf(remote))
        p = self.rc("check", "--download", src, remote, ok=False)
        self.assertNotEqual(p.returncode, 0, "check missed a deleted file")
        self.assertIn("copy/of-b1.txt", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
