"""The aws CLI's high-level commands (Debian's awscli v2, /usr/bin/aws)
against a real dedupd (issue #4), path-style, root credentials: mb/ls/rb
(rb of a non-empty bucket refused with BucketNotEmpty, rb --force), cp
small, empty and multipart (> 8 MiB, the CLI's threshold: the ETag must be
S3's "<md5 of part md5s>-3"), cp to stdout, sync up and down (a second
sync copies nothing, --delete removes), ls recursive and by prefix (PRE
lines), rm and rm --recursive, and many PUTs (empty ones among them) over
one kept-alive connection. Checksums through the CLI are in
test_s3_awscli_objects.py and _multipart.py (s3api: Debian's awscli
2.9's `s3 cp` has no --checksum-algorithm).

Expected values are AWS S3's documented behaviour, not dedupd's. One
dedupd for the file; each test uses its own bucket. Setup PUTs and
listings that are not under test go through clients.put_object /
list_keys (each aws run costs about a second).
"""
import os
import re
import subprocess
import unittest

from clients import AWS, AwsCliCase, aws, aws_env, data_of, make_bucket, md5hex, multipart_etag

MiB = 1024 * 1024


class TestHighLevel(AwsCliCase):
    def test_mb_ls_rb(self):
        self.mb("cli-mb")
        self.assertIn(" cli-mb\n", self.cli("s3", "ls"))
        self.put_raw("cli-mb", "k", b"x")
        p = aws(self.d, "s3", "rb", "s3://cli-mb")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("BucketNotEmpty", p.stderr)
        self.cli("s3", "rm", "s3://cli-mb/k")
        self.assertIn("remove_bucket: cli-mb", self.cli("s3", "rb", "s3://cli-mb"))
        self.assertNotIn(" cli-mb\n", self.cli("s3", "ls"))
        self.assertEqual(self.api_error("head-bucket", "--bucket", "cli-mb"), "404")
        # rb --force empties the bucket first.
        self.mb("cli-mb2")
        for i in range(3):
            self.put_raw("cli-mb2", "d/%d" % i, b"y" * i)
        self.cli("s3", "rb", "--force", "s3://cli-mb2")
        self.assertNotIn(" cli-mb2\n", self.cli("s3", "ls"))

    def test_cp_small(self):
        make_bucket(self.d, "cli-cp")
        data = data_of(1000, "small")
        src = self.write("small.bin", data)
        self.assertIn("upload:", self.cli("s3", "cp", src, "s3://cli-cp/dir/small.bin"))
        head = self.api("head-object", "--bucket", "cli-cp", "--key", "dir/small.bin")
        self.assertEqual(head["ContentLength"], len(data))
        self.assertEqual(head["ETag"], '"%s"' % md5hex(data))
        dst = os.path.join(self.d.tmp, "small.back")
        self.cli("s3", "cp", "s3://cli-cp/dir/small.bin", dst)
        self.assertEqual(self.read(dst), data)
        # To stdout.
        p = subprocess.run([AWS, "--endpoint-url", self.d.s3_url, "s3", "cp",
                            "s3://cli-cp/dir/small.bin", "-"],
                           env=aws_env(self.d), capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, data)
        # Empty object.
        empty = self.write("empty.bin", b"")
        self.cli("s3", "cp", empty, "s3://cli-cp/empty")
        self.assertEqual(self.api("head-object", "--bucket", "cli-cp", "--key", "empty")["ContentLength"], 0)
        self.cli("s3", "cp", "s3://cli-cp/empty", dst)
        self.assertEqual(self.read(dst), b"")

    def test_cp_multipart(self):
        # > 8 MiB: the CLI uploads 8 MiB parts (8 + 8 + 4 MiB + 5 bytes).
        make_bucket(self.d, "cli-mp")
        data = data_of(20 * MiB + 5, "big")
        src = self.write("big.bin", data)
        self.cli("s3", "cp", src, "s3://cli-mp/big.bin")
        head = self.api("head-object", "--bucket", "cli-mp", "--key", "big.bin")
        self.assertEqual(head["ContentLength"], len(data))
        self.assertEqual(head["ETag"], multipart_etag([data[:8 * MiB], data[8 * MiB:16 * MiB], data[16 * MiB:]]))
        dst = os.path.join(self.d.tmp, "big.back")
        self.cli("s3", "cp", "s3://cli-mp/big.bin", dst)
        self.assertEqual(self.read(dst), data)
        # Nothing of the upload is left behind.
        self.assertEqual(self.api("list-multipart-uploads", "--bucket", "cli-mp").get("Uploads", []), [])
        self.assertEqual(self.keys("cli-mp"), ["big.bin"])

    def make_tree(self, root):
        files = {}
        shared = data_of(300000, "shared")
        for i in range(12):
            rel = ["a.txt", "b/c.txt", "b/d/e.bin", "b/d/f.bin", "g/h/i/j.dat"][i % 5]
            rel = rel.replace(".", "%d." % i)
            files[rel] = shared[: 1000 * (i + 1)] + data_of(100 * i, "t%d" % i) if i % 3 else shared
        files["big/nine.bin"] = data_of(9 * MiB + 1, "nine")
        files["empty"] = b""
        files["sp ace/ü.txt"] = b"unicode name"
        for rel, data in files.items():
            self.write(os.path.join(root, rel), data)
        return files

    def tree_of(self, root):
        out = {}
        base = os.path.join(self.d.tmp, root)
        for dirpath, _, names in os.walk(base):
            for n in names:
                full = os.path.join(dirpath, n)
                out[os.path.relpath(full, base)] = self.read(full)
        return out

    def test_sync_up_down(self):
        make_bucket(self.d, "cli-sync")
        files = self.make_tree("tree")
        src = os.path.join(self.d.tmp, "tree")
        out = self.cli("s3", "sync", src, "s3://cli-sync/t")
        self.assertEqual(out.count("upload:"), len(files), out)
        out = self.cli("s3", "sync", src, "s3://cli-sync/t")
        self.assertNotIn("upload:", out, "second sync up copied again")
        self.assertEqual(sorted(self.keys("cli-sync", "t/")), sorted("t/" + k for k in files))
        # ls --recursive: every key with its size.
        listing = self.cli("s3", "ls", "--recursive", "s3://cli-sync/t/")
        for rel, data in files.items():
            self.assertRegex(listing, r"\s%d t/%s\n" % (len(data), re.escape(rel)))
        # ls of a prefix: sub-"directories" as PRE, files directly in it.
        top = self.cli("s3", "ls", "s3://cli-sync/t/b/")
        self.assertRegex(top, r"\s+PRE d/\n")
        self.assertRegex(top, r"\s%d c1.txt\n" % len(files["b/c1.txt"]))
        self.assertNotIn("e2.bin", top)
        # Down into an empty dir, then again: nothing.
        dst = os.path.join(self.d.tmp, "down")
        out = self.cli("s3", "sync", "s3://cli-sync/t", dst)
        self.assertEqual(out.count("download:"), len(files), out)
        self.assertEqual(self.tree_of("down"), files)
        out = self.cli("s3", "sync", "s3://cli-sync/t", dst)
        self.assertNotIn("download:", out, "second sync down copied again")
        # --delete removes what is gone locally.
        os.unlink(os.path.join(src, "a0.txt"))
        out = self.cli("s3", "sync", "--delete", src, "s3://cli-sync/t")
        self.assertIn("delete: s3://cli-sync/t/a0.txt", out)
        self.assertNotIn("t/a0.txt", self.keys("cli-sync", "t/"))

    def test_sync_empty_files_one_connection(self):
        """Empty PUTs then more PUTs and a multipart upload, all on one
        kept-alive connection. botocore sends "Expect: 100-continue" on
        every PutObject/UploadPart; if an empty one is answered without a
        100 first, botocore reads the next response on that connection
        against the old status line: headers lost, "Failed to parse
        headers", a stall until the read timeout, a hidden retry, and for
        UploadPart the 'ETag' KeyError (boto/botocore#3755)."""
        make_bucket(self.d, "cli-one")
        files = {"f%d" % i: data_of(1000 * (i % 2), "f%d" % i) for i in range(6)}
        files["g/nine.bin"] = data_of(9 * MiB + 1, "nine1")
        for rel, data in files.items():
            self.write(os.path.join("one", rel), data)
        env = aws_env(self.d)
        cfg = os.path.join(self.d.tmp, "aws-config-one")
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n"
                    "  max_concurrent_requests = 1\n")
        env["AWS_CONFIG_FILE"] = cfg
        p = subprocess.run([AWS, "--debug", "--cli-read-timeout", "20", "--endpoint-url",
                            self.d.s3_url, "s3", "sync", os.path.join(self.d.tmp, "one"),
                            "s3://cli-one/"], env=env, capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-3000:])
        self.assertEqual(p.stdout.count("upload:"), len(files), p.stdout)
        self.assertIn("100 Continue response seen", p.stderr)
        bad = [l[:300] for l in p.stderr.splitlines()
               if any(m in l for m in ("non 100 Continue response", "Failed to parse headers",
                                       "Resetting dropped connection", "Read timeout"))]
        self.assertEqual(bad, [], "botocore lost track of a response")
        self.assertEqual(sorted(self.keys("cli-one")), sorted(files))
        head = self.api("head-object", "--bucket", "cli-one", "--key", "g/nine.bin")
        self.assertEqual(head["ETag"], multipart_etag(
            [files["g/nine.bin"][:8 * MiB], files["g/nine.bin"][8 * MiB:]]))

    def test_rm(self):
        make_bucket(self.d, "cli-rm")
        for k in ("x/1", "x/2", "x/y/3", "z"):
            self.put_raw("cli-rm", k, k.encode())
        self.assertIn("delete: s3://cli-rm/z", self.cli("s3", "rm", "s3://cli-rm/z"))
        self.assertEqual(sorted(self.keys("cli-rm")), ["x/1", "x/2", "x/y/3"])
        out = self.cli("s3", "rm", "--recursive", "s3://cli-rm/x/")
        self.assertEqual(out.count("delete:"), 3)
        self.assertEqual(self.keys("cli-rm"), [])
        self.assertEqual(self.api_error("get-object", "--bucket", "cli-rm", "--key", "z",
                                        os.path.join(self.d.tmp, "nothing")), "NoSuchKey")


if __name__ == "__main__":
    unittest.main()
