"""dedupd as a process: options, configuration, credentials, lock, signals."""
import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from harness import Dedupd, DedupdError, bin_path, run_tool

PORT0 = ["--s3-listen", "127.0.0.1:0", "--ddp-listen", "127.0.0.1:0",
         "--admin-listen", "127.0.0.1:0"]


def run_dedupd(args, env=None, timeout=20):
    """Runs dedupd expecting it to exit by itself; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.pop("DEDUPD_ROOT_ACCESS_KEY", None)
    full_env.pop("DEDUPD_ROOT_SECRET_KEY", None)
    full_env.update(env or {})
    return subprocess.run([bin_path("dedupd")] + list(args), env=full_env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


class TestOptions(unittest.TestCase):
    def test_version(self):
        r = run_dedupd(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^dedupd \d+\.\d+\.\d+\n$")

    def test_help_is_man_page_style(self):
        r = run_dedupd(["--help"])
        self.assertEqual(r.returncode, 0)
        for section in ("SYNOPSIS", "OPTIONS", "CONFIGURATION FILE",
                        "ENVIRONMENT", "SIGNALS", "FILES", "EXIT CODES"):
            self.assertIn(section, r.stdout)
        for opt in ("-c", "--data-dir", "--s3-listen", "--ddp-listen",
                    "--admin-listen", "--log-level", "--version",
                    "DEDUPD_ROOT_ACCESS_KEY", "SIGHUP", "SIGTERM"):
            self.assertIn(opt, r.stdout)
        self.assertRegex(r.stdout, r"\n\s+3\s+data directory")

    def test_unknown_option(self):
        r = run_dedupd(["--frobnicate"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--frobnicate'", r.stderr)
        self.assertIn("usage:", r.stderr)

    def test_missing_value_and_extra_argument(self):
        r = run_dedupd(["--data-dir"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs a value", r.stderr)
        r = run_dedupd(["stray"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unexpected argument 'stray'", r.stderr)

    def test_bad_flag_values(self):
        for flag, val in (("--s3-listen", "localhost"),
                          ("--admin-listen", "127.0.0.1:99999"),
                          ("--ddp-listen", "1.2.3:80"),
                          ("--log-level", "loud")):
            r = run_dedupd([flag, val])
            self.assertEqual(r.returncode, 2, (flag, val, r.stderr))
            self.assertIn(flag, r.stderr)
            self.assertIn(val, r.stderr)


class TestConfig(unittest.TestCase):
    def write(self, text):
        d = tempfile.mkdtemp(prefix="dedupd-cfg-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        path = os.path.join(d, "dedupd.conf")
        with open(path, "w") as f:
            f.write(text)
        return d, path

    def expect_config_error(self, text, pattern_fmt):
        d, path = self.write(text)
        r = run_dedupd(["-c", path, "--data-dir", os.path.join(d, "data")] + PORT0)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertRegex(r.stderr, pattern_fmt % re.escape(path))
        self.assertFalse(os.path.exists(os.path.join(d, "data")),
                         "data dir must not be touched on a config error")

    def test_unknown_key_names_file_line_key(self):
        self.expect_config_error(
            "[server]\nlog_level = info\n\n# comment\n[s3]\nlsten = 127.0.0.1:9000\n",
            r"^dedupd: %s:6: unknown key 'lsten' in \[s3\]\n$")

    def test_unknown_section(self):
        self.expect_config_error("[server]\n[bogus]\nx = 1\n",
                                 r"^dedupd: %s:2: unknown section \[bogus\]")

    def test_bad_value(self):
        self.expect_config_error("[limits]\nmax_connections = many\n",
                                 r"^dedupd: %s:2: bad value 'many' for key "
                                 r"'max_connections' in \[limits\]")

    def test_bad_port(self):
        self.expect_config_error("; ports\n[admin]\nlisten = 127.0.0.1:65536\n",
                                 r"^dedupd: %s:3: bad value '127.0.0.1:65536' "
                                 r"for key 'listen' in \[admin\]")

    def test_key_outside_section_and_garbage_line(self):
        self.expect_config_error("data_dir = /x\n",
                                 r"^dedupd: %s:1: key 'data_dir' outside any section")
        self.expect_config_error("[server]\njust words\n",
                                 r"^dedupd: %s:2: expected 'key = value'")

    def test_tls_cert_without_key(self):
        d, path = self.write("[s3]\ntls_cert = /nonexistent.pem\n")
        r = run_dedupd(["-c", path, "--data-dir", os.path.join(d, "data")] + PORT0)
        self.assertEqual(r.returncode, 2)
        self.assertIn("[s3] needs both tls_cert and tls_key", r.stderr)

    def test_missing_config_file(self):
        r = run_dedupd(["-c", "/nonexistent/dedupd.conf"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read config /nonexistent/dedupd.conf", r.stderr)

    def test_full_config_accepted(self):
        conf = """
# every section, with the values an operator would write
[server]
log_level = debug
io_threads = 2
worker_threads = 2
shutdown_grace_seconds = 3
[s3]
listen = 127.0.0.1:9000
domain = s3.example.test
region = eu-west-3
[ddp]
listen = 127.0.0.1:2052
[admin]
listen = 127.0.0.1:9001
[limits]
max_connections = 100
max_header_bytes = 8192
idle_timeout_seconds = 30
[store]
chunk_avg_kib = 16
container_mib = 64
"""
        # Flags (from the harness: port 0 everywhere) override the listen keys.
        with Dedupd(config=conf) as d:
            st, body = d.admin_json("/health")
            self.assertEqual(st, 200)
            self.assertEqual(body["status"], "ok")
            self.assertIn("region eu-west-3", d.log())
            self.assertNotEqual(d.addrs["admin"][1], 9001)

    def test_flags_override_file(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-ovr-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        file_dir = os.path.join(tmp, "from-file")
        conf = "[server]\ndata_dir = %s\nlog_level = error\n" % file_dir
        flag_dir = os.path.join(tmp, "from-flag")
        with Dedupd(config=conf, data_dir=flag_dir,
                    args=["--log-level", "info"]) as d:
            self.assertTrue(os.path.exists(os.path.join(flag_dir, "root.credentials")))
            self.assertFalse(os.path.exists(file_dir))
            # info lines appear although the file says error.
            d.wait_log(r" info  dedupd \S+ ready")


class TestExampleConfig(unittest.TestCase):
    ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

    def example_keys(self):
        keys, section = [], None
        with open(os.path.join(self.ROOT, "conf", "dedupd.conf.example")) as f:
            for line in f:
                line = line.strip()
                if line.startswith("["):
                    section = line.strip("[]")
                elif line and not line.startswith(("#", ";")):
                    keys.append((section, line.split("=", 1)[0].strip()))
        return keys

    def test_example_config_starts(self):
        with open(os.path.join(self.ROOT, "conf", "dedupd.conf.example")) as f:
            text = f.read()
        # The harness's flags override data_dir and the listen addresses.
        with Dedupd(config=text) as d:
            self.assertEqual(d.admin_json("/health")[1]["status"], "ok")

    def test_every_key_documented(self):
        keys = self.example_keys()
        self.assertGreaterEqual(len(keys), 22)
        with open(os.path.join(self.ROOT, "docs", "CONFIG.md")) as f:
            doc = f.read()
        for section, key in keys:
            self.assertIn("### [%s]" % section, doc)
            part = doc.split("### [%s]" % section, 1)[1].split("\n### ", 1)[0]
            self.assertIn("| `%s` |" % key, part, (section, key))


class TestListeners(unittest.TestCase):
    def test_port_zero_prints_bound_ports(self):
        with Dedupd() as d:
            ports = set()
            for kind in ("s3", "ddp", "admin"):
                host, port = d.addrs[kind]
                self.assertEqual(host, "127.0.0.1")
                self.assertGreater(port, 0)
                ports.add(port)
                socket.create_connection((host, port), timeout=5).close()
            self.assertEqual(len(ports), 3)
            self.assertRegex(d.log(), r"(?m)^  S3 endpoint:    http://127\.0\.0\.1:%d"
                             % d.addrs["s3"][1])
            self.assertIn("admin endpoint: http://127.0.0.1:%d" % d.addrs["admin"][1],
                          d.log())

    def test_relative_data_dir_reported_absolute(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-rel-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        rel = os.path.relpath(os.path.join(tmp, "data"))
        self.assertFalse(os.path.isabs(rel))
        with Dedupd(data_dir=rel) as d:
            st, body = d.admin_json("/health")
            self.assertEqual(body["data_dir"]["path"],
                             os.path.realpath(os.path.join(tmp, "data")))

    def test_busy_port_is_runtime_error(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        tmp = tempfile.mkdtemp(prefix="dedupd-busy-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        try:
            r = run_dedupd(["--data-dir", tmp, "--s3-listen", "127.0.0.1:%d" % port,
                            "--ddp-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        finally:
            s.close()
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot listen on 127.0.0.1:%d (s3)" % port, r.stderr)

    def test_ddp_default_handler_closes(self):
        with Dedupd() as d:
            c = socket.create_connection(d.ddp_addr, timeout=5)
            self.assertEqual(c.recv(10), b"")
            c.close()


class TestCredentials(unittest.TestCase):
    def test_env_credentials_stored_0600_and_reused(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-cred-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        data = os.path.join(tmp, "data")
        ak, sk = "AKIAENVROOT12345", "env-secret-key-ABCDEFGHIJ0123456789"
        with Dedupd(data_dir=data, access_key=ak, secret_key=sk) as d:
            path = d.credentials_path()
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            self.assertEqual(d.read_credentials(),
                             {"access_key": ak, "secret_key": sk})
            self.assertNotIn(sk, d.log())
            self.assertIn(path, d.log())  # where the keys are, not the keys
        # Second start with other env: the stored keys win, a warning says so.
        sk2 = "another-secret-key-9876543210zyxw"
        with Dedupd(data_dir=data, access_key="AKIAOTHER0000000", secret_key=sk2) as d:
            self.assertEqual(d.read_credentials(),
                             {"access_key": ak, "secret_key": sk})
            d.wait_log(r"warn .*differ")
            self.assertEqual((d.access_key, d.secret_key), (ak, sk))
            self.assertNotIn(sk, d.log())
            self.assertNotIn(sk2, d.log())

    def test_generated_credentials(self):
        with Dedupd(access_key=None, secret_key=None) as d:
            c = d.read_credentials()
            self.assertRegex(c["access_key"], r"^[A-Z0-9]{20}$")
            self.assertRegex(c["secret_key"], r"^[A-Za-z0-9+/]{40}$")
            self.assertNotIn(c["secret_key"], d.log())
        with Dedupd(access_key=None, secret_key=None) as d2:
            self.assertNotEqual(d2.read_credentials(), c)

    def test_only_one_env_key_is_usage_error(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-cred1-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        r = run_dedupd(["--data-dir", tmp] + PORT0,
                       env={"DEDUPD_ROOT_ACCESS_KEY": "AKIAONLY00000000"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("set both or neither", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(tmp, "root.credentials")))

    def test_terminal_gets_credentials_log_does_not(self):
        # `make run` runs dedupd with stdout on a terminal: the secret is
        # shown there, and never in the log (stderr here).
        import pty
        tmp = tempfile.mkdtemp(prefix="dedupd-tty-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        sk = "tty-secret-0123456789abcdef"
        env = dict(os.environ, DEDUPD_ROOT_ACCESS_KEY="AKIATTY000000000",
                   DEDUPD_ROOT_SECRET_KEY=sk)
        master, slave = pty.openpty()
        p = subprocess.Popen([bin_path("dedupd"), "--data-dir", tmp] + PORT0,
                             stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=subprocess.PIPE, env=env, text=True)
        os.close(slave)
        out = b""
        try:
            deadline = time.time() + 20
            while b"root secret key" not in out and time.time() < deadline:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
            os.close(master)
        self.assertEqual(p.returncode, 0, err)
        text = out.decode()
        self.assertIn("root access key: AKIATTY000000000", text)
        self.assertIn("root secret key: " + sk, text)
        self.assertIn("listening admin 127.0.0.1:", text)
        self.assertIn("ready", err)  # the log went to stderr...
        self.assertNotIn(sk, err)    # ...without the secret

    def test_print_credentials_goes_to_stdout_not_log(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-pc-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        logf = os.path.join(tmp, "dedupd.log")
        sk = "printed-secret-0123456789abcdef"
        with Dedupd(config="[server]\nlog_file = %s\n" % logf,
                    args=["--print-credentials"], secret_key=sk) as d:
            d.wait_log(r"^  root secret key: " + re.escape(sk) + "$")
            with open(logf) as f:
                text = f.read()
            self.assertIn("ready", text)
            self.assertNotIn(sk, text)


class TestLock(unittest.TestCase):
    def test_second_instance_refused(self):
        with Dedupd() as d:
            r = run_dedupd(["--data-dir", d.data_dir] + PORT0)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("locked by another dedupd (pid %d" % d.proc.pid, r.stderr)
            # The first one is unharmed.
            self.assertEqual(d.admin_get("/health")[0], 200)

    def test_unusable_data_dir(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-unus-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        afile = os.path.join(tmp, "file")
        open(afile, "w").close()
        r = run_dedupd(["--data-dir", os.path.join(afile, "sub")] + PORT0)
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot create data dir", r.stderr)


class TestSignals(unittest.TestCase):
    def test_sigterm_and_sigint_exit_zero(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            d = Dedupd()
            try:
                d.start()
                # An idle keep-alive connection must not delay shutdown.
                c = socket.create_connection(d.addrs["admin"], timeout=5)
                c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200 OK", c.recv(4096))
                t0 = time.time()
                self.assertEqual(d.stop(sig, timeout=10), 0)
                self.assertLess(time.time() - t0, 10)
                self.assertEqual(c.recv(10), b"")
                c.close()
                self.assertIn("shutting down", d.log())
                self.assertIn("dedupd stopped", d.log())
            finally:
                d.cleanup()

    def test_sighup_reopens_log_file(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-hup-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        logf = os.path.join(tmp, "dedupd.log")
        with Dedupd(config="[server]\nlog_file = %s\n" % logf) as d:
            with open(logf) as f:
                self.assertIn("ready", f.read())
            os.rename(logf, logf + ".1")
            d.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while time.time() < deadline and not os.path.exists(logf):
                time.sleep(0.05)
            self.assertTrue(os.path.exists(logf), "log file not reopened")
            d.stop()
            with open(logf) as f:
                new = f.read()
            with open(logf + ".1") as f:
                old = f.read()
            self.assertIn("log file reopened", new)
            self.assertIn("dedupd stopped", new)
            self.assertNotIn("dedupd stopped", old)
            self.assertIn("ready", old)


if __name__ == "__main__":
    unittest.main()
