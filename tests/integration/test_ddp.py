"""DDP end to end: the ddp CLI (libddp) against a real dedupd over TCP.

Put/get byte-exact, client-side dedup visible in `ddp put --json` (a second
put of the same file sends no segment data, a 2%-changed version sends
under 5% of its bytes), ls/stat/rm/cp/mv, a wrong secret exits with the
authentication code, and a peer sending garbage is disconnected while
another client keeps working.
"""
import json
import os
import random
import socket
import subprocess
import tempfile
import threading
import unittest

from harness import Dedupd, DedupdTestCase, run_tool

EXIT_FAIL, EXIT_USAGE, EXIT_AUTH, EXIT_CONN = 1, 2, 3, 4


class TestDDP(DedupdTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="test_ddp.")
        host, port = self.d.ddp_addr
        self.hostport = (host, int(port))
        self.env = {"DDP_ENDPOINT": "%s:%d" % self.hostport,
                    "DDP_ACCESS_KEY": self.d.access_key,
                    "DDP_SECRET_KEY": self.d.secret_key}
        r = self.ddp("mkunit", "backups")
        self.assertEqual(r.returncode, 0, r.stderr)

    def tearDown(self):
        for root, dirs, files in os.walk(self.tmp, topdown=False):
            for f in files:
                os.unlink(os.path.join(root, f))
            for x in dirs:
                os.rmdir(os.path.join(root, x))
        os.rmdir(self.tmp)
        super().tearDown()

    def ddp(self, *args, env=None, input=None):
        e = dict(self.env)
        e.update(env or {})
        return run_tool("ddp", *args, env=e, input=input)

    def put_json(self, src, dst):
        r = self.ddp("--json", "put", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def write(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def get_bytes(self, src):
        dst = os.path.join(self.tmp, "got.%d" % random.getrandbits(32))
        r = self.ddp("get", src, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(dst, "rb") as f:
            data = f.read()
        os.unlink(dst)
        return data

    def test_put_get_dedup(self):
        rnd = random.Random(5)
        data = bytearray(rnd.randbytes(8 << 20))
        src = self.write("a.bin", data)

        first = self.put_json(src, "backups:vm/a.bin")
        self.assertEqual(first["logical_bytes"], len(data))
        self.assertGreaterEqual(first["segment_bytes"], len(data) * 0.99)
        self.assertEqual(self.get_bytes("backups:vm/a.bin"), bytes(data))

        # Same bytes again: fingerprints only, no segment data.
        second = self.put_json(src, "backups:vm/b.bin")
        self.assertEqual(second["segment_bytes"], 0)
        self.assertEqual(second["segments_sent"], 0)
        self.assertLess(second["bytes_sent"], len(data) * 0.01)
        self.assertGreater(second["bytes_saved"], len(data) * 0.99)
        self.assertEqual(self.get_bytes("backups:vm/b.bin"), bytes(data))

        # 2% changed in a few places: under 5% of the bytes travel.
        changed = len(data) * 2 // 100
        for k in range(4):
            off = (k * 2 + 1) * len(data) // 9
            data[off:off + changed // 4] = rnd.randbytes(changed // 4)
        src2 = self.write("a2.bin", data)
        third = self.put_json(src2, "backups:vm/c.bin")
        self.assertGreater(third["segments_sent"], 0)
        self.assertLess(third["bytes_sent"], len(data) * 0.05)
        self.assertEqual(self.get_bytes("backups:vm/c.bin"), bytes(data))

        # stdin, and the text report
        r = self.ddp("put", "-", "backups:stdin.txt", input=b"hello over ddp\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"saved by dedup", r.stdout)
        self.assertEqual(self.get_bytes("backups:stdin.txt"), b"hello over ddp\n")

    def test_namespace(self):
        data = os.urandom(300000)
        src = self.write("f.bin", data)
        os.mkdir(os.path.join(self.tmp, "tree"))
        os.mkdir(os.path.join(self.tmp, "tree", "sub"))
        self.write("tree/x", b"x" * 10)
        self.write("tree/sub/y", b"y" * 20)
        self.assertEqual(self.put_json(src, "backups:dir/f.bin")["count"], 1)
        self.assertEqual(self.put_json(os.path.join(self.tmp, "tree"), "backups:t/")["count"], 2)

        r = self.ddp("--json", "stat", "backups:dir/f.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        st = json.loads(r.stdout)
        self.assertEqual((st["type"], st["size"]), ("file", len(data)))
        self.assertGreater(st["mtime_ns"], 0)
        st = json.loads(self.ddp("--json", "stat", "backups:dir").stdout)
        self.assertEqual(st["type"], "dir")

        r = self.ddp("--json", "ls", "backups")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(e["name"], e["type"]) for e in json.loads(r.stdout)],
                         [("dir/", "dir"), ("t/", "dir")])
        r = self.ddp("--json", "ls", "backups:t/tree")
        self.assertEqual([(e["name"], e["size"]) for e in json.loads(r.stdout)],
                         [("sub/", 0), ("x", 10)])
        self.assertEqual(self.get_bytes("backups:t/tree/sub/y"), b"y" * 20)

        # cp is a fastcopy: no data is sent, the copy reads back the same
        r = self.ddp("--json", "cp", "backups:dir/f.bin", "dir/g.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["size"], len(data))
        self.assertEqual(self.get_bytes("backups:dir/g.bin"), data)
        self.assertEqual(self.ddp("mv", "backups:dir/g.bin", "backups:dir/h.bin").returncode, 0)
        self.assertEqual(self.ddp("stat", "backups:dir/g.bin").returncode, EXIT_FAIL)
        self.assertEqual(self.get_bytes("backups:dir/h.bin"), data)

        self.assertEqual(self.ddp("rm", "backups:dir/f.bin", "backups:dir/h.bin").returncode, 0)
        r = self.ddp("stat", "backups:dir/f.bin")
        self.assertEqual(r.returncode, EXIT_FAIL)
        self.assertIn(b"ENOENT", r.stderr)
        r = self.ddp("--json", "ls", "backups")
        self.assertEqual([e["name"] for e in json.loads(r.stdout)], ["t/"])
        r = self.ddp("get", "backups:nope", os.path.join(self.tmp, "nope"))
        self.assertEqual(r.returncode, EXIT_FAIL)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "nope")))

        r = self.ddp("--json", "units")
        self.assertEqual(r.returncode, 0, r.stderr)
        units = json.loads(r.stdout)
        self.assertEqual([u["name"] for u in units], ["backups"])
        self.assertGreater(units[0]["logical_bytes"], 0)

    def test_auth_and_usage_errors(self):
        r = self.ddp("units", env={"DDP_SECRET_KEY": "wrong-secret"})
        self.assertEqual(r.returncode, EXIT_AUTH)
        self.assertIn(b"authentication", r.stderr)
        r = self.ddp("units", env={"DDP_ACCESS_KEY": "NOSUCHKEY"})
        self.assertEqual(r.returncode, EXIT_AUTH)
        self.assertEqual(self.ddp("put", "only-one-arg").returncode, EXIT_USAGE)
        self.assertEqual(self.ddp("frobnicate").returncode, EXIT_USAGE)
        self.assertEqual(self.ddp("--bogus").returncode, EXIT_USAGE)
        r = self.ddp("mkunit", "backups")
        self.assertEqual(r.returncode, EXIT_FAIL)
        self.assertIn(b"EEXIST", r.stderr)

    def test_config_file(self):
        """Endpoint and credentials from a config file (--config, DDP_CONFIG
        or ~/.config/ddp/config); flags and environment win over it; a
        world-readable file holding a secret is refused."""
        no_env = {"DDP_ENDPOINT": "", "DDP_ACCESS_KEY": "", "DDP_SECRET_KEY": "",
                  "DDP_CONFIG": "", "XDG_CONFIG_HOME": "", "HOME": self.tmp}
        conf = self.write("ddp.conf", (
            "# mover\nendpoint = %s:%d\naccess_key = %s\nsecret_key = %s\n"
            % (self.hostport + (self.d.access_key, self.d.secret_key))).encode())
        os.chmod(conf, 0o600)
        r = self.ddp("--config", conf, "--json", "units", env=no_env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("backups", r.stdout.decode())
        env = dict(no_env, DDP_CONFIG=conf)
        self.assertEqual(self.ddp("units", env=env).returncode, 0)
        # The default location under $HOME.
        os.makedirs(os.path.join(self.tmp, ".config", "ddp"))
        default = os.path.join(self.tmp, ".config", "ddp", "config")
        os.rename(conf, default)
        src = self.write("cfg.bin", os.urandom(100_000))
        r = self.ddp("put", src, "backups:cfg.bin", env=no_env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.get_bytes("backups:cfg.bin"), open(src, "rb").read())
        # The environment wins over the file: a wrong secret there fails.
        r = self.ddp("units", env=dict(no_env, DDP_SECRET_KEY="wrong-secret"))
        self.assertEqual(r.returncode, EXIT_AUTH)
        # And a flag wins over both.
        r = self.ddp("--endpoint", "127.0.0.1:1", "units", env=no_env)
        self.assertEqual(r.returncode, EXIT_CONN)
        # A secret readable by others is refused, without printing it.
        os.chmod(default, 0o644)
        r = self.ddp("units", env=no_env)
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn(b"chmod 600", r.stderr)
        self.assertNotIn(self.d.secret_key.encode(), r.stderr)
        # A bad line names the line, not the value.
        bad = self.write("bad.conf", b"endpoint = x:1\nsecret-key = hunter2\n")
        r = self.ddp("--config", bad, "units", env=no_env)
        self.assertEqual(r.returncode, EXIT_USAGE)
        self.assertIn(b"line 2", r.stderr)
        self.assertNotIn(b"hunter2", r.stderr)
        r = self.ddp("--config", os.path.join(self.tmp, "missing.conf"), "units", env=no_env)
        self.assertEqual(r.returncode, EXIT_USAGE)

    def test_synthesize_virtual_full(self):
        """`ddp synth`: a new full from ranges of the last full and of an
        incremental, without sending data; it reads back byte-exact (over DDP
        and S3's view is the same store), and bad extents get clean errors."""
        full = os.urandom(3 * 1024 * 1024)
        incr = os.urandom(500_000)
        self.put_json(self.write("full.img", full), "backups:full/mon")
        self.put_json(self.write("incr.img", incr), "backups:incr/tue")
        r = self.ddp("--json", "synth", "backups:full/tue",
                     "full/mon@0+1048576", "incr/tue@0+500000",
                     "full/mon@1548576+1597152")
        self.assertEqual(r.returncode, 0, r.stderr)
        want = full[:1048576] + incr + full[1548576:]
        self.assertEqual(len(want), len(full))
        self.assertEqual(json.loads(r.stdout)["size"], len(want))
        self.assertEqual(self.get_bytes("backups:full/tue"), want)
        # Deleting the sources leaves the synthesized file whole.
        self.assertEqual(self.ddp("rm", "backups:full/mon", "backups:incr/tue").returncode, 0)
        self.assertEqual(self.get_bytes("backups:full/tue"), want)
        # Errors: a range past the source's end, a missing source, bad syntax.
        r = self.ddp("synth", "backups:x", "full/tue@3145000+1000")
        self.assertEqual(r.returncode, EXIT_FAIL)
        self.assertIn(b"ERANGE", r.stderr)
        r = self.ddp("synth", "backups:x", "nope@0+1")
        self.assertEqual(r.returncode, EXIT_FAIL)
        self.assertIn(b"ENOENT", r.stderr)
        self.assertEqual(self.ddp("synth", "backups:x", "full/tue@0").returncode, EXIT_USAGE)
        self.assertEqual(self.ddp("synth", "backups:x", "full/tue@0+0").returncode, EXIT_USAGE)
        self.assertNotEqual(self.ddp("stat", "backups:x").returncode, 0)

    def test_concurrent_clients(self):
        from harness import bin_path
        env = dict(os.environ)
        env.update(self.env)
        blobs = [os.urandom(3 << 20) for _ in range(3)]
        srcs = [self.write("c%d" % i, b) for i, b in enumerate(blobs)]
        procs = [subprocess.Popen([bin_path("ddp"), "--json", "put", src,
                                   "backups:conc/%d" % i], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for i, src in enumerate(srcs)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(json.loads(out)["logical_bytes"], 3 << 20)
        for i, b in enumerate(blobs):
            self.assertEqual(self.get_bytes("backups:conc/%d" % i), b)

    def run_on_pty(self, *args):
        """Runs ddp with stderr on a pseudo-terminal; returns (rc, stdout, tty bytes)."""
        import pty
        from harness import bin_path
        env = dict(os.environ)
        env.update(self.env)
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([bin_path("ddp")] + list(args), env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=slave)
        finally:
            os.close(slave)
        tty = b""
        try:
            while True:
                try:
                    b = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not b:
                    break
                tty += b
            out = p.stdout.read()
            p.stdout.close()
            rc = p.wait(120)
        finally:
            os.close(master)
        return rc, out, tty

    def test_progress_only_on_a_terminal(self):
        src = self.write("prog.bin", random.Random(7).randbytes(24 << 20))
        # scripts: stderr is a pipe, nothing but the summary on stdout
        r = self.ddp("put", src, "backups:prog/a.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        self.assertIn(b"saved by dedup", r.stdout)
        # a terminal: a progress line with bytes, a rate and the bytes saved
        rc, out, tty = self.run_on_pty("put", src, "backups:prog/b.bin")
        self.assertEqual(rc, 0, tty)
        line = tty.replace(b"\r\n", b"\n").split(b"\r")[-1]  # the tty adds \r
        self.assertRegex(line, rb"prog/b\.bin  24\.0 MiB / 24\.0 MiB  100%  "
                               rb"[0-9.]+ (B|KiB|MiB|GiB)/s  saved [0-9.]+ (B|KiB|MiB|GiB)")
        self.assertIn(b"saved by dedup", out)  # the summary stays on stdout
        # --json and --quiet silence it even on a terminal
        rc, out, tty = self.run_on_pty("--json", "put", src, "backups:prog/c.bin")
        self.assertEqual((rc, tty), (0, b""))
        self.assertEqual(json.loads(out)["logical_bytes"], 24 << 20)
        rc, out, tty = self.run_on_pty("--quiet", "put", src, "backups:prog/d.bin")
        self.assertEqual((rc, out, tty), (0, b"", b""))

    def test_half_close_still_answered(self):
        c = socket.create_connection(self.hostport, timeout=10)
        try:
            payload = b"DDP1" + bytes.fromhex("0001 0001 00000001 0004") + b"ddp1"
            c.sendall(bytes.fromhex("01 01 0000 00000007") +
                      len(payload).to_bytes(4, "big") + payload)
            c.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            c.close()
        # the HELLO answer (12-byte header + 64-byte body), then the close
        self.assertEqual(len(data), 12 + 64)
        self.assertEqual(data[:8], bytes.fromhex("01 01 0001 00000007"))

    def test_sigterm_closes_idle_session(self):
        c = socket.create_connection(self.hostport, timeout=10)
        try:
            payload = b"DDP1" + bytes.fromhex("0001 0001 00000001 0004") + b"ddp1"
            c.sendall(bytes.fromhex("01 01 0000 00000001") +
                      len(payload).to_bytes(4, "big") + payload)
            data = b""
            while len(data) < 76:
                chunk = c.recv(76 - len(data))
                self.assertTrue(chunk)
                data += chunk
            self.d.stop()  # SIGTERM; fails the test unless dedupd exits 0
            self.assertEqual(c.recv(10), b"")  # the drain closed the session
        finally:
            c.close()

    def test_garbage_peer_is_dropped(self):
        bad = socket.create_connection(self.hostport, timeout=10)
        try:
            bad.sendall(os.urandom(4096))
            # The server answers with an error (or nothing) and closes.
            bad.settimeout(10)
            while True:
                chunk = bad.recv(65536)
                if not chunk:
                    break
        finally:
            bad.close()
        # A slow garbage peer that stays connected does not block others.
        slow = socket.create_connection(self.hostport, timeout=10)
        try:
            slow.sendall(b"\x01\x01\x00\x00\x00\x00\x00\x01\x00\x00")  # half a header
            src = self.write("ok.bin", b"still working" * 1000)
            self.put_json(src, "backups:ok.bin")
            self.assertEqual(self.get_bytes("backups:ok.bin"), b"still working" * 1000)
        finally:
            slow.close()


class TestDDPChunking(DedupdTestCase):
    """A data dir created with [store] chunk_avg_kib = 16 (not the 8 KiB
    default): HELLO announces it and `ddp put` cuts with it, so a file the
    server chunked itself (an S3 PUT) is found by DSP: a DDP put of the same
    bytes sends no segment. With the old fixed 8 KiB client chunking every
    fingerprint would differ and all segments would be sent."""
    dedupd_config = "[store]\nchunk_avg_kib = 16\n"

    def test_put_uses_announced_chunking(self):
        from clients import s3_request
        env = {"DDP_ENDPOINT": "%s:%d" % (self.d.ddp_addr[0], int(self.d.ddp_addr[1])),
               "DDP_ACCESS_KEY": self.d.access_key, "DDP_SECRET_KEY": self.d.secret_key}
        r = run_tool("ddp", "mkunit", "chunky", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        data = random.Random(16).randbytes(4 << 20)
        resp = s3_request(self.d, "PUT", "/chunky/via-s3.bin", body=data)
        self.assertEqual(resp.status, 200, resp.body)

        r = run_tool("ddp", "--json", "put", "-", "chunky:via-ddp.bin", env=env, input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["chunking"], out["chunk_avg"]), ("server", 16384))
        self.assertEqual(out["logical_bytes"], len(data))
        self.assertGreater(out["segments"], 100)
        self.assertEqual(out["segments_sent"], 0)
        self.assertEqual(out["segment_bytes"], 0)
        # and a second DDP put of it sends nothing either
        r = run_tool("ddp", "--json", "put", "-", "chunky:again.bin", env=env, input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["segments_sent"], 0)
        r = run_tool("ddp", "get", "chunky:via-ddp.bin", "-", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, data)


class CuttingProxy:
    """A TCP proxy to the DDP listener on 127.0.0.1. The first connection is
    cut (both sockets closed) once `cut_after` client->server bytes went
    through; later connections pass. `sent[i]` counts the client->server
    bytes forwarded on connection i."""

    def __init__(self, target, cut_after):
        self.target, self.cut_after = target, cut_after
        self.sent = []
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.lsock.settimeout(0.1)  # so the accept loop sees close()
        self.addr = self.lsock.getsockname()
        self.threads = []
        self.socks = []
        self.stopping = False
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(None)
            u = socket.create_connection(self.target)
            self.socks += [c, u]
            idx = len(self.sent)
            self.sent.append(0)
            limit = self.cut_after if idx == 0 else None
            for args in ((c, u, idx, limit), (u, c, None, None)):
                t = threading.Thread(target=self._pump, args=args, daemon=True)
                t.start()
                self.threads.append(t)

    def _pump(self, src, dst, idx, limit):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and self.sent[idx] + len(data) >= limit:
                    data = data[:limit - self.sent[idx]]
                    dst.sendall(data)
                    self.sent[idx] += len(data)
                    break  # the cut: both connections go down
                dst.sendall(data)
                if idx is not None:
                    self.sent[idx] += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.stopping = True
        self.lsock.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(10)


class TestDDPResume(DedupdTestCase):
    """An interrupted and resumed write through the real CLI: a proxy cuts
    the connection in the middle of a `ddp put`; ddp reconnects, reopens the
    writer with its resume token and sends only what the server lacks. The
    proxy's own byte count checks ddp's report."""

    def test_put_resumes_after_cut(self):
        size = 24 << 20
        data = random.Random(24).randbytes(size)
        tmp = tempfile.mkdtemp(prefix="test_ddp_resume.")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        src = os.path.join(tmp, "vol.img")
        with open(src, "wb") as f:
            f.write(data)
        direct = {"DDP_ENDPOINT": "%s:%d" % (self.d.ddp_addr[0], int(self.d.ddp_addr[1])),
                  "DDP_ACCESS_KEY": self.d.access_key, "DDP_SECRET_KEY": self.d.secret_key}
        self.assertEqual(run_tool("ddp", "mkunit", "resume", env=direct).returncode, 0)

        # Without resume the cut is fatal (exit 4, connection broke).
        proxy = CuttingProxy(self.d.ddp_addr, 8 << 20)
        env = dict(direct, DDP_ENDPOINT="%s:%d" % proxy.addr)
        try:
            r = run_tool("ddp", "--no-resume", "put", src, "resume:a.img", env=env)
        finally:
            proxy.close()
        self.assertEqual(r.returncode, EXIT_CONN, r.stderr)
        self.assertEqual(run_tool("ddp", "stat", "resume:a.img", env=direct).returncode,
                         EXIT_FAIL)

        proxy = CuttingProxy(self.d.ddp_addr, 10 << 20)
        env = dict(direct, DDP_ENDPOINT="%s:%d" % proxy.addr)
        try:
            r = run_tool("ddp", "--json", "--retries", "3", "put", src, "resume:b.img",
                         env=env)
        finally:
            proxy.close()
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        f = out["files"][0]
        self.assertEqual(f["logical_bytes"], size)
        self.assertEqual(f["resumes"], 1)
        self.assertEqual(proxy.sent[0], 10 << 20)  # the cut happened
        self.assertEqual(len(proxy.sent), 2)
        # The server kept what arrived before the cut ...
        self.assertGreater(f["resume_offset"], 4 << 20)
        self.assertLessEqual(f["resume_offset"], 10 << 20)
        # ... and only the rest crossed the second connection (the
        # proxy's count adds the handshake and BYE to ddp's figure).
        self.assertLess(proxy.sent[1], size - (4 << 20))
        self.assertLessEqual(f["bytes_sent_after_resume"], proxy.sent[1])
        self.assertLess(proxy.sent[1] - f["bytes_sent_after_resume"], 4096)
        # ddp counted at least what the proxy forwarded before the cut
        self.assertGreaterEqual(f["bytes_sent"] - f["bytes_sent_after_resume"], proxy.sent[0])
        r = run_tool("ddp", "get", "resume:b.img", "-", env=direct)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, data)


class TestDDPTls(unittest.TestCase):
    def test_put_get_over_tls(self):
        tmp = tempfile.mkdtemp(prefix="test_ddp_tls.")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        conf = "[ddp]\ntls_cert = %s\ntls_key = %s\n" % (cert, key)
        with Dedupd(config=conf) as d:
            env = {"DDP_ENDPOINT": "%s:%d" % (d.ddp_addr[0], int(d.ddp_addr[1])),
                   "DDP_ACCESS_KEY": d.access_key, "DDP_SECRET_KEY": d.secret_key}
            tls = ("--tls", "--ca-file", cert)
            r = run_tool("ddp", *tls, "mkunit", "secure", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            data = os.urandom(200000)
            r = run_tool("ddp", *tls, "put", "-", "secure:f", env=env, input=data)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run_tool("ddp", *tls, "get", "secure:f", "-", env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, data)
            # An unverifiable certificate (not in the system store) is refused.
            r = run_tool("ddp", "--tls", "units", env=env)
            self.assertEqual(r.returncode, EXIT_CONN)
            # Cleartext against the TLS listener does not get through.
            r = run_tool("ddp", "units", env=env, timeout=30)
            self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
