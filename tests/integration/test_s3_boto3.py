"""S3 conformance through boto3 (issue #4): what a modern SDK does by
default and what ceph/s3-tests and MinIO's mint check, against a real
dedupd. Expected values are AWS S3's documented behaviour.

boto3 >= 1.36 computes CRC32 checksums by default
(request_checksum_calculation=when_supported): over plain HTTP it sends
them as x-amz-checksum-crc32 headers, over HTTPS streaming bodies go as
aws-chunked with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER);
TestBoto3Tls runs dedupd with a TLS listener to cover that mode.
"""
import datetime
import email.utils
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from clients import (SharedDedupdCase, crc32_b64, data_of, make_bucket, md5hex,
                     multipart_etag, s3_request)
from harness import Dedupd

MiB = 1024 * 1024
# botocore >= 1.36 sends CRC32 checksums by default; older ones (Debian's
# python3-boto3) only when asked, so the tests ask explicitly there.
BOTOCORE = tuple(int(p) for p in botocore.__version__.split(".")[:2])
DEFAULT_CKSUM = BOTOCORE >= (1, 36)
CRC_ARGS = {} if DEFAULT_CKSUM else {"ChecksumAlgorithm": "CRC32"}


def client_for(d, url=None, verify=None, **cfg):
    """A boto3 S3 client for d with SDK defaults (checksums when
    supported), path style, no retries (so errors surface at once)."""
    return boto3.session.Session().client(
        "s3", endpoint_url=url or d.s3_url, region_name="us-east-1",
        aws_access_key_id=d.access_key, aws_secret_access_key=d.secret_key,
        verify=verify,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                      **cfg))


class Boto3Case(SharedDedupdCase):
    bucket = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = client_for(cls.d)
        if cls.bucket:
            cls.s3.create_bucket(Bucket=cls.bucket)

    def err(self, fn, **kw):
        """Calls fn(**kw), which must fail; returns (HTTP status, code)."""
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        r = cm.exception.response
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


class TestBoto3Objects(Boto3Case):
    bucket = "boto-obj"

    def test_put_get_default_checksum(self):
        data = data_of(100000, "crc")
        r = self.s3.put_object(Bucket=self.bucket, Key="c/one", Body=data, **CRC_ARGS)
        self.assertEqual(r["ETag"], '"%s"' % md5hex(data))
        self.assertEqual(r.get("ChecksumCRC32"), crc32_b64(data))
        g = self.s3.get_object(Bucket=self.bucket, Key="c/one", ChecksumMode="ENABLED")
        self.assertEqual(g["ChecksumCRC32"], crc32_b64(data))
        self.assertEqual(g["Body"].read(), data)  # botocore validates the CRC
        self.assertEqual(g["ContentLength"], len(data))
        h = self.s3.head_object(Bucket=self.bucket, Key="c/one", ChecksumMode="ENABLED")
        self.assertEqual(h["ChecksumCRC32"], crc32_b64(data))
        # botocore sends x-amz-checksum-mode: ENABLED by default
        # (response_checksum_validation=when_supported); without the mode
        # there is no checksum header.
        r = s3_request(self.d, "GET", "/%s/c/one" % self.bucket)
        self.assertEqual((r.status, r.body), (200, data))
        self.assertNotIn("x-amz-checksum-crc32", r.headers)
        r = s3_request(self.d, "GET", "/%s/c/one" % self.bucket,
                       headers={"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual(r.headers.get("x-amz-checksum-crc32"), crc32_b64(data))
        # A wrong explicit checksum: 400 BadDigest, nothing stored.
        st, code = self.err(self.s3.put_object, Bucket=self.bucket, Key="c/bad", Body=data,
                            ChecksumCRC32=crc32_b64(b"other"))
        self.assertEqual((st, code), (400, "BadDigest"))
        self.assertEqual(self.err(self.s3.head_object, Bucket=self.bucket, Key="c/bad"),
                         (404, "404"))
        # SHA256 by choice.
        r = self.s3.put_object(Bucket=self.bucket, Key="c/sha", Body=data,
                               ChecksumAlgorithm="SHA256")
        self.assertIn("ChecksumSHA256", r)

    def test_empty_object(self):
        r = self.s3.put_object(Bucket=self.bucket, Key="empty", Body=b"")
        self.assertEqual(r["ETag"], '"d41d8cd98f00b204e9800998ecf8427e"')
        g = self.s3.get_object(Bucket=self.bucket, Key="empty")
        self.assertEqual((g["ContentLength"], g["Body"].read()), (0, b""))
        # Any range on an empty object: 416 InvalidRange (s3-tests
        # test_ranged_request_empty_object).
        self.assertEqual(self.err(self.s3.get_object, Bucket=self.bucket, Key="empty",
                                  Range="bytes=0-0"), (416, "InvalidRange"))

    def test_upload_and_download_multipart(self):
        data = data_of(12 * MiB + 12345, "mpu")
        tmp = tempfile.mkdtemp(prefix="boto3-")
        self.addCleanup(shutil.rmtree, tmp)
        src = os.path.join(tmp, "src")
        with open(src, "wb") as f:
            f.write(data)
        tc = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                            max_concurrency=3)
        self.s3.upload_file(src, self.bucket, "mp/file", Config=tc)
        h = self.s3.head_object(Bucket=self.bucket, Key="mp/file")
        self.assertEqual(h["ContentLength"], len(data))
        self.assertEqual(h["ETag"], multipart_etag([data[:5 * MiB], data[5 * MiB:10 * MiB],
                                                    data[10 * MiB:]]))
        self.s3.upload_fileobj(io.BytesIO(data), self.bucket, "mp/obj", Config=tc)
        dst = os.path.join(tmp, "dst")
        self.s3.download_file(self.bucket, "mp/obj", dst,
                              Config=TransferConfig(multipart_threshold=4 * MiB,
                                                    multipart_chunksize=4 * MiB))
        with open(dst, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())
        # get_object with checksum mode on a multipart object: the SDK
        # validates what it can and must not fail.
        g = self.s3.get_object(Bucket=self.bucket, Key="mp/file", ChecksumMode="ENABLED")
        self.assertEqual(hashlib.md5(g["Body"].read()).hexdigest(), md5hex(data))

    def test_multipart_errors(self):
        k = "mperr/k"
        self.assertEqual(self.err(self.s3.upload_part, Bucket=self.bucket, Key=k,
                                  UploadId="0" * 32, PartNumber=1, Body=b"x"),
                         (404, "NoSuchUpload"))
        self.assertEqual(self.err(self.s3.abort_multipart_upload, Bucket=self.bucket, Key=k,
                                  UploadId="0" * 32), (404, "NoSuchUpload"))
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=self.bucket, Key=k,
                                  UploadId="0" * 32,
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]}),
                         (404, "NoSuchUpload"))
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=k)["UploadId"]
        e1 = self.s3.upload_part(Bucket=self.bucket, Key=k, UploadId=up, PartNumber=1,
                                 Body=b"a" * 100)["ETag"]
        e2 = self.s3.upload_part(Bucket=self.bucket, Key=k, UploadId=up, PartNumber=2,
                                 Body=b"b" * 100)["ETag"]
        # A small non-last part: EntityTooSmall.
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=self.bucket, Key=k,
                                  UploadId=up, MultipartUpload={"Parts": [
                                      {"PartNumber": 1, "ETag": e1},
                                      {"PartNumber": 2, "ETag": e2}]}),
                         (400, "EntityTooSmall"))
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=self.bucket, Key=k,
                                  UploadId=up, MultipartUpload={"Parts": [
                                      {"PartNumber": 2, "ETag": e2},
                                      {"PartNumber": 1, "ETag": e1}]}),
                         (400, "InvalidPartOrder"))
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=self.bucket, Key=k,
                                  UploadId=up, MultipartUpload={"Parts": [
                                      {"PartNumber": 1, "ETag": e2}]}),
                         (400, "InvalidPart"))
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=self.bucket, Key=k,
                                  UploadId=up, MultipartUpload={"Parts": [
                                      {"PartNumber": 3, "ETag": e1}]}),
                         (400, "InvalidPart"))
        # Still usable: the single last part completes.
        r = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=k, UploadId=up,
                                              MultipartUpload={"Parts": [
                                                  {"PartNumber": 1, "ETag": e1}]})
        self.assertEqual(r["ETag"], multipart_etag([b"a" * 100]))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read(),
                         b"a" * 100)

    def test_head_object_errors(self):
        self.assertEqual(self.err(self.s3.head_object, Bucket=self.bucket, Key="nope"),
                         (404, "404"))
        self.assertEqual(self.err(self.s3.head_object, Bucket="boto-no-such-bucket", Key="k"),
                         (404, "404"))
        self.assertEqual(self.err(self.s3.get_object, Bucket=self.bucket, Key="nope"),
                         (404, "NoSuchKey"))
        self.assertEqual(self.err(self.s3.get_object, Bucket="boto-no-such-bucket", Key="k"),
                         (404, "NoSuchBucket"))
        # DeleteObject of an absent key: 204.
        r = self.s3.delete_object(Bucket=self.bucket, Key="nope")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)

    def test_error_xml_and_head_without_body(self):
        r = s3_request(self.d, "GET", "/%s/no/such key" % self.bucket)
        self.assertEqual(r.status, 404)
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, "Error")
        self.assertEqual(root.findtext("Code"), "NoSuchKey")
        self.assertTrue(root.findtext("Message"))
        self.assertTrue(root.findtext("RequestId"))
        self.assertEqual(root.findtext("RequestId"), r.headers.get("x-amz-request-id"))
        self.assertIn(root.findtext("Resource"), ("/%s/no/such key" % self.bucket,
                                                  "/%s/no/such%%20key" % self.bucket))
        self.assertTrue(r.headers.get("content-type", "").startswith("application/xml"))
        r = s3_request(self.d, "HEAD", "/%s/no/such key" % self.bucket)
        self.assertEqual((r.status, r.body), (404, b""))
        self.assertTrue(r.headers.get("x-amz-request-id"))

    def test_keys_1024_and_1025(self):
        k = "k/" + "x" * 1022
        self.s3.put_object(Bucket=self.bucket, Key=k, Body=b"long")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read(), b"long")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket,
                                                          Prefix="k/")["Contents"]]
        self.assertEqual(keys, [k])
        self.assertEqual(self.err(self.s3.put_object, Bucket=self.bucket, Key=k + "y",
                                  Body=b"x"), (400, "KeyTooLongError"))
        # 1024 bytes counted in UTF-8, not characters.
        k2 = "k/" + "\u00e9" * 511 + "y"
        self.assertEqual(len(k2.encode()), 1025)
        self.assertEqual(self.err(self.s3.put_object, Bucket=self.bucket, Key=k2, Body=b"x"),
                         (400, "KeyTooLongError"))

    def test_metadata_and_headers_round_trip(self):
        exp = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        self.s3.put_object(Bucket=self.bucket, Key="hdr", Body=b"hello",
                           Metadata={"Color": "blue", "with-dash": "a b  c"},
                           ContentType="text/x-thing", ContentEncoding="identity",
                           ContentDisposition='attachment; filename="a.txt"',
                           CacheControl="max-age=60", ContentLanguage="de", Expires=exp)
        for h in (self.s3.head_object(Bucket=self.bucket, Key="hdr"),
                  self.s3.get_object(Bucket=self.bucket, Key="hdr")):
            self.assertEqual(h["Metadata"], {"color": "blue", "with-dash": "a b  c"})
            self.assertEqual(h["ContentType"], "text/x-thing")
            self.assertEqual(h["ContentEncoding"], "identity")
            self.assertEqual(h["ContentDisposition"], 'attachment; filename="a.txt"')
            self.assertEqual(h["CacheControl"], "max-age=60")
            self.assertEqual(h["ContentLanguage"], "de")
            self.assertEqual(h["ResponseMetadata"]["HTTPHeaders"]["expires"],
                             "Wed, 02 Jan 2030 03:04:05 GMT")
        # response-* overrides on GET.
        g = self.s3.get_object(Bucket=self.bucket, Key="hdr", ResponseContentType="a/b",
                               ResponseContentDisposition="inline",
                               ResponseCacheControl="no-store",
                               ResponseContentEncoding="x-enc",
                               ResponseContentLanguage="fr",
                               ResponseExpires=datetime.datetime(2031, 1, 1,
                                                                 tzinfo=datetime.timezone.utc))
        self.assertEqual((g["ContentType"], g["ContentDisposition"], g["CacheControl"],
                          g["ContentEncoding"], g["ContentLanguage"]),
                         ("a/b", "inline", "no-store", "x-enc", "fr"))
        self.assertEqual(g["ResponseMetadata"]["HTTPHeaders"]["expires"],
                         "Wed, 01 Jan 2031 00:00:00 GMT")
        self.assertEqual(g["Body"].read(), b"hello")
        # Metadata over S3's 2 KB limit: 400 MetadataTooLarge.
        self.assertEqual(self.err(self.s3.put_object, Bucket=self.bucket, Key="big-meta",
                                  Body=b"x", Metadata={"m": "v" * 2100}),
                         (400, "MetadataTooLarge"))

    def test_metadata_non_ascii(self):
        # S3 decodes RFC 2047 encoded-words? No: it stores the value as
        # sent and, for a value with non-US-ASCII characters, returns it
        # RFC 2047 encoded. A client sending UTF-8 in an encoded word gets
        # the same encoded word back; plain ASCII stays as is.
        word = "=?UTF-8?B?w7xiZXI=?="
        self.s3.put_object(Bucket=self.bucket, Key="meta-2047", Body=b"x",
                           Metadata={"name": word})
        h = self.s3.head_object(Bucket=self.bucket, Key="meta-2047")
        self.assertEqual(h["Metadata"], {"name": word})

    def test_conditional_get_and_head(self):
        data = b"conditional"
        etag = self.s3.put_object(Bucket=self.bucket, Key="cond", Body=data)["ETag"]
        lm = self.s3.head_object(Bucket=self.bucket, Key="cond")["LastModified"]
        past = lm - datetime.timedelta(days=1)
        future = lm + datetime.timedelta(days=1)
        B, K = self.bucket, "cond"
        ok = self.s3.get_object(Bucket=B, Key=K, IfMatch=etag)
        self.assertEqual(ok["Body"].read(), data)
        self.assertEqual(self.err(self.s3.get_object, Bucket=B, Key=K, IfMatch='"abc"'),
                         (412, "PreconditionFailed"))
        self.assertEqual(self.err(self.s3.head_object, Bucket=B, Key=K, IfMatch='"abc"'),
                         (412, "412"))
        self.assertEqual(self.err(self.s3.get_object, Bucket=B, Key=K, IfNoneMatch=etag),
                         (304, "304"))
        self.assertEqual(self.err(self.s3.head_object, Bucket=B, Key=K, IfNoneMatch=etag),
                         (304, "304"))
        self.assertEqual(self.err(self.s3.get_object, Bucket=B, Key=K, IfModifiedSince=future),
                         (304, "304"))
        self.s3.get_object(Bucket=B, Key=K, IfModifiedSince=past)["Body"].read()
        self.assertEqual(self.err(self.s3.get_object, Bucket=B, Key=K,
                                  IfUnmodifiedSince=past), (412, "PreconditionFailed"))
        self.s3.get_object(Bucket=B, Key=K, IfUnmodifiedSince=future)["Body"].read()
        # S3 precedence: If-Match true + If-Unmodified-Since false -> 200;
        # If-None-Match false + If-Modified-Since true -> 304.
        self.s3.get_object(Bucket=B, Key=K, IfMatch=etag, IfUnmodifiedSince=past)["Body"].read()
        self.assertEqual(self.err(self.s3.get_object, Bucket=B, Key=K, IfNoneMatch=etag,
                                  IfModifiedSince=past), (304, "304"))
        # A 304 carries the ETag and Last-Modified, no body.
        r = s3_request(self.d, "GET", "/%s/%s" % (B, K), headers={"If-None-Match": etag})
        self.assertEqual((r.status, r.body, r.headers.get("etag")), (304, b"", etag))
        self.assertIn("last-modified", r.headers)

    def test_conditional_put(self):
        model = self.s3.meta.service_model.operation_model("PutObject")
        if "IfNoneMatch" not in model.input_shape.members:
            self.skipTest("botocore %s has no conditional writes" % botocore.__version__)
        B = self.bucket
        r = self.s3.put_object(Bucket=B, Key="once", Body=b"1", IfNoneMatch="*")
        self.assertEqual(self.err(self.s3.put_object, Bucket=B, Key="once", Body=b"2",
                                  IfNoneMatch="*"), (412, "PreconditionFailed"))
        self.assertEqual(self.s3.get_object(Bucket=B, Key="once")["Body"].read(), b"1")
        # If-Match on PUT (S3 conditional writes): wrong ETag 412, right ETag writes.
        self.assertEqual(self.err(self.s3.put_object, Bucket=B, Key="once", Body=b"3",
                                  IfMatch='"%s"' % md5hex(b"zz")), (412, "PreconditionFailed"))
        self.s3.put_object(Bucket=B, Key="once", Body=b"4", IfMatch=r["ETag"])
        self.assertEqual(self.s3.get_object(Bucket=B, Key="once")["Body"].read(), b"4")
        # If-Match on an absent key: 404 NoSuchKey.
        self.assertEqual(self.err(self.s3.put_object, Bucket=B, Key="never", Body=b"3",
                                  IfMatch=r["ETag"]), (404, "NoSuchKey"))
        # s3-tests test_put_object_if_match matrix.
        etag = self.s3.head_object(Bucket=B, Key="once")["ETag"]
        self.assertEqual(self.err(self.s3.put_object, Bucket=B, Key="once", Body=b"5",
                                  IfNoneMatch=etag), (412, "PreconditionFailed"))
        self.s3.put_object(Bucket=B, Key="once", Body=b"6", IfNoneMatch='"badetag"')
        self.s3.put_object(Bucket=B, Key="once", Body=b"7", IfMatch="*")
        self.assertEqual(self.err(self.s3.put_object, Bucket=B, Key="never", Body=b"3",
                                  IfMatch="*"), (404, "NoSuchKey"))
        # Conditional delete: a wrong If-Match is 412 and keeps the object;
        # an absent key is NoSuchKey (AWS; RGW says 204).
        self.assertEqual(self.err(self.s3.delete_object, Bucket=B, Key="once",
                                  IfMatch='"badetag"'), (412, "PreconditionFailed"))
        etag = self.s3.head_object(Bucket=B, Key="once")["ETag"]
        self.s3.delete_object(Bucket=B, Key="once", IfMatch=etag)
        self.assertEqual(self.err(self.s3.head_object, Bucket=B, Key="once"), (404, "404"))
        self.assertEqual(self.err(self.s3.delete_object, Bucket=B, Key="once", IfMatch="*"),
                         (404, "NoSuchKey"))
        # Copy with destination conditions.
        self.s3.put_object(Bucket=B, Key="once-src", Body=b"src")
        self.s3.copy_object(Bucket=B, Key="once", CopySource="%s/once-src" % B, IfNoneMatch="*")
        self.assertEqual(self.err(self.s3.copy_object, Bucket=B, Key="once",
                                  CopySource="%s/once-src" % B, IfNoneMatch="*"),
                         (412, "PreconditionFailed"))
        self.assertEqual(self.err(self.s3.copy_object, Bucket=B, Key="once",
                                  CopySource="%s/once-src" % B, IfMatch='"badetag"'),
                         (412, "PreconditionFailed"))
        r = self.s3.put_object(Bucket=B, Key="once", Body=b"4")
        # Conditional create on complete: If-None-Match: * with an existing key.
        up = self.s3.create_multipart_upload(Bucket=B, Key="once")["UploadId"]
        e = self.s3.upload_part(Bucket=B, Key="once", UploadId=up, PartNumber=1,
                                Body=b"5")["ETag"]
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=B, Key="once",
                                  UploadId=up, IfNoneMatch="*",
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]}),
                         (412, "PreconditionFailed"))
        self.assertEqual(self.err(self.s3.complete_multipart_upload, Bucket=B, Key="once",
                                  UploadId=up, IfMatch='"badetag"',
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]}),
                         (412, "PreconditionFailed"))
        done = self.s3.complete_multipart_upload(Bucket=B, Key="once", UploadId=up,
                                                 IfMatch=r["ETag"],
                                                 MultipartUpload={"Parts": [
                                                     {"PartNumber": 1, "ETag": e}]})
        self.assertEqual(done["ETag"], multipart_etag([b"5"]))
        self.assertEqual(self.s3.get_object(Bucket=B, Key="once")["Body"].read(), b"5")

    def test_ranges(self):
        data = data_of(1000, "range")
        B, K = self.bucket, "rng"
        self.s3.put_object(Bucket=B, Key=K, Body=data)

        def rng(spec):
            g = self.s3.get_object(Bucket=B, Key=K, Range=spec)
            return (g["ResponseMetadata"]["HTTPStatusCode"], g.get("ContentRange"),
                    g["ContentLength"], g["Body"].read())
        self.assertEqual(rng("bytes=0-0"), (206, "bytes 0-0/1000", 1, data[:1]))
        self.assertEqual(rng("bytes=-10"), (206, "bytes 990-999/1000", 10, data[-10:]))
        self.assertEqual(rng("bytes=995-"), (206, "bytes 995-999/1000", 5, data[995:]))
        self.assertEqual(rng("bytes=990-5000"), (206, "bytes 990-999/1000", 10, data[990:]))
        self.assertEqual(rng("bytes=-5000"), (206, "bytes 0-999/1000", 1000, data))
        # Not satisfiable: 416 InvalidRange with Content-Range bytes */size.
        self.assertEqual(self.err(self.s3.get_object, Bucket=B, Key=K, Range="bytes=1000-1001"),
                         (416, "InvalidRange"))
        r = s3_request(self.d, "GET", "/%s/%s" % (B, K), headers={"Range": "bytes=2000-"})
        self.assertEqual((r.status, r.code), (416, "InvalidRange"))
        self.assertEqual(r.headers.get("content-range"), "bytes */1000")
        # Multiple ranges and syntactically invalid ones: S3 ignores the
        # header and returns the whole object.
        for spec in ("bytes=0-1,5-6", "bytes=5-2", "chars=0-1", "bytes=x-y"):
            st, cr, n, body = rng(spec)
            self.assertEqual((st, cr, n, body == data), (200, None, 1000, True), spec)
        # Range with If-Match on the same GET.
        g = self.s3.get_object(Bucket=B, Key=K, Range="bytes=1-2", IfMatch='"%s"' % md5hex(data))
        self.assertEqual(g["Body"].read(), data[1:3])
        # Checksum headers only on full 200 answers.
        g = self.s3.get_object(Bucket=B, Key=K, Range="bytes=1-2", ChecksumMode="ENABLED")
        self.assertNotIn("ChecksumCRC32", g)
        g["Body"].read()

    def test_copy_object(self):
        B = self.bucket
        src = self.s3.put_object(Bucket=B, Key="cp/src", Body=b"copy me",
                                 Metadata={"a": "1"}, ContentType="text/a", **CRC_ARGS)
        r = self.s3.copy_object(Bucket=B, Key="cp/dst", CopySource={"Bucket": B, "Key": "cp/src"})
        self.assertEqual(r["CopyObjectResult"]["ETag"], src["ETag"])
        self.assertIn("LastModified", r["CopyObjectResult"])
        h = self.s3.head_object(Bucket=B, Key="cp/dst")
        self.assertEqual((h["Metadata"], h["ContentType"]), ({"a": "1"}, "text/a"))
        self.s3.copy_object(Bucket=B, Key="cp/rep", CopySource="%s/cp/src" % B,
                            MetadataDirective="REPLACE", Metadata={"b": "2"},
                            ContentType="text/b")
        h = self.s3.head_object(Bucket=B, Key="cp/rep", ChecksumMode="ENABLED")
        self.assertEqual((h["Metadata"], h["ContentType"]), ({"b": "2"}, "text/b"))
        # The bytes did not change: the copy keeps the source's checksum.
        self.assertEqual(h.get("ChecksumCRC32"), crc32_b64(b"copy me"))
        # Copy onto itself with REPLACE changes metadata; without: 400 InvalidRequest.
        self.s3.copy_object(Bucket=B, Key="cp/rep", CopySource="%s/cp/rep" % B,
                            MetadataDirective="REPLACE", Metadata={"c": "3"})
        self.assertEqual(self.s3.head_object(Bucket=B, Key="cp/rep")["Metadata"], {"c": "3"})
        self.assertEqual(self.err(self.s3.copy_object, Bucket=B, Key="cp/rep",
                                  CopySource="%s/cp/rep" % B), (400, "InvalidRequest"))
        # Conditional copies: every failed condition is 412 PreconditionFailed.
        lm = self.s3.head_object(Bucket=B, Key="cp/src")["LastModified"]
        for kw in ({"CopySourceIfMatch": '"nope"'},
                   {"CopySourceIfNoneMatch": src["ETag"]},
                   {"CopySourceIfModifiedSince": lm + datetime.timedelta(days=1)},
                   {"CopySourceIfUnmodifiedSince": lm - datetime.timedelta(days=1)}):
            self.assertEqual(self.err(self.s3.copy_object, Bucket=B, Key="cp/cond",
                                      CopySource="%s/cp/src" % B, **kw),
                             (412, "PreconditionFailed"), kw)
        self.s3.copy_object(Bucket=B, Key="cp/cond", CopySource="%s/cp/src" % B,
                            CopySourceIfMatch=src["ETag"])
        self.assertEqual(self.s3.get_object(Bucket=B, Key="cp/cond")["Body"].read(), b"copy me")
        self.assertEqual(self.err(self.s3.copy_object, Bucket=B, Key="cp/x",
                                  CopySource="%s/cp/absent" % B), (404, "NoSuchKey"))
        self.assertEqual(self.err(self.s3.copy_object, Bucket=B, Key="cp/x",
                                  CopySource="boto-no-such-bucket/cp/src"),
                         (404, "NoSuchBucket"))

    def test_delete_objects(self):
        B = self.bucket
        for i in range(3):
            self.s3.put_object(Bucket=B, Key="del/%d" % i, Body=b"d")
        r = self.s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "del/0"},
                                                                 {"Key": "del/absent"}]})
        self.assertEqual(sorted(x["Key"] for x in r["Deleted"]), ["del/0", "del/absent"])
        self.assertNotIn("Errors", r)
        r = self.s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "del/1"},
                                                                 {"Key": "del/2"}],
                                                     "Quiet": True})
        self.assertNotIn("Deleted", r)
        self.assertNotIn("Errors", r)
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=B, Prefix="del/"))

    def test_presigned_get_and_put(self):
        # boto3 presigns with SigV2 query auth for us-east-1 unless told
        # otherwise; dedupd speaks SigV4 only (docs/S3.md).
        ps = client_for(self.d, signature_version="s3v4")
        B = self.bucket
        url = ps.generate_presigned_url("put_object", Params={"Bucket": B, "Key": "ps/up"},
                                             ExpiresIn=300)
        req = urllib.request.Request(url, data=b"presigned body", method="PUT")
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.headers["ETag"], '"%s"' % md5hex(b"presigned body"))
        url = ps.generate_presigned_url("get_object", Params={"Bucket": B, "Key": "ps/up"},
                                             ExpiresIn=300)
        with urllib.request.urlopen(url, timeout=30) as resp:
            self.assertEqual(resp.read(), b"presigned body")
        # With response-* overrides in the signed query.
        url = ps.generate_presigned_url(
            "get_object", ExpiresIn=300,
            Params={"Bucket": B, "Key": "ps/up", "ResponseContentDisposition": "attachment"})
        with urllib.request.urlopen(url, timeout=30) as resp:
            self.assertEqual(resp.headers["Content-Disposition"], "attachment")
        # Tampered: 403 SignatureDoesNotMatch.
        bad = url.replace("ps/up", "ps/other")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(bad, timeout=30)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", cm.exception.read())


    def test_sigv2_presigned_url(self):
        # boto3 (botocore <= 1.43 at least) presigns with SigV2 query auth
        # for us-east-1 unless signature_version is set. dedupd is
        # SigV4-only and answers as S3 does in SigV4-only regions.
        self.s3.put_object(Bucket=self.bucket, Key="ps/v2", Body=b"v2")
        url = self.s3.generate_presigned_url("get_object", ExpiresIn=300,
                                             Params={"Bucket": self.bucket, "Key": "ps/v2"})
        if "AWSAccessKeyId=" not in url:
            with urllib.request.urlopen(url, timeout=30) as resp:
                self.assertEqual(resp.read(), b"v2")
            return
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url, timeout=30)
        self.assertEqual(cm.exception.code, 400)
        body = cm.exception.read()
        self.assertIn(b"<Code>InvalidRequest</Code>", body)
        self.assertIn(b"AWS4-HMAC-SHA256", body)

    def _raw_sigv4(self, method, path, signed_content_sha=True, body=b"", tamper=None):
        """One request signed here so that x-amz-content-sha256 can be left
        out of SignedHeaders (AWS: signing it is optional)."""
        import hmac
        import http.client
        host = "%s:%d" % self.d.addrs["s3"]
        now = datetime.datetime.now(datetime.timezone.utc)
        amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload = hashlib.sha256(body).hexdigest()
        h = {"host": host, "x-amz-date": amz, "x-amz-content-sha256": payload}
        signed = sorted(h) if signed_content_sha else ["host", "x-amz-date"]
        canon = "\n".join([method, path, "", "".join("%s:%s\n" % (k, h[k]) for k in signed),
                           ";".join(signed), payload])
        scope = "%s/us-east-1/s3/aws4_request" % day
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                         hashlib.sha256(canon.encode()).hexdigest()])
        key = ("AWS4" + self.d.secret_key).encode()
        for part in (day, "us-east-1", "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        h["authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                              "Signature=%s" % (self.d.access_key, scope, ";".join(signed), sig))
        if tamper:
            h["x-amz-content-sha256"] = tamper
        conn = http.client.HTTPConnection(*self.d.addrs["s3"], timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=h)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def test_content_sha256_need_not_be_signed(self):
        path = "/%s/unsigned-sha" % self.bucket
        self.assertEqual(self._raw_sigv4("PUT", path, False, b"payload")[0], 200)
        st, body = self._raw_sigv4("GET", path, False)
        self.assertEqual((st, body), (200, b"payload"))
        # Its value is still covered by the signature (the canonical
        # request's last line): changing it breaks the signature.
        st, body = self._raw_sigv4("PUT", path, False, b"other",
                                   tamper=hashlib.sha256(b"other2").hexdigest())
        self.assertEqual(st, 403)
        self.assertIn(b"SignatureDoesNotMatch", body)
        self.assertEqual(self._raw_sigv4("GET", path, True), (200, b"payload"))

    def test_delete_objects_conditional(self):
        if "ETag" not in self.s3.meta.service_model.shape_for("ObjectIdentifier").members:
            self.skipTest("botocore %s has no conditional deletes" % botocore.__version__)
        B = self.bucket
        e1 = self.s3.put_object(Bucket=B, Key="cdel/1", Body=b"1")["ETag"]
        self.s3.put_object(Bucket=B, Key="cdel/2", Body=b"2")
        self.s3.put_object(Bucket=B, Key="cdel/3", Body=b"3")
        r = self.s3.delete_objects(Bucket=B, Delete={"Objects": [
            {"Key": "cdel/1", "ETag": e1}, {"Key": "cdel/2", "ETag": '"badetag"'},
            {"Key": "cdel/3", "ETag": "*"}, {"Key": "cdel/absent", "ETag": "*"}]})
        self.assertEqual(sorted(x["Key"] for x in r["Deleted"]), ["cdel/1", "cdel/3"])
        self.assertEqual(sorted((x["Key"], x["Code"]) for x in r["Errors"]),
                         [("cdel/2", "PreconditionFailed"), ("cdel/absent", "NoSuchKey")])
        self.assertEqual([o["Key"] for o in self.s3.list_objects_v2(
            Bucket=B, Prefix="cdel/")["Contents"]], ["cdel/2"])

    def test_delete_objects_version_ids(self):
        # Without versioning each object's only version is "null" (as
        # ListObjectVersions says): deleting it deletes the object; any
        # other VersionId names no version and deletes nothing.
        B = self.bucket
        self.s3.put_object(Bucket=B, Key="vdel/1", Body=b"1")
        self.s3.put_object(Bucket=B, Key="vdel/2", Body=b"2")
        r = self.s3.delete_objects(Bucket=B, Delete={"Objects": [
            {"Key": "vdel/1", "VersionId": "null"}, {"Key": "vdel/2", "VersionId": "3HL4kqtJ"}]})
        self.assertEqual([x["Key"] for x in r["Deleted"]], ["vdel/1"])
        self.assertEqual([(x["Key"], x["Code"]) for x in r["Errors"]],
                         [("vdel/2", "NoSuchVersion")])
        self.assertEqual([o["Key"] for o in self.s3.list_objects_v2(
            Bucket=B, Prefix="vdel/")["Contents"]], ["vdel/2"])

    def test_delete_objects_limits(self):
        st, code = self.err(self.s3.delete_objects, Bucket=self.bucket,
                            Delete={"Objects": [{"Key": "x%d" % i} for i in range(1001)]})
        self.assertEqual((st, code), (400, "MalformedXML"))
        r = self.s3.delete_objects(Bucket=self.bucket,
                                   Delete={"Objects": [{"Key": "x%d" % i} for i in range(1000)],
                                           "Quiet": True})
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_bad_authorization_headers(self):
        # ceph s3-tests test_object_create_bad_authorization_empty /
        # _unreadable: no AWS scheme at all is 403 AccessDenied; a malformed
        # AWS4-HMAC-SHA256 header is 400 AuthorizationHeaderMalformed.
        import http.client
        for value, want in (("", (403, b"AccessDenied")), ("\x07", (403, b"AccessDenied")),
                            ("Bearer abc", (403, b"AccessDenied")),
                            ("AWS4-HMAC-SHA256 Credential=x", (400,
                                                               b"AuthorizationHeaderMalformed"))):
            conn = http.client.HTTPConnection(*self.d.addrs["s3"], timeout=30)
            try:
                conn.request("PUT", "/%s/badauth" % self.bucket, body=b"bar",
                             headers={"Authorization": value})
                r = conn.getresponse()
                body = r.read()
            finally:
                conn.close()
            self.assertEqual(r.status, want[0], repr(value))
            self.assertIn(b"<Code>" + want[1] + b"</Code>", body, repr(value))
        self.assertEqual(self.err(self.s3.head_object, Bucket=self.bucket, Key="badauth"),
                         (404, "404"))

    def test_overrides_refuse_header_injection(self):
        self.s3.put_object(Bucket=self.bucket, Key="inj", Body=b"x")
        r = s3_request(self.d, "GET", "/%s/inj" % self.bucket,
                       query=[("response-content-type", "a\r\nX-Evil: 1")])
        self.assertEqual((r.status, r.code), (400, "InvalidArgument"))
        self.assertNotIn("x-evil", r.headers)


class TestBoto3Buckets(Boto3Case):
    def test_bucket_names(self):
        for name in ("ab", "Bad_Name", "UPPER", "a" * 64, "-leading", "trailing-",
                     "a..b", "192.168.5.4", "xn--abc", "bucket-s3alias"):
            self.assertEqual(self.err(self.s3.create_bucket, Bucket=name),
                             (400, "InvalidBucketName"), name)
        for name in ("abc", "a" * 63, "my.bucket-1"):
            self.s3.create_bucket(Bucket=name)
            self.s3.head_bucket(Bucket=name)
            self.s3.delete_bucket(Bucket=name)
        self.assertEqual(self.err(self.s3.head_bucket, Bucket="abc"), (404, "404"))

    def test_recreate_and_delete(self):
        self.s3.create_bucket(Bucket="boto-again")
        # Ours already: BucketAlreadyOwnedByYou (409; us-east-1 legacy 200 aside).
        self.assertEqual(self.err(self.s3.create_bucket, Bucket="boto-again"),
                         (409, "BucketAlreadyOwnedByYou"))
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertIn("boto-again", names)
        self.s3.put_object(Bucket="boto-again", Key="x", Body=b"x")
        self.assertEqual(self.err(self.s3.delete_bucket, Bucket="boto-again"),
                         (409, "BucketNotEmpty"))
        self.s3.delete_object(Bucket="boto-again", Key="x")
        self.s3.delete_bucket(Bucket="boto-again")
        self.assertEqual(self.err(self.s3.delete_bucket, Bucket="boto-again"),
                         (404, "NoSuchBucket"))
        self.assertEqual(self.err(self.s3.list_objects_v2, Bucket="boto-again"),
                         (404, "NoSuchBucket"))

    def test_list_buckets_paging(self):
        if "Prefix" not in self.s3.meta.service_model.operation_model(
                "ListBuckets").input_shape.members:
            self.skipTest("botocore %s has no ListBuckets paging" % botocore.__version__)
        names = ["boto-lb-%d" % i for i in range(5)]
        for n in names:
            self.s3.create_bucket(Bucket=n)
        r = self.s3.list_buckets(Prefix="boto-lb-")
        self.assertEqual([b["Name"] for b in r["Buckets"]], names)
        self.assertEqual(r.get("Prefix"), "boto-lb-")
        self.assertNotIn("ContinuationToken", r)
        r = self.s3.list_buckets(Prefix="boto-lb-", MaxBuckets=2)
        self.assertEqual([b["Name"] for b in r["Buckets"]], names[:2])
        r2 = self.s3.list_buckets(Prefix="boto-lb-", MaxBuckets=2,
                                  ContinuationToken=r["ContinuationToken"])
        self.assertEqual([b["Name"] for b in r2["Buckets"]], names[2:4])
        got = [b["Name"] for page in self.s3.get_paginator("list_buckets").paginate(
            Prefix="boto-lb-", PaginationConfig={"PageSize": 2}) for b in page["Buckets"]]
        self.assertEqual(got, names)
        r = s3_request(self.d, "GET", "/", query=[("max-buckets", "0")])
        self.assertEqual((r.status, r.code), (400, "InvalidArgument"))
        for n in names:
            self.s3.delete_bucket(Bucket=n)

    def test_get_acl_private(self):
        # dedupd's only ACL is "private": GET ?acl answers it (owner
        # FULL_CONTROL) for buckets and objects; setting ACLs is refused.
        self.s3.create_bucket(Bucket="boto-acl")
        self.s3.put_object(Bucket="boto-acl", Key="o", Body=b"x")
        for r in (self.s3.get_bucket_acl(Bucket="boto-acl"),
                  self.s3.get_object_acl(Bucket="boto-acl", Key="o")):
            self.assertEqual(len(r["Grants"]), 1)
            g = r["Grants"][0]
            self.assertEqual((g["Permission"], g["Grantee"]["Type"]),
                             ("FULL_CONTROL", "CanonicalUser"))
            self.assertEqual(g["Grantee"]["ID"], r["Owner"]["ID"])
        self.assertEqual(self.err(self.s3.get_object_acl, Bucket="boto-acl", Key="nope"),
                         (404, "NoSuchKey"))
        self.assertEqual(self.err(self.s3.get_bucket_acl, Bucket="boto-no-such"),
                         (404, "NoSuchBucket"))
        self.assertEqual(self.err(self.s3.put_bucket_acl, Bucket="boto-acl",
                                  ACL="public-read"), (501, "NotImplemented"))
        self.s3.delete_object(Bucket="boto-acl", Key="o")
        self.s3.delete_bucket(Bucket="boto-acl")

    def test_create_with_location_constraint(self):
        self.s3.create_bucket(Bucket="boto-loc",
                              CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.s3.head_bucket(Bucket="boto-loc")
        self.s3.delete_bucket(Bucket="boto-loc")


ODD_KEYS = ["odd/plain", "odd/with space", "odd/plus+sign", "odd/per%cent", "odd/\u00fcml\u00e4ut",
            "odd/new\nline", "odd/amp&lt<gt>", "odd/dir/a", "odd/dir/b", "odd/dir2/c",
            "odd/q?x=1", "odd/tab\there", "odd/\u65e5\u672c", "odd/dots/../x", "odd//double",
            "odd/./dot"]


class TestBoto3Listing(Boto3Case):
    bucket = "boto-list"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for k in ODD_KEYS:
            cls.s3.put_object(Bucket=cls.bucket, Key=k, Body=k.encode())

    def test_odd_keys_round_trip(self):
        for k in ODD_KEYS:
            self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read(),
                             k.encode(), repr(k))

    def test_paginator_delimiter_prefix(self):
        pg = self.s3.get_paginator("list_objects_v2")
        keys, prefixes, pages = [], [], 0
        for page in pg.paginate(Bucket=self.bucket, Prefix="odd/", Delimiter="/",
                                PaginationConfig={"PageSize": 2}):
            pages += 1
            self.assertLessEqual(page["KeyCount"], 2)
            keys += [o["Key"] for o in page.get("Contents", [])]
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        flat = sorted(k for k in ODD_KEYS if "/" not in k[4:])
        self.assertEqual(keys, sorted(flat, key=lambda s: s.encode()))
        want_pfx = sorted({k[:k.index("/", 4) + 1] for k in ODD_KEYS if "/" in k[4:]},
                          key=lambda s: s.encode())
        self.assertEqual(prefixes, want_pfx)
        self.assertIn("odd//", want_pfx)
        self.assertEqual(pages, (len(flat) + len(want_pfx) + 1) // 2)  # 2 entries a page
        # Without delimiter, all keys in UTF-8 byte order.
        allkeys = [o["Key"] for page in pg.paginate(Bucket=self.bucket,
                                                    PaginationConfig={"PageSize": 5})
                   for o in page.get("Contents", [])]
        self.assertEqual(allkeys, sorted(ODD_KEYS, key=lambda s: s.encode()))

    def test_start_after_and_explicit_url_encoding(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="odd/dir/a",
                                    Prefix="odd/")
        expect = sorted((k for k in ODD_KEYS if k.encode() > b"odd/dir/a"),
                        key=lambda s: s.encode())
        self.assertEqual([o["Key"] for o in r["Contents"]], expect)
        self.assertEqual(r["StartAfter"], "odd/dir/a")
        # EncodingType set by the caller: botocore does not decode, so we see
        # the wire form: every key percent-encoded.
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="odd/", EncodingType="url")
        self.assertEqual(r["EncodingType"], "url")
        import urllib.parse
        got = [o["Key"] for o in r["Contents"]]
        self.assertEqual([urllib.parse.unquote_plus(k) for k in got],
                         sorted(ODD_KEYS, key=lambda s: s.encode()))
        for k in got:
            self.assertNotIn(" ", k)
            self.assertNotIn("\n", k)
            self.assertTrue(all(ord(c) < 128 for c in k), k)
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="odd/", FetchOwner=True,
                                    MaxKeys=1)
        self.assertTrue(r["IsTruncated"])
        self.assertIn("Owner", r["Contents"][0])

    def test_list_edge_cases(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=0)
        self.assertEqual((r["KeyCount"], r["IsTruncated"]), (0, False))
        self.assertNotIn("Contents", r)
        # A prefix matching nothing and a delimiter: empty, not an error.
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="zzz/", Delimiter="/")
        self.assertEqual((r["KeyCount"], r["IsTruncated"]), (0, False))
        self.assertEqual(r["Prefix"], "zzz/")
        self.assertEqual(self.err(self.s3.list_objects_v2, Bucket=self.bucket,
                                  ContinuationToken="not-a-token!"),
                         (400, "InvalidArgument"))
        self.assertEqual(self.err(self.s3.list_objects_v2, Bucket=self.bucket, MaxKeys=-1),
                         (400, "InvalidArgument"))

    def test_list_objects_v1_marker(self):
        pg = self.s3.get_paginator("list_objects")
        keys = [o["Key"] for page in pg.paginate(Bucket=self.bucket,
                                                 PaginationConfig={"PageSize": 4})
                for o in page.get("Contents", [])]
        self.assertEqual(keys, sorted(ODD_KEYS, key=lambda s: s.encode()))
        r = self.s3.list_objects(Bucket=self.bucket, Marker="odd/dir2/c")
        self.assertEqual([o["Key"] for o in r["Contents"]],
                         sorted((k for k in ODD_KEYS if k.encode() > b"odd/dir2/c"),
                                key=lambda s: s.encode()))
        self.assertEqual(r["Marker"], "odd/dir2/c")
        # NextMarker only with a delimiter (S3 ListObjects): without one the
        # client continues after the last key it got.
        r = self.s3.list_objects(Bucket=self.bucket, MaxKeys=3)
        self.assertTrue(r["IsTruncated"])
        self.assertNotIn("NextMarker", r)
        r = self.s3.list_objects(Bucket=self.bucket, Prefix="odd/", Delimiter="/", MaxKeys=3)
        self.assertTrue(r["IsTruncated"])
        self.assertEqual(r["NextMarker"], r["Contents"][-1]["Key"])


class TestBoto3ListingS3Tests(Boto3Case):
    """Listing cases as ceph/s3-tests checks them (test_bucket_list*)."""
    bucket = "boto-s3t"
    KEYS = ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla", "foo+1/bar",
            "quux ab/thud", "asdf+b", "dir/", "dir/x", "a.b.c", "a%b", "x y"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for k in cls.KEYS:
            cls.s3.put_object(Bucket=cls.bucket, Key=k, Body=b"v")

    def keys_of(self, r):
        return [o["Key"] for o in r.get("Contents", [])]

    def pfx_of(self, r):
        return [p["Prefix"] for p in r.get("CommonPrefixes", [])]

    def test_delimiter_prefix_paging(self):
        pages, token = [], None
        for _ in range(20):
            kw = {"ContinuationToken": token} if token else {}
            r = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/", MaxKeys=1,
                                        Prefix="", **kw)
            self.assertEqual(r["KeyCount"], len(self.keys_of(r)) + len(self.pfx_of(r)))
            pages.append(self.keys_of(r) + self.pfx_of(r))
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        flat = sorted({k if "/" not in k else k[:k.index("/") + 1] for k in self.KEYS},
                      key=lambda s: s.encode())
        self.assertEqual(pages, [[x] for x in flat])
        # v1 with a delimiter: NextMarker is the last entry, a prefix too.
        r = self.s3.list_objects(Bucket=self.bucket, Delimiter="/", MaxKeys=3)
        self.assertEqual(r["NextMarker"], flat[2])
        r = self.s3.list_objects(Bucket=self.bucket, Delimiter="/", Marker=r["NextMarker"])
        self.assertEqual(sorted(self.keys_of(r) + self.pfx_of(r), key=lambda s: s.encode()),
                         flat[3:])

    def test_key_equal_to_prefix_and_other_delimiters(self):
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="dir/", Delimiter="/")
        self.assertEqual((self.keys_of(r), self.pfx_of(r)), (["dir/", "dir/x"], []))
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="a", Delimiter=".")
        self.assertEqual((self.keys_of(r), self.pfx_of(r)),
                         (["a%b", "asdf", "asdf+b"], ["a."]))
        r = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter=" ")
        self.assertEqual(self.pfx_of(r), ["quux ", "x "])
        r = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="")
        self.assertNotIn("Delimiter", r)
        self.assertEqual(len(self.keys_of(r)), len(self.KEYS))

    def test_encoding_basic(self):
        # s3-tests test_bucket_listv2_encoding_basic: keys and prefixes
        # percent-encoded, "/" kept.
        r = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/", EncodingType="url")
        self.assertIn("asdf%2Bb", self.keys_of(r))
        self.assertIn("foo%2B1/", self.pfx_of(r))
        self.assertIn("quux%20ab/", self.pfx_of(r))
        self.assertIn("x%20y", self.keys_of(r))
        r = self.s3.list_objects(Bucket=self.bucket, Delimiter="/", EncodingType="url")
        self.assertIn("foo%2B1/", self.pfx_of(r))

    def test_tokens_and_start_after(self):
        # An empty continuation token is no token (and echoed empty).
        r = self.s3.list_objects_v2(Bucket=self.bucket, ContinuationToken="")
        self.assertEqual(len(self.keys_of(r)), len(self.KEYS))
        self.assertEqual(r.get("ContinuationToken", ""), "")
        # Token and StartAfter: the token wins, StartAfter is echoed.
        first = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=2)
        r = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=2, StartAfter="x",
                                    ContinuationToken=first["NextContinuationToken"])
        allk = sorted(self.KEYS, key=lambda s: s.encode())
        self.assertEqual(self.keys_of(r), allk[2:4])
        self.assertEqual(r["StartAfter"], "x")
        # StartAfter not a key, and an unreadable one echoed as sent.
        r = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="b")
        self.assertEqual(self.keys_of(r), [k for k in allk if k > "b"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="\n")
        self.assertEqual(r["StartAfter"], "\n")
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["MaxKeys"], 1000)

    def test_list_object_versions_unversioned(self):
        # A bucket that never had versioning: each object is its only
        # version, VersionId "null", IsLatest. Paged the way ceph
        # s3-tests' cleanup pages (KeyMarker + VersionIdMarker, both Next*
        # markers present while truncated).
        got, kw = [], {}
        for _ in range(20):
            r = self.s3.list_object_versions(Bucket=self.bucket, MaxKeys=4, **kw)
            for v in r.get("Versions", []):
                self.assertEqual((v["VersionId"], v["IsLatest"]), ("null", True))
                self.assertIn("ID", v["Owner"])
                got.append(v["Key"])
            self.assertNotIn("DeleteMarkers", r)
            if not r["IsTruncated"]:
                break
            kw = {"KeyMarker": r["NextKeyMarker"], "VersionIdMarker": r["NextVersionIdMarker"]}
        self.assertEqual(got, sorted(self.KEYS, key=lambda s: s.encode()))
        r = self.s3.list_object_versions(Bucket=self.bucket, Prefix="boo/", Delimiter="/")
        self.assertEqual(([v["Key"] for v in r.get("Versions", [])],
                          [p["Prefix"] for p in r.get("CommonPrefixes", [])]),
                         (["boo/bar"], ["boo/baz/"]))
        h = self.s3.head_object(Bucket=self.bucket, Key="asdf")
        v = self.s3.list_object_versions(Bucket=self.bucket, Prefix="asdf")["Versions"][0]
        self.assertEqual((v["ETag"], v["Size"]), (h["ETag"], h["ContentLength"]))

    def test_return_data(self):
        # v1 lists Owner by default; v2 only with FetchOwner. LastModified
        # equals HEAD's at whole seconds; ETag and Size as HEAD.
        r = self.s3.list_objects(Bucket=self.bucket, Prefix="asdf")
        for o in r["Contents"]:
            self.assertIn("ID", o["Owner"])
            h = self.s3.head_object(Bucket=self.bucket, Key=o["Key"])
            self.assertEqual((o["ETag"], o["Size"]), (h["ETag"], h["ContentLength"]))
            self.assertEqual(o["LastModified"].replace(microsecond=0), h["LastModified"])
            self.assertEqual(o["StorageClass"], "STANDARD")
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="asdf")
        self.assertNotIn("Owner", r["Contents"][0])
        self.assertEqual(self.err(self.s3.list_objects, Bucket=self.bucket,
                                  MaxKeys=-5), (400, "InvalidArgument"))


def _make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class TestBoto3Tls(unittest.TestCase):
    """Over HTTPS boto3 sends streaming bodies as aws-chunked with a
    CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="boto3-tls-")
        cls.cert, key = _make_cert(cls.tmp)
        cls.d = Dedupd(config="[s3]\ntls_cert = %s\ntls_key = %s\n" % (cls.cert, key),
                       s3_tls_ca=cls.cert)
        try:
            cls.d.start()
        except BaseException:
            cls.d.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.s3 = client_for(cls.d, verify=cls.cert)
        cls.s3.create_bucket(Bucket="boto-tls")
        cls.wire = []
        cls.s3.meta.events.register("before-send.s3.*", cls._record)

    @classmethod
    def _record(cls, request, **kw):
        cls.wire.append(dict(request.headers))

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.d.proc and cls.d.proc.poll() is None:
                cls.d.stop()
        finally:
            cls.d.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @unittest.skipUnless(DEFAULT_CKSUM, "botocore < 1.36 sends no checksum trailer by default")
    def test_trailer_put_and_multipart(self):
        data = data_of(300000, "tls")
        del self.wire[:]
        self.s3.put_object(Bucket="boto-tls", Key="t/one", Body=io.BytesIO(data))
        sent = self.wire[-1]
        self.assertEqual(sent.get("X-Amz-Content-SHA256", b""),
                         b"STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        self.assertEqual(sent.get("X-Amz-Trailer"), b"x-amz-checksum-crc32")
        g = self.s3.get_object(Bucket="boto-tls", Key="t/one", ChecksumMode="ENABLED")
        self.assertEqual(g["ChecksumCRC32"], crc32_b64(data))
        self.assertEqual(g["Body"].read(), data)
        self.assertNotIn("ContentEncoding", g)
        mp = data_of(11 * MiB, "tls-mp")
        tc = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
        self.s3.upload_fileobj(io.BytesIO(mp), "boto-tls", "t/mp", Config=tc)
        h = self.s3.head_object(Bucket="boto-tls", Key="t/mp")
        self.assertEqual(h["ContentLength"], len(mp))
        g = self.s3.get_object(Bucket="boto-tls", Key="t/mp", ChecksumMode="ENABLED")
        self.assertEqual(hashlib.md5(g["Body"].read()).hexdigest(), md5hex(mp))


if __name__ == "__main__":
    unittest.main()
