"""Integration-test harness: runs the real dedupd on 127.0.0.1.

    with Dedupd() as d:
        d.s3_url, d.admin_url, d.ddp_addr, d.access_key, d.secret_key

A Dedupd gets a fresh temp data dir, port 0 on every listener, root
credentials from the environment, waits for GET /health, and on exit sends
SIGTERM, waits for a clean exit and fails the test on a non-zero exit code,
a process still running, or a sanitizer report in its log.
"""
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR", os.path.join(ROOT, "bin"))
SANITIZED = os.environ.get("DD_SANITIZED") == "1"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")
LISTEN_RE = re.compile(r"^listening (\w+) (\S+):(\d+)$")


def bin_path(name):
    return os.path.join(BINDIR, name)


class DedupdError(AssertionError):
    pass


class Dedupd:
    """One dedupd process. Use as a context manager."""

    def __init__(self, args=(), config=None, data_dir=None, env=None,
                 access_key="AKIATESTROOT0000", secret_key="test-root-secret-key-0123456789",
                 wait_health=True, start_timeout=30, admin_tls_ca=None,
                 s3_tls_ca=None):
        self.tmp = tempfile.mkdtemp(prefix="dedupd-it-")
        self.own_data_dir = data_dir is None
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.access_key, self.secret_key = access_key, secret_key
        self.env_keys = (access_key, secret_key)
        self.extra_args = list(args)
        self.config = config
        self.env_extra = env or {}
        self.wait_health = wait_health
        self.start_timeout = start_timeout
        # CA files (PEM) for listeners configured with TLS: URLs become
        # https:// and admin_get verifies the server against the CA.
        self.admin_tls_ca, self.s3_tls_ca = admin_tls_ca, s3_tls_ca
        self.proc = None
        self.addrs = {}
        self.log_lines = []
        self._log_lock = threading.Lock()
        self._listen_event = threading.Event()

    # -- lifecycle ---------------------------------------------------
    def command(self):
        cmd = [bin_path("dedupd"), "--data-dir", self.data_dir,
               "--s3-listen", "127.0.0.1:0", "--ddp-listen", "127.0.0.1:0",
               "--admin-listen", "127.0.0.1:0"]
        if self.config is not None:
            path = os.path.join(self.tmp, "dedupd.conf")
            with open(path, "w") as f:
                f.write(self.config)
            cmd = [cmd[0], "-c", path] + cmd[1:]
        # DD_TEST_LOG_LEVEL=debug: more detail in the log a failing test prints.
        if os.environ.get("DD_TEST_LOG_LEVEL"):
            cmd += ["--log-level", os.environ["DD_TEST_LOG_LEVEL"]]
        return cmd + self.extra_args

    def environment(self):
        env = dict(os.environ)
        # None means "unset": dedupd then generates (or keeps) its own.
        for name, value in (("DEDUPD_ROOT_ACCESS_KEY", self.env_keys[0]),
                            ("DEDUPD_ROOT_SECRET_KEY", self.env_keys[1])):
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        env.update(self.env_extra)
        return env

    def start(self):
        self.proc = subprocess.Popen(self.command(), env=self.environment(),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     errors="replace")
        threading.Thread(target=self._reader, daemon=True).start()
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.1)
                raise DedupdError("dedupd exited with %d during startup:\n%s"
                                  % (self.proc.returncode, self.log()))
            if all(k in self.addrs for k in ("s3", "ddp", "admin")):
                break
            self._listen_event.wait(0.05)
        else:
            self.kill()
            raise DedupdError("dedupd did not print its listeners:\n" + self.log())
        self._load_credentials()
        if self.wait_health:
            self._wait_health(deadline)
        return self

    def credentials_path(self):
        return os.path.join(self.data_dir, "root.credentials")

    def read_credentials(self):
        """Parses root.credentials; returns {"access_key": .., "secret_key": ..}."""
        out = {}
        with open(self.credentials_path()) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith(("#", ";")) or "=" not in line:
                    continue
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
        return out

    def _load_credentials(self):
        # The stored keys are the truth (env is ignored after the first start).
        try:
            c = self.read_credentials()
        except OSError:
            return
        self.access_key = c.get("access_key", self.access_key)
        self.secret_key = c.get("secret_key", self.secret_key)

    def _reader(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            with self._log_lock:
                self.log_lines.append(line)
            m = LISTEN_RE.match(line)
            if m:
                self.addrs[m.group(1)] = (m.group(2), int(m.group(3)))
                self._listen_event.set()

    def _wait_health(self, deadline):
        last = None
        while time.time() < deadline:
            try:
                status, body = self.admin_get("/health")
                if status == 200:
                    return
                last = "status %d" % status
            except OSError as e:
                last = str(e)
            time.sleep(0.05)
        self.kill()
        raise DedupdError("/health never answered 200 (%s):\n%s" % (last, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=20, expect_code=0):
        """Stops dedupd and checks it exited cleanly; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise DedupdError("dedupd still running %ss after signal %d:\n%s"
                                  % (timeout, sig, self.log()))
        code = self.proc.returncode
        time.sleep(0.05)
        self.check_sanitizers()
        if expect_code is not None and code != expect_code:
            raise DedupdError("dedupd exited with %s, expected %s:\n%s"
                              % (code, expect_code, self.log()))
        return code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def check_sanitizers(self):
        text = self.log()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise DedupdError("sanitizer report in dedupd log:\n" + text)

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, etype, exc, tb):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.stop(expect_code=None if etype else 0)
            elif etype is None:
                self.check_sanitizers()
        finally:
            self.cleanup()
        return False

    # -- helpers -------------------------------------------------------
    def log(self):
        with self._log_lock:
            return "\n".join(self.log_lines)

    def wait_log(self, pattern, timeout=10):
        """Waits until a log line matches pattern (regex); returns the match."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._log_lock:
                for line in self.log_lines:
                    m = rx.search(line)
                    if m:
                        return m
            time.sleep(0.05)
        raise DedupdError("no log line matching %r:\n%s" % (pattern, self.log()))

    def _url(self, kind):
        host, port = self.addrs[kind]
        ca = {"admin": self.admin_tls_ca, "s3": self.s3_tls_ca}.get(kind)
        return "%s://%s:%d" % ("https" if ca else "http", host, port)

    @property
    def s3_url(self):
        return self._url("s3")

    @property
    def admin_url(self):
        return self._url("admin")

    @property
    def ddp_addr(self):
        return self.addrs["ddp"]

    def admin_get(self, path, timeout=5):
        """GET on the admin listener; returns (status, body bytes)."""
        req = urllib.request.Request(self.admin_url + path)
        ctx = None
        if self.admin_tls_ca:
            ctx = ssl.create_default_context(cafile=self.admin_tls_ca)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def admin_json(self, path):
        status, body = self.admin_get(path)
        return status, json.loads(body)


def run_tool(name, *args, env=None, input=None, timeout=120, check=False):
    """Runs one of our binaries (ddp, dedupctl, dedupd); returns CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([bin_path(name)] + list(args), env=full_env,
                          input=input, capture_output=True, timeout=timeout,
                          check=check)


class DedupdTestCase(unittest.TestCase):
    """A test case with one fresh dedupd per test (self.d)."""
    dedupd_args = ()
    dedupd_config = None

    def setUp(self):
        self.d = Dedupd(args=self.dedupd_args, config=self.dedupd_config)
        self.d.start()

    def tearDown(self):
        try:
            if self.d.proc and self.d.proc.poll() is None:
                self.d.stop()
        finally:
            self.d.cleanup()
