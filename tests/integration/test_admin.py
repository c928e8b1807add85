"""The authenticated admin API (/v1/ on the admin listener) and dedupctl,
against a real dedupd: authentication (none, wrong secret, non-admin), users
whose new keys work over S3 and DDP only for the units granted to them,
revoke, unit quotas enforced on S3 PUT, unit stats, user/unit deletion,
verify, the body cap, and no secret in the daemon's log. TestLongVerify:
a deep verify runs on its own thread (S3 and admin requests are served
while it runs, even with one pool worker) and SIGTERM cancels it."""
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from clients import SharedDedupdCase, s3_request, sigv4_headers, make_bucket, list_keys
from harness import Dedupd, bin_path, run_tool

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_AUTH, EXIT_CONN = 0, 1, 2, 3, 4


def admin_request(d, method, path, query=(), body=b"", access_key=None,
                  secret_key=None, sign=True, headers=None):
    """One raw request to the admin listener, SigV4-signed like S3 (service
    "s3"); returns (status, parsed JSON or raw bytes)."""
    host = "%s:%d" % d.addrs["admin"]
    h = dict(headers or {})
    if sign:
        h = sigv4_headers(method, host, path, list(query), h,
                          hashlib.sha256(body).hexdigest(),
                          access_key or d.access_key, secret_key or d.secret_key)
    url = d.admin_url + path
    if query:
        url += "?" + "&".join("%s=%s" % kv for kv in query)
    req = urllib.request.Request(url, data=body or None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data


class TestAdmin(SharedDedupdCase):
    dedupd_args = ("--log-level", "debug")

    def ctl(self, *args, ak=None, sk=None, env=None, json_out=True):
        """Runs dedupctl as root (or ak/sk); returns (exit code, JSON or text, stderr)."""
        base = ["--admin-url", self.d.admin_url,
                "--access-key", ak or self.d.access_key,
                "--secret-key", sk or self.d.secret_key]
        if json_out:
            base.append("--json")
        r = run_tool("dedupctl", *(base + list(args)), env=env)
        out = r.stdout.decode()
        if json_out and out.strip():
            out = json.loads(out)
        return r.returncode, out, r.stderr.decode()

    def ok(self, *args):
        code, out, err = self.ctl(*args)
        self.assertEqual(code, EXIT_OK, "dedupctl %s: %r %s" % (args, out, err))
        return out

    def new_user(self, name):
        out = self.ok("user", "add", name)
        self.assertEqual(out["user"], name)
        self.assertRegex(out["access_key"], r"^[A-Z0-9]{20}$")
        self.assertGreaterEqual(len(out["secret_key"]), 40)
        return out["access_key"], out["secret_key"]

    # -- authentication --------------------------------------------------
    def test_unauthenticated_refused_monitoring_open(self):
        st, body = admin_request(self.d, "GET", "/v1/users", sign=False)
        self.assertEqual(st, 401)
        self.assertEqual(body["error"], "MissingAuthentication")
        st, body = admin_request(self.d, "POST", "/v1/users/mallory", sign=False)
        self.assertEqual(st, 401)
        self.assertEqual(self.ok("user", "show", "root")["role"], "admin")
        code, _, _ = self.ctl("user", "show", "mallory")
        self.assertEqual(code, EXIT_FAIL)  # was never created
        # /health and /metrics stay open for monitoring.
        self.assertEqual(self.d.admin_get("/health")[0], 200)
        self.assertEqual(self.d.admin_get("/metrics")[0], 200)

    def test_wrong_secret_refused(self):
        code, out, _ = self.ctl("user", "list", sk="x" * 40)
        self.assertEqual(code, EXIT_AUTH)
        self.assertEqual(out["error"], "SignatureDoesNotMatch")
        code, out, _ = self.ctl("user", "list", ak="NOSUCHKEY0000000", sk="x" * 40)
        self.assertEqual(code, EXIT_AUTH)
        self.assertEqual(out["error"], "InvalidAccessKeyId")
        st, _ = admin_request(self.d, "GET", "/v1/units", secret_key="y" * 40)
        self.assertEqual(st, 401)
        code, _, _ = self.ctl("user", "add", "eve", sk="x" * 40)
        self.assertEqual(code, EXIT_AUTH)
        self.assertEqual(self.ctl("user", "show", "eve")[0], EXIT_FAIL)

    def test_non_admin_forbidden(self):
        ak, sk = self.new_user("plain")
        code, out, _ = self.ctl("user", "list", ak=ak, sk=sk)
        self.assertEqual(code, EXIT_AUTH)
        self.assertEqual(out["error"], "AccessDenied")
        st, body = admin_request(self.d, "PUT", "/v1/users/plain/grants/x",
                                 access_key=ak, secret_key=sk)
        self.assertEqual(st, 403)
        self.assertEqual(body["error"], "AccessDenied")
        # An admin-role user made through the API may administer.
        created = self.ok("user", "add", "second-admin", "--admin")
        self.assertEqual(created["role"], "admin")
        out = self.ok("user", "show", "second-admin")
        self.assertEqual(out["role"], "admin")
        self.assertEqual(out["access_key"], created["access_key"])
        self.assertNotIn("secret_key", out)
        code, out, _ = self.ctl("whoami", ak=created["access_key"], sk=created["secret_key"])
        self.assertEqual((code, out["user"]), (EXIT_OK, "second-admin"))

    def test_credentials_file_and_environment(self):
        creds = self.d.credentials_path()
        r = run_tool("dedupctl", "--admin-url", self.d.admin_url, "--credentials",
                     creds, "--json", "whoami")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["user"], "root")
        env = {"DEDUPD_ADMIN_URL": self.d.admin_url,
               "DEDUPD_ACCESS_KEY": self.d.access_key,
               "DEDUPD_SECRET_KEY": self.d.secret_key}
        r = run_tool("dedupctl", "whoami", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("user: root", r.stdout.decode())
        # No keys at all: usage error, nothing sent.
        clean = {k: "" for k in ("DEDUPD_ACCESS_KEY", "DEDUPD_SECRET_KEY", "DEDUPD_CREDENTIALS")}
        clean["DEDUPD_ADMIN_URL"] = self.d.admin_url
        r = run_tool("dedupctl", "user", "list", env=clean)
        self.assertEqual(r.returncode, EXIT_USAGE)
        # Nothing listening: connection error.
        r = run_tool("dedupctl", "--admin-url", "http://127.0.0.1:1", "status")
        self.assertEqual(r.returncode, EXIT_CONN)

    # -- users and grants over S3 -------------------------------------------
    def test_user_grant_revoke_over_s3(self):
        make_bucket(self.d, "adm-a")
        make_bucket(self.d, "adm-b")
        ak, sk = self.new_user("alice")
        who = dict(access_key=ak, secret_key=sk)

        r = s3_request(self.d, "GET", "/", **who)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"<Name>adm-a</Name>", r.body)
        r = s3_request(self.d, "PUT", "/adm-a/k", body=b"x", **who)
        self.assertEqual((r.status, r.code), (403, "AccessDenied"))

        out = self.ok("grant", "alice", "adm-a")
        self.assertEqual((out["user"], out["unit"], out["granted"]), ("alice", "adm-a", True))
        self.assertEqual(self.ok("grants", "alice")["grants"], ["adm-a"])
        self.assertEqual(self.ok("user", "show", "alice")["grants"], ["adm-a"])

        r = s3_request(self.d, "PUT", "/adm-a/k", body=b"hello alice", **who)
        self.assertEqual(r.status, 200, r)
        r = s3_request(self.d, "GET", "/adm-a/k", **who)
        self.assertEqual((r.status, r.body), (200, b"hello alice"))
        self.assertEqual(list_keys(self.d, "adm-a", **who), ["k"])
        r = s3_request(self.d, "GET", "/", **who)
        self.assertIn(b"<Name>adm-a</Name>", r.body)
        self.assertNotIn(b"<Name>adm-b</Name>", r.body)
        for method, path in (("PUT", "/adm-b/k"), ("GET", "/adm-b"), ("GET", "/adm-b/k")):
            r = s3_request(self.d, method, path, body=b"y" if method == "PUT" else b"", **who)
            self.assertEqual((r.status, r.code), (403, "AccessDenied"), (method, path))

        out = self.ok("revoke", "alice", "adm-a")
        self.assertFalse(out["granted"])
        self.assertEqual(self.ok("grants", "alice")["grants"], [])
        r = s3_request(self.d, "GET", "/adm-a/k", **who)
        self.assertEqual((r.status, r.code), (403, "AccessDenied"))
        code, out, _ = self.ctl("revoke", "alice", "adm-a")
        self.assertEqual(code, EXIT_FAIL)
        self.assertEqual(out["error"], "NotFound")
        code, out, _ = self.ctl("grant", "alice", "no-such-unit")
        self.assertEqual(code, EXIT_FAIL)

    def test_user_delete(self):
        make_bucket(self.d, "adm-del")
        ak, sk = self.new_user("bob")
        self.ok("grant", "bob", "adm-del")
        r = s3_request(self.d, "PUT", "/adm-del/o", body=b"z", access_key=ak, secret_key=sk)
        self.assertEqual(r.status, 200, r)
        # Deleting a user with grants revokes them first.
        self.assertEqual(self.ok("user", "delete", "bob")["deleted"], "bob")
        names = [u["user"] for u in self.ok("user", "list")["users"]]
        self.assertNotIn("bob", names)
        self.assertIn("root", names)
        for u in self.ok("user", "list")["users"]:
            self.assertEqual(set(u), {"user", "access_key", "role"})  # no secrets
        r = s3_request(self.d, "GET", "/adm-del/o", access_key=ak, secret_key=sk)
        self.assertEqual((r.status, r.code), (403, "InvalidAccessKeyId"))
        self.assertEqual(self.ctl("user", "delete", "bob")[0], EXIT_FAIL)
        # The caller cannot delete itself.
        code, out, _ = self.ctl("user", "delete", "root")
        self.assertEqual(code, EXIT_FAIL)
        self.assertEqual(out["error"], "Conflict")
        # A name reused gets a new key pair; the old key stays dead.
        ak2, _ = self.new_user("bob")
        self.assertNotEqual(ak2, ak)
        # "." and ".." are no names: `revoke bob ..` must not turn into a
        # request on /v1/users/bob/ (which would delete bob).
        for bad in ("..", "."):
            self.assertEqual(self.ctl("revoke", "bob", bad)[0], EXIT_USAGE)
            self.assertEqual(self.ctl("unit", "create", bad)[0], EXIT_USAGE)
        self.assertIn("bob", [u["user"] for u in self.ok("user", "list")["users"]])
        st, body = admin_request(self.d, "POST", "/v1/units/..")
        self.assertNotEqual(st, 200, body)
        st, body = admin_request(self.d, "PUT", "/v1/users/bob/grants/%2E%2E")
        self.assertGreaterEqual(st, 400, body)
        self.assertIn("bob", [u["user"] for u in self.ok("user", "list")["users"]])

    # -- units ----------------------------------------------------------------
    def test_unit_quota_and_stats(self):
        out = self.ok("unit", "create", "adm-q", "--quota-soft", "20000",
                      "--quota-hard", "100000")
        self.assertEqual((out["unit"], out["quota_soft"], out["quota_hard"]),
                         ("adm-q", 20000, 100000))
        data = os.urandom(60000)
        r = s3_request(self.d, "PUT", "/adm-q/first", body=data)
        self.assertEqual(r.status, 200, r)
        r = s3_request(self.d, "PUT", "/adm-q/second", body=os.urandom(50000))
        self.assertEqual((r.status, r.code), (403, "QuotaExceeded"), r)
        self.assertIn("quota", r.message.lower())
        r = s3_request(self.d, "GET", "/adm-q/second")
        self.assertEqual(r.status, 404)

        units = {u["unit"]: u for u in self.ok("unit", "list")["units"]}
        u = units["adm-q"]
        self.assertEqual((u["objects"], u["logical_bytes"]), (1, 60000))
        self.assertGreater(u["physical_bytes"], 0)
        self.assertTrue(u["over_soft"])
        self.assertEqual(self.ok("unit", "show", "adm-q")["logical_bytes"], 60000)

        # Raising the hard quota lets the write through.
        out = self.ok("unit", "quota", "adm-q", "--quota-hard", "1M")
        self.assertEqual((out["quota_soft"], out["quota_hard"]), (20000, 1 << 20))
        r = s3_request(self.d, "PUT", "/adm-q/second", body=os.urandom(50000))
        self.assertEqual(r.status, 200, r)
        code, out, _ = self.ctl("unit", "quota", "adm-q", "--quota-soft", "2M")
        self.assertEqual(code, EXIT_FAIL)  # soft above hard
        self.assertEqual(out["error"], "InvalidArgument")

        # Not empty: refused; emptied: deleted.
        code, out, _ = self.ctl("unit", "delete", "adm-q")
        self.assertEqual((code, out["error"]), (EXIT_FAIL, "NotEmpty"))
        for k in ("first", "second"):
            self.assertEqual(s3_request(self.d, "DELETE", "/adm-q/" + k).status, 204)
        self.assertEqual(self.ok("unit", "delete", "adm-q")["deleted"], "adm-q")
        self.assertEqual(self.ctl("unit", "show", "adm-q")[0], EXIT_FAIL)
        code, out, _ = self.ctl("unit", "create", "adm-q2", "--quota-hard", "12X")
        self.assertEqual(code, EXIT_USAGE)

    def test_unit_create_exists_and_bad_names(self):
        self.ok("unit", "create", "adm-dup")
        code, out, _ = self.ctl("unit", "create", "adm-dup")
        self.assertEqual((code, out["error"]), (EXIT_FAIL, "AlreadyExists"))
        self.assertEqual(self.ctl("user", "add", "bad/name")[0], EXIT_USAGE)
        st, body = admin_request(self.d, "POST", "/v1/units/bad!name")
        self.assertEqual((st, body["error"]), (400, "InvalidName"))
        st, body = admin_request(self.d, "GET", "/v1/nothing-here")
        self.assertEqual(st, 404)
        st, body = admin_request(self.d, "PATCH", "/v1/units")
        self.assertEqual(st, 405)
        st, body = admin_request(self.d, "POST", "/v1/units/adm-x", query=[("hard", "-1")])
        self.assertEqual((st, body["error"]), (400, "InvalidArgument"))

    def test_body_cap(self):
        st, body = admin_request(self.d, "POST", "/v1/units/adm-big", body=b"x" * (64 * 1024 + 1))
        self.assertEqual(st, 413)
        self.assertEqual(self.ctl("unit", "show", "adm-big")[0], EXIT_FAIL)
        # A small body is ignored: parameters come from path and query.
        st, body = admin_request(self.d, "POST", "/v1/units/adm-small", body=b"{}")
        self.assertEqual(st, 201, body)

    # -- DDP ------------------------------------------------------------------
    def test_new_user_over_ddp(self):
        ak, sk = self.new_user("dora")
        self.ok("unit", "create", "adm-ddp")
        self.ok("unit", "create", "adm-ddp-other")
        host, port = self.d.ddp_addr
        env = {"DDP_ENDPOINT": "%s:%d" % (host, port), "DDP_ACCESS_KEY": ak,
               "DDP_SECRET_KEY": sk}
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "in.bin")
            data = os.urandom(300000)
            with open(src, "wb") as f:
                f.write(data)
            r = run_tool("ddp", "put", src, "adm-ddp:f.bin", env=env)
            self.assertNotEqual(r.returncode, 0)  # not granted yet
            self.ok("grant", "dora", "adm-ddp")
            r = run_tool("ddp", "put", src, "adm-ddp:f.bin", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            dst = os.path.join(tmp, "out.bin")
            r = run_tool("ddp", "get", "adm-ddp:f.bin", dst, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(dst, "rb") as f:
                self.assertEqual(f.read(), data)
            r = run_tool("ddp", "units", env=env)
            self.assertIn(b"adm-ddp", r.stdout)
            self.assertNotIn(b"adm-ddp-other", r.stdout)
            r = run_tool("ddp", "put", src, "adm-ddp-other:f.bin", env=env)
            self.assertNotEqual(r.returncode, 0)
            bad = dict(env, DDP_SECRET_KEY="wrong-secret-0000000000")
            r = run_tool("ddp", "ls", "adm-ddp", env=bad)
            self.assertEqual(r.returncode, EXIT_AUTH)

    # -- verify, text output, secrets -----------------------------------------
    def test_verify(self):
        self.ok("unit", "create", "adm-ver")
        self.assertEqual(s3_request(self.d, "PUT", "/adm-ver/o", body=os.urandom(100000)).status, 200)
        out = self.ok("verify", "--deep")
        self.assertTrue(out["ok"])
        self.assertTrue(out["deep"])
        self.assertGreaterEqual(out["objects"], 1)
        self.assertGreaterEqual(out["chunks"], 1)
        self.assertEqual((out["bad_objects"], out["bad_regions"], out["problems"]), (0, 0, []))
        code, text, _ = self.ctl("verify", json_out=False)
        self.assertEqual(code, EXIT_OK)
        self.assertIn("ok: yes", text)

    def test_text_output(self):
        code, text, err = self.ctl("user", "add", "tina", json_out=False)
        self.assertEqual(code, EXIT_OK, err)
        self.assertIn("user: tina\n", text)
        self.assertRegex(text, r"secret_key: \S{40}")
        self.assertIn("not shown again", err)
        code, text, _ = self.ctl("user", "list", json_out=False)
        self.assertIn("user=tina", text)
        code, text, _ = self.ctl("status", json_out=False)
        self.assertEqual(code, EXIT_OK)
        self.assertIn("status: ok", text)
        code, text, err = self.ctl("user", "show", "nobody-here", json_out=False)
        self.assertEqual(code, EXIT_FAIL)
        self.assertIn("NotFound", err)

    def test_secrets_not_in_log(self):
        ak, sk = self.new_user("quiet")
        # Use the key (good and bad) on both listeners, then read the log.
        s3_request(self.d, "GET", "/", access_key=ak, secret_key=sk)
        s3_request(self.d, "GET", "/", access_key=ak, secret_key=sk[::-1])
        self.ctl("user", "list", ak=ak, sk=sk)
        self.ctl("user", "list", ak=ak, sk=sk[::-1])
        self.ok("user", "show", "quiet")
        log = self.d.log()
        self.assertIn("user quiet created", log)  # the log does record the event
        for secret in (sk, sk[::-1], self.d.secret_key):
            self.assertNotIn(secret, log)


MiB = 1024 * 1024


class TestLongVerify(unittest.TestCase):
    """One pool worker ([server] worker_threads = 1) and a store whose deep
    verify reads many GiB: one random object and many CopyObject clones of
    it (metadata only, so cheap to make; verify reads every clone end to
    end). The verify must not take the one worker from S3 and admin
    requests, and SIGTERM must stop it instead of waiting for it."""
    config = "[server]\nworker_threads = 1\n"

    def setUp(self):
        self.d = Dedupd(config=self.config)
        self.d.start()

    def tearDown(self):
        try:
            if self.d.proc and self.d.proc.poll() is None:
                self.d.stop()
        finally:
            self.d.cleanup()

    def fill(self, copies, size=16 * MiB):
        make_bucket(self.d, "lv-big")
        self.assertEqual(s3_request(self.d, "PUT", "/lv-big/src", body=os.urandom(size)).status, 200)
        for i in range(copies):
            r = s3_request(self.d, "PUT", "/lv-big/c%05d" % i,
                           headers={"x-amz-copy-source": "/lv-big/src"})
            self.assertEqual(r.status, 200, r)

    def start_verify(self):
        """Starts `dedupctl verify --deep` and waits until dedupd runs it."""
        cmd = [bin_path("dedupctl"), "--admin-url", self.d.admin_url,
               "--access-key", self.d.access_key, "--secret-key", self.d.secret_key,
               "--json", "verify", "--deep"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        self.d.wait_log(r"admin: verify \(deep\) started", timeout=30)
        return p

    def test_s3_and_admin_served_during_verify(self):
        self.fill(150)
        verify = self.start_verify()
        # With the verify on the pool's only worker these would wait for it.
        make_bucket(self.d, "lv-live")
        for i in range(3):
            data = os.urandom(300000 + i)
            r = s3_request(self.d, "PUT", "/lv-live/o%d" % i, body=data)
            self.assertEqual(r.status, 200, r)
            r = s3_request(self.d, "GET", "/lv-live/o%d" % i)
            self.assertEqual((r.status, r.body == data), (200, True), r)
        self.assertEqual(list_keys(self.d, "lv-live"), ["o0", "o1", "o2"])
        st, body = admin_request(self.d, "POST", "/v1/units/lv-unit")
        self.assertEqual(st, 201, body)
        st, body = admin_request(self.d, "GET", "/v1/units/lv-unit")
        self.assertEqual(st, 200, body)
        # ... all done while the first verify still runs: a second is Busy.
        st, body = admin_request(self.d, "POST", "/v1/verify", query=[("deep", "1")])
        self.assertEqual(st, 409, body)
        self.assertEqual(body["error"], "Busy")
        self.assertIsNone(verify.poll())
        out, err = verify.communicate(timeout=600)
        self.assertEqual(verify.returncode, EXIT_OK, err)
        rep = json.loads(out)
        self.assertTrue(rep["ok"])
        self.assertGreaterEqual(rep["objects"], 151)

    def test_sigterm_cancels_verify(self):
        # Big enough that waiting for the whole verify would outlast the
        # harness's stop timeout.
        self.fill(600)
        verify = self.start_verify()
        # SIGTERM; fails unless dedupd exits 0 within the stop timeout.
        self.assertEqual(self.d.stop(signal.SIGTERM), 0)
        out, err = verify.communicate(timeout=60)
        # The client got an answer (not a hang, not a reset): 503.
        self.assertEqual(verify.returncode, EXIT_FAIL, err)
        body = json.loads(out)
        self.assertEqual(body["error"], "ServiceUnavailable", body)
        self.assertIn("shutting down", body["message"])
        self.assertIn("admin: verify cancelled (shutting down)", self.d.log())


if __name__ == "__main__":
    unittest.main()
