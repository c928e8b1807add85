"""ListMultipartUploads (issue #4) against a real dedupd: prefix, delimiter
with CommonPrefixes, key-marker / upload-id-marker paging with max-uploads
(uploads and prefixes counted together, IsTruncated, NextKeyMarker,
NextUploadIdMarker), the aws CLI's own paginator over it, and
encoding-type=url.
"""
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from clients import AwsCliCase, make_bucket, s3_request

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
KEYS = ["a/1", "a/2", "a/2", "b/x/y", "c", "d e/f", "top", "\u00fc/z"]


class TestListMultipartUploads(AwsCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_bucket(cls.d, "lmu")
        cls.uploads = []
        for k in KEYS:
            r = s3_request(cls.d, "POST", "/lmu/" + k, query=[("uploads", "")])
            assert r.status == 200, r
            cls.uploads.append((k, ET.fromstring(r.body).findtext(NS + "UploadId")))
        # Store order: key bytes (UTF-8), then upload id.
        cls.uploads.sort(key=lambda u: (u[0].encode(), u[1]))

    def raw(self, **params):
        q = [("uploads", "")] + [(k.replace("_", "-"), str(v)) for k, v in params.items()]
        r = s3_request(self.d, "GET", "/lmu", query=q)
        self.assertEqual(r.status, 200, r)
        root = ET.fromstring(r.body)
        return {
            "uploads": [(u.findtext(NS + "Key"), u.findtext(NS + "UploadId"))
                        for u in root.findall(NS + "Upload")],
            "prefixes": [p.findtext(NS + "Prefix") for p in root.findall(NS + "CommonPrefixes")],
            "truncated": root.findtext(NS + "IsTruncated"),
            "next_key": root.findtext(NS + "NextKeyMarker"),
            "next_id": root.findtext(NS + "NextUploadIdMarker"),
            "root": root,
        }

    def test_delimiter_with_cli(self):
        out = self.api("list-multipart-uploads", "--bucket", "lmu", "--delimiter", "/")
        self.assertEqual([u["Key"] for u in out.get("Uploads", [])], ["c", "top"])
        self.assertEqual([p["Prefix"] for p in out.get("CommonPrefixes", [])],
                         ["a/", "b/", "d e/", "\u00fc/"])
        out = self.api("list-multipart-uploads", "--bucket", "lmu", "--delimiter", "/", "--prefix", "a/")
        self.assertEqual([(u["Key"], u["UploadId"]) for u in out.get("Uploads", [])],
                         [u for u in self.uploads if u[0].startswith("a/")])
        self.assertEqual(out.get("CommonPrefixes", []), [])
        out = self.api("list-multipart-uploads", "--bucket", "lmu", "--delimiter", "/", "--prefix", "b/")
        self.assertEqual(out.get("Uploads", []), [])
        self.assertEqual([p["Prefix"] for p in out["CommonPrefixes"]], ["b/x/"])
        # A delimiter that is not "/": keys containing "e" roll up.
        out = self.api("list-multipart-uploads", "--bucket", "lmu", "--delimiter", "e")
        self.assertEqual([p["Prefix"] for p in out.get("CommonPrefixes", [])], ["d e"])

    def test_cli_paginator(self):
        # The CLI follows NextKeyMarker/NextUploadIdMarker itself.
        for extra, want_up, want_pfx in [
                ((), self.uploads, []),
                (("--delimiter", "/"), [u for u in self.uploads if u[0] in ("c", "top")],
                 ["a/", "b/", "d e/", "\u00fc/"])]:
            out = self.api("list-multipart-uploads", "--bucket", "lmu", "--page-size", "2", *extra)
            self.assertEqual([(u["Key"], u["UploadId"]) for u in out.get("Uploads", [])], want_up, extra)
            self.assertEqual([p["Prefix"] for p in out.get("CommonPrefixes", [])], want_pfx, extra)

    def page_all(self, size, **kw):
        ups, pfx, pages, marker = [], [], 0, {}
        while True:
            p = self.raw(max_uploads=size, **kw, **marker)
            pages += 1
            self.assertLessEqual(len(p["uploads"]) + len(p["prefixes"]), size)
            self.assertLess(pages, 20, "paging does not end")
            ups += p["uploads"]
            pfx += p["prefixes"]
            if p["truncated"] != "true":
                return ups, pfx, pages
            self.assertTrue(p["next_key"])
            marker = {"key_marker": p["next_key"]}
            if p["next_id"]:
                marker["upload_id_marker"] = p["next_id"]

    def test_raw_paging(self):
        # One per page: both uploads of "a/2" come, each once, in order.
        ups, pfx, pages = self.page_all(1)
        self.assertEqual((ups, pfx, pages), (self.uploads, [], len(self.uploads)))
        ups, pfx, pages = self.page_all(3)
        self.assertEqual(ups, self.uploads)
        ups, pfx, pages = self.page_all(2, delimiter="/")
        self.assertEqual(ups, [u for u in self.uploads if u[0] in ("c", "top")])
        self.assertEqual(pfx, ["a/", "b/", "d e/", "\u00fc/"])
        self.assertEqual(pages, 3)
        first = self.raw(max_uploads=2, delimiter="/")
        self.assertEqual((first["prefixes"], first["truncated"], first["next_key"], first["next_id"]),
                         (["a/", "b/"], "true", "b/", ""))
        last = self.raw(max_uploads=10, delimiter="/")
        self.assertEqual(last["truncated"], "false")
        # A key marker alone skips every upload of that key.
        p = self.raw(key_marker="a/2")
        self.assertEqual(p["uploads"], [u for u in self.uploads if u[0].encode() > b"a/2"])
        # key-marker + upload-id-marker: the second "a/2" upload onwards.
        a2 = [u for u in self.uploads if u[0] == "a/2"]
        p = self.raw(key_marker="a/2", upload_id_marker=a2[0][1])
        self.assertEqual(p["uploads"][0], a2[1])

    def test_encoding_type_url(self):
        p = self.raw(delimiter="/", encoding_type="url")
        root = p["root"]
        self.assertEqual(root.findtext(NS + "EncodingType"), "url")
        self.assertEqual(p["prefixes"], ["a/", "b/", "d%20e/", "%C3%BC/"])
        p = self.raw(prefix="d e/", encoding_type="url")
        self.assertEqual([k for k, _ in p["uploads"]], ["d%20e/f"])
        self.assertEqual(urllib.parse.unquote(p["root"].findtext(NS + "Prefix")), "d e/")
        p = self.raw(prefix="d e/")
        self.assertEqual([k for k, _ in p["uploads"]], ["d e/f"])


if __name__ == "__main__":
    unittest.main()
