"""The AWS SDK for JavaScript v3 (pinned in tests/clients/js) replaying
Velero's AWS plugin and Kopia against a real dedupd (issue #4).

- velero.mjs, path style: upload manager multipart (5 MiB parts, 5 in
  flight, CRC32 by default), small PUTs with aws-chunked trailers and an
  empty x-amz-tagging, paginated ListObjectsV2 with and without delimiter,
  HeadObject 404 NotFound, whole GetObject, a presigned GET fetched with
  plain HTTP, DeleteObject one by one.
- velero.mjs, virtual-hosted style: the same against bkt.localhost:PORT,
  with `[s3] domain = localhost` in dedupd's config (the script resolves
  *.localhost to 127.0.0.1 itself: glibc's files+dns does not).
- kopia.mjs: Kopia's pattern (Content-MD5 single PUTs up to 20 MiB, exact
  206 ranges, 416 past the end, url-encoded listings, absent deletes,
  ?location).

Each script checks every step itself and exits non-zero on the first
deviation; the test asserts its exit code and JSON summary.
"""
import unittest

from clients import SharedDedupdCase, make_bucket, node_json


class JsClientMixin:
    def run_script(self, script, *args):
        p, summary = node_json(self.d, script, *args)
        detail = "stdout:\n%s\nstderr:\n%s" % (p.stdout[-3000:], p.stderr[-5000:])
        self.assertEqual(p.returncode, 0, "%s failed\n%s" % (script, detail))
        self.assertIsNotNone(summary, "%s printed no JSON summary\n%s" % (script, detail))
        self.assertTrue(summary.get("ok"), detail)
        return summary


class TestVeleroPathStyle(JsClientMixin, SharedDedupdCase):
    def test_velero_plugin_path_style(self):
        make_bucket(self.d, "velero-path")
        s = self.run_script("velero.mjs", "--bucket", "velero-path", "--style", "path")
        self.assertEqual(s["style"], "path")
        self.assertEqual(s["objects"], 8)
        self.assertGreater(s["trailerUploads"], 0)

    def test_velero_plugin_twice_same_prefix(self):
        # A second backup cycle into the same bucket after the first one's
        # deletes: nothing left over (e.g. upload staging) shows up.
        make_bucket(self.d, "velero-again")
        for _ in range(2):
            self.run_script("velero.mjs", "--bucket", "velero-again", "--prefix", "bsl")


class TestVeleroVirtualHosted(JsClientMixin, SharedDedupdCase):
    dedupd_config = "[s3]\ndomain = localhost\n"

    def test_velero_plugin_virtual_hosted(self):
        make_bucket(self.d, "velero-vhost")
        s = self.run_script("velero.mjs", "--bucket", "velero-vhost", "--style", "vhost")
        self.assertEqual(s["style"], "vhost")
        self.assertEqual(s["objects"], 8)

    def test_path_style_still_works_with_domain(self):
        make_bucket(self.d, "velero-both")
        self.run_script("velero.mjs", "--bucket", "velero-both", "--style", "path")


class TestKopia(JsClientMixin, SharedDedupdCase):
    def test_kopia_pattern(self):
        make_bucket(self.d, "kopia-bkt")
        s = self.run_script("kopia.mjs", "--bucket", "kopia-bkt")
        self.assertEqual(s["blobs"], 12)
        self.assertGreaterEqual(s["ranges"], 25)


if __name__ == "__main__":
    unittest.main()
