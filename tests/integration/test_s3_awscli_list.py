"""Listings through `aws s3api` (issue #4): list-objects-v2 with
delimiter (common prefixes), prefix, start-after, max-keys with
continuation tokens (KeyCount, MaxKeys, IsTruncated, no token on the last
page), common prefixes counting toward MaxKeys in order with the keys, the
CLI's own paginator, an empty listing; list-objects (v1) with marker and,
with a delimiter, NextMarker; get-bucket-location (and NoSuchBucket).
The CLI always asks for encoding-type=url and decodes the keys.
"""
import unittest

from clients import AwsCliCase, make_bucket, md5hex


class TestListApi(AwsCliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_bucket(cls.d, "obj-api")

    def test_list_objects_v2(self):
        make_bucket(self.d, "list-v2")
        keys = ["a/1", "a/2", "a/b/3", "a/b/4", "a/c/5", "c", "d/6", "e"]
        for k in keys:
            self.put_raw("list-v2", k, k.encode())
        top = self.api("list-objects-v2", "--bucket", "list-v2", "--delimiter", "/")
        self.assertEqual([c["Key"] for c in top["Contents"]], ["c", "e"])
        self.assertEqual([p["Prefix"] for p in top["CommonPrefixes"]], ["a/", "d/"])
        a = self.api("list-objects-v2", "--bucket", "list-v2", "--prefix", "a/", "--delimiter", "/")
        self.assertEqual([c["Key"] for c in a["Contents"]], ["a/1", "a/2"])
        self.assertEqual([p["Prefix"] for p in a["CommonPrefixes"]], ["a/b/", "a/c/"])
        after = self.api("list-objects-v2", "--bucket", "list-v2", "--start-after", "a/b/3")
        self.assertEqual([c["Key"] for c in after["Contents"]], keys[3:])
        for c in after["Contents"]:
            self.assertEqual(c["Size"], len(c["Key"]))
            self.assertEqual(c["ETag"], '"%s"' % md5hex(c["Key"].encode()))
        # Manual paging: MaxKeys 3, continuation tokens.
        got, token, pages = [], None, 0
        while True:
            args = ["list-objects-v2", "--bucket", "list-v2", "--no-paginate", "--max-keys", "3"]
            if token:
                args += ["--continuation-token", token]
            page = self.api(*args)
            pages += 1
            self.assertLessEqual(len(page.get("Contents", [])), 3)
            self.assertEqual(page["KeyCount"], len(page.get("Contents", [])))
            self.assertEqual(page["MaxKeys"], 3)
            got += [c["Key"] for c in page.get("Contents", [])]
            if not page["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", page)
                break
            token = page["NextContinuationToken"]
            self.assertLess(pages, 10)
        self.assertEqual(got, keys)
        self.assertEqual(pages, 3)
        # Paging with a delimiter: common prefixes count toward MaxKeys.
        got, token = [], None
        for _ in range(10):
            args = ["list-objects-v2", "--bucket", "list-v2", "--no-paginate", "--max-keys", "1",
                    "--delimiter", "/"]
            if token:
                args += ["--continuation-token", token]
            page = self.api(*args)
            got += [c["Key"] for c in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
        self.assertEqual(got, ["a/", "c", "d/", "e"])
        # The CLI's own paginator (3 keys per request) agrees.
        merged = self.api("list-objects-v2", "--bucket", "list-v2", "--page-size", "3")
        self.assertEqual([c["Key"] for c in merged["Contents"]], keys)
        empty = self.api("list-objects-v2", "--bucket", "list-v2", "--prefix", "zzz", "--no-paginate")
        self.assertEqual((empty.get("Contents", []), empty["KeyCount"]), ([], 0))

    def test_list_objects_v1(self):
        make_bucket(self.d, "list-v1")
        keys = ["k%02d" % i for i in range(7)] + ["p/1", "p/2"]
        for k in keys:
            self.put_raw("list-v1", k, b"v1")
        got, marker = [], ""
        for _ in range(10):
            page = self.api("list-objects", "--bucket", "list-v1", "--no-paginate", "--max-keys", "4",
                            "--marker", marker)
            self.assertEqual(page.get("Marker", ""), marker)
            batch = [c["Key"] for c in page.get("Contents", [])]
            self.assertLessEqual(len(batch), 4)
            got += batch
            if not page["IsTruncated"]:
                break
            marker = batch[-1]
        self.assertEqual(got, keys)
        d = self.api("list-objects", "--bucket", "list-v1", "--delimiter", "/", "--no-paginate",
                     "--max-keys", "3")
        self.assertTrue(d["IsTruncated"])
        self.assertEqual(d["NextMarker"], "k02")
        d = self.api("list-objects", "--bucket", "list-v1", "--delimiter", "/", "--marker", "k06")
        self.assertEqual([p["Prefix"] for p in d["CommonPrefixes"]], ["p/"])
        self.assertEqual(d.get("Contents", []), [])

    def test_get_bucket_location(self):
        loc = self.api("get-bucket-location", "--bucket", "obj-api")
        self.assertIn("LocationConstraint", loc)
        self.assertTrue(loc["LocationConstraint"] is None or isinstance(loc["LocationConstraint"], str))
        self.assertEqual(self.api_error("get-bucket-location", "--bucket", "no-such-bucket-here"), "NoSuchBucket")


if __name__ == "__main__":
    unittest.main()
