"""S3 error responses and access control, with raw SigV4 requests
(clients.s3_request; its signatures match botocore's) against a real
dedupd (issue #4). Every error must be S3's: the HTTP status and an XML
<Error><Code>..</Code><Message>..</Message></Error> body (HEAD: status only).

- authentication: wrong secret -> 403 SignatureDoesNotMatch; unknown
  access key -> 403 InvalidAccessKeyId; no signature at all -> 403
  AccessDenied; a request dated an hour ago -> 403 RequestTimeTooSkewed;
  a body that does not match x-amz-content-sha256 -> 400
  XAmzContentSHA256Mismatch (and nothing stored).
- absent things: NoSuchBucket / NoSuchKey 404; HEAD 404 without a body;
  DELETE of an absent key 204.
- DeleteBucket of a non-empty bucket -> 409 BucketNotEmpty.
- Content-MD5 of other bytes -> 400 BadDigest; not base64 of 16 bytes ->
  400 InvalidDigest; nothing stored either way.
- a single PUT over 5 GiB (Expect: 100-continue) -> 400 EntityTooLarge
  from the headers alone, no body sent.
- users: a user granted only bucket A (via the assumed dedupctl interface,
  see clients.py) reads, writes and lists A, and gets 403 AccessDenied on
  everything in bucket B; wrong secret for that user is still
  SignatureDoesNotMatch.
"""
import datetime
import hashlib
import http.client
import unittest

from clients import (S3Response, SharedDedupdCase, admin_create_user, admin_grant, b64md5,
                     make_bucket, put_object, s3_request, sigv4_headers)


class ErrorCase(SharedDedupdCase):
    def assertS3Error(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.code, code, r)
        self.assertTrue(r.message, "error without <Message>: %r" % r)
        self.assertIn("xml", r.headers.get("content-type", ""), r.headers)


class TestAuthErrors(ErrorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_bucket(cls.d, "auth-b")
        put_object(cls.d, "auth-b", "obj", b"secret data")

    def test_signed_ok(self):
        r = s3_request(self.d, "GET", "/auth-b/obj")
        self.assertEqual((r.status, r.body), (200, b"secret data"))

    def test_wrong_secret(self):
        for method, path in (("GET", "/auth-b/obj"), ("GET", "/auth-b"), ("PUT", "/auth-b/new")):
            r = s3_request(self.d, method, path, secret_key="not-the-secret", body=b"x" if method == "PUT" else b"")
            self.assertS3Error(r, 403, "SignatureDoesNotMatch")
        self.assertEqual(s3_request(self.d, "GET", "/auth-b/new").status, 404)

    def test_unknown_access_key(self):
        r = s3_request(self.d, "GET", "/auth-b/obj", access_key="AKIANOSUCHKEY0000000")
        self.assertS3Error(r, 403, "InvalidAccessKeyId")

    def test_anonymous(self):
        for method, path in (("GET", "/auth-b/obj"), ("GET", "/auth-b"), ("GET", "/"),
                             ("PUT", "/auth-b/anon"), ("DELETE", "/auth-b/obj")):
            r = s3_request(self.d, method, path, sign=False, body=b"x" if method == "PUT" else b"")
            self.assertS3Error(r, 403, "AccessDenied")
        self.assertEqual(s3_request(self.d, "GET", "/auth-b/obj").status, 200)

    def test_request_time_too_skewed(self):
        then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        r = s3_request(self.d, "GET", "/auth-b/obj", now=then)
        self.assertS3Error(r, 403, "RequestTimeTooSkewed")

    def test_content_sha256_mismatch(self):
        r = s3_request(self.d, "PUT", "/auth-b/sha", body=b"the body",
                       payload_hash="0" * 64)
        self.assertS3Error(r, 400, "XAmzContentSHA256Mismatch")
        self.assertEqual(s3_request(self.d, "HEAD", "/auth-b/sha").status, 404)

    def test_unsigned_payload_accepted(self):
        r = s3_request(self.d, "PUT", "/auth-b/unsigned", body=b"unsigned body",
                       payload_hash="UNSIGNED-PAYLOAD")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(s3_request(self.d, "GET", "/auth-b/unsigned").body, b"unsigned body")


class TestNotFoundAndConflicts(ErrorCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_bucket(cls.d, "nf-b")

    def test_no_such_bucket(self):
        for method, path in (("GET", "/nf-absent/k"), ("GET", "/nf-absent"), ("PUT", "/nf-absent/k"),
                             ("DELETE", "/nf-absent")):
            r = s3_request(self.d, method, path, body=b"x" if method == "PUT" else b"")
            self.assertS3Error(r, 404, "NoSuchBucket")
        r = s3_request(self.d, "HEAD", "/nf-absent")
        self.assertEqual((r.status, r.body), (404, b""))

    def test_no_such_key(self):
        r = s3_request(self.d, "GET", "/nf-b/absent/key")
        self.assertS3Error(r, 404, "NoSuchKey")
        r = s3_request(self.d, "HEAD", "/nf-b/absent/key")
        self.assertEqual((r.status, r.body), (404, b""))
        r = s3_request(self.d, "DELETE", "/nf-b/absent/key")
        self.assertEqual(r.status, 204, r)

    def test_bucket_not_empty(self):
        make_bucket(self.d, "nf-full")
        put_object(self.d, "nf-full", "k", b"v")
        self.assertS3Error(s3_request(self.d, "DELETE", "/nf-full"), 409, "BucketNotEmpty")
        self.assertEqual(s3_request(self.d, "GET", "/nf-full/k").body, b"v")
        self.assertEqual(s3_request(self.d, "DELETE", "/nf-full/k").status, 204)
        self.assertEqual(s3_request(self.d, "DELETE", "/nf-full").status, 204)
        self.assertS3Error(s3_request(self.d, "GET", "/nf-full"), 404, "NoSuchBucket")

    def test_bad_digest(self):
        body = b"payload whose MD5 is not sent"
        r = s3_request(self.d, "PUT", "/nf-b/md5", body=body,
                       headers={"Content-MD5": b64md5(b"something else")})
        self.assertS3Error(r, 400, "BadDigest")
        self.assertEqual(s3_request(self.d, "HEAD", "/nf-b/md5").status, 404)
        r = s3_request(self.d, "PUT", "/nf-b/md5", body=body, headers={"Content-MD5": "not-base64-md5"})
        self.assertS3Error(r, 400, "InvalidDigest")
        self.assertEqual(s3_request(self.d, "HEAD", "/nf-b/md5").status, 404)
        r = s3_request(self.d, "PUT", "/nf-b/md5", body=body, headers={"Content-MD5": b64md5(body)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("etag"), '"%s"' % hashlib.md5(body).hexdigest())


class TestEntityTooLarge(ErrorCase):
    def test_single_put_over_5_gib_refused_before_body(self):
        # S3 caps a single PUT at 5 GiB. With Expect: 100-continue the
        # answer must come from the headers alone: no body is ever sent.
        make_bucket(self.d, "big-b")
        size = 5 * 1024 ** 3 + 1
        host = "%s:%d" % self.d.addrs["s3"]
        headers = sigv4_headers("PUT", host, "/big-b/huge", [],
                                {"Content-Length": str(size), "Expect": "100-continue"},
                                "UNSIGNED-PAYLOAD", self.d.access_key, self.d.secret_key)
        conn = http.client.HTTPConnection(*self.d.addrs["s3"], timeout=30)
        try:
            conn.putrequest("PUT", "/big-b/huge", skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            try:
                r = conn.getresponse()
                body = r.read()
            except TimeoutError:
                self.fail("no final answer within 30 s: dedupd waits for (or sent 100 Continue "
                          "for) a body it must refuse from Content-Length")
        finally:
            conn.close()
        self.assertS3Error(S3Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body),
                           400, "EntityTooLarge")
        self.assertEqual(s3_request(self.d, "HEAD", "/big-b/huge").status, 404)


class TestUserGrants(ErrorCase):
    def test_user_sees_only_granted_bucket(self):
        d = self.d
        make_bucket(d, "grant-a")
        make_bucket(d, "grant-b")
        put_object(d, "grant-a", "a-obj", b"in A")
        put_object(d, "grant-b", "b-obj", b"in B")
        ak, sk = admin_create_user(d, "alice")
        self.assertNotEqual(ak, d.access_key)
        # Before any grant: nothing.
        self.assertS3Error(s3_request(d, "GET", "/grant-a/a-obj", access_key=ak, secret_key=sk),
                           403, "AccessDenied")
        admin_grant(d, "alice", "grant-a")
        u = dict(access_key=ak, secret_key=sk)
        # Bucket A: list, read, write, delete.
        r = s3_request(d, "GET", "/grant-a", query=[("list-type", "2")], **u)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"<Key>a-obj</Key>", r.body)
        self.assertEqual(s3_request(d, "GET", "/grant-a/a-obj", **u).body, b"in A")
        self.assertEqual(s3_request(d, "PUT", "/grant-a/by-alice", body=b"alice", **u).status, 200)
        self.assertEqual(s3_request(d, "GET", "/grant-a/by-alice").body, b"alice")
        self.assertEqual(s3_request(d, "DELETE", "/grant-a/by-alice", **u).status, 204)
        # Bucket B: nothing, and nothing changes there.
        for method, path, query in (("GET", "/grant-b", [("list-type", "2")]), ("GET", "/grant-b", []),
                                    ("GET", "/grant-b/b-obj", []), ("PUT", "/grant-b/by-alice", []),
                                    ("DELETE", "/grant-b/b-obj", []), ("GET", "/grant-b", [("location", "")])):
            r = s3_request(d, method, path, query=query, body=b"x" if method == "PUT" else b"", **u)
            self.assertS3Error(r, 403, "AccessDenied")
        r = s3_request(d, "HEAD", "/grant-b/b-obj", **u)
        self.assertEqual(r.status, 403)
        self.assertEqual(s3_request(d, "GET", "/grant-b/b-obj").body, b"in B")
        self.assertEqual(s3_request(d, "HEAD", "/grant-b/by-alice").status, 404)
        # Copying B's object into A is a read of B: refused.
        r = s3_request(d, "PUT", "/grant-a/stolen", headers={"x-amz-copy-source": "/grant-b/b-obj"}, **u)
        self.assertS3Error(r, 403, "AccessDenied")
        self.assertEqual(s3_request(d, "HEAD", "/grant-a/stolen").status, 404)
        # The user's key with a wrong secret is still a signature error.
        r = s3_request(d, "GET", "/grant-a/a-obj", access_key=ak, secret_key=sk + "x")
        self.assertS3Error(r, 403, "SignatureDoesNotMatch")


if __name__ == "__main__":
    unittest.main()
