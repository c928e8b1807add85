"""DDP protocol abuse against a real dedupd, while good clients work.

- a truncated frame (a header promising N payload bytes, fewer sent, then
  the sender half-closes or closes) is dropped: the server closes the
  connection, answering at most an error frame;
- an oversized frame (len > max_payload = 1,052,672, docs/DDP.md section 2)
  gets ETOOBIG for its op and req_id, then the close, without the server
  waiting for (or buffering) the payload;
- a wrong storage unit is a clean ENOENT (exit 1), the session unharmed;
- each time a good `ddp put` running at the same moment completes and the
  file reads back byte-identical;
- two clients writing the SAME file of one unit at once both succeed (a
  writer replaces the path when it commits, docs/DDP.md 6.5: the last
  commit wins) and the file reads back as exactly one of the two versions.
  (Two clients writing different files of one unit: test_ddp.py
  test_concurrent_clients.)
The harness fails the test if dedupd reports a sanitizer error or does
not exit cleanly afterwards.
"""
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile

from harness import DedupdTestCase, bin_path, run_tool

MAX_PAYLOAD = (1 << 20) + 4096
S_ETOOBIG, S_EPROTO = 8, 1
HELLO = b"DDP1" + bytes.fromhex("0001 0001 00000001 0004") + b"ddp1"


def frame(op, req_id, payload, length=None):
    n = len(payload) if length is None else length
    return struct.pack(">BBHII", 1, op, 0, req_id, n) + payload


def read_all(sock, timeout=20):
    """Reads until the server closes; returns the bytes (fails on a hang)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            b = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not b:
            return data
        data += b


class TestDDPAbuse(DedupdTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="test_ddp_abuse.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addr = (self.d.ddp_addr[0], int(self.d.ddp_addr[1]))
        self.env = {"DDP_ENDPOINT": "%s:%d" % self.addr,
                    "DDP_ACCESS_KEY": self.d.access_key,
                    "DDP_SECRET_KEY": self.d.secret_key}
        r = run_tool("ddp", "mkunit", "abuse", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def src(self, name, data):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def start_put(self, name, data, dst):
        env = dict(os.environ)
        env.update(self.env)
        return subprocess.Popen([bin_path("ddp"), "--no-resume", "put", self.src(name, data),
                                 dst], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def finish(self, p):
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 0, err)

    def get(self, path):
        r = run_tool("ddp", "get", path, "-", env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_truncated_frames(self):
        data = random.Random(1).randbytes(16 << 20)
        good = self.start_put("good.bin", data, "abuse:good.bin")
        # before the handshake: HELLO promising 100 bytes, 10 sent
        for how in ("shut_wr", "close"):
            s = socket.create_connection(self.addr, timeout=10)
            s.sendall(frame(0x01, 1, HELLO[:10], length=100))
            if how == "close":
                s.close()
                continue
            s.shutdown(socket.SHUT_WR)
            got = read_all(s)
            s.close()
            # nothing, or one error frame: never an answer to a request
            if got:
                self.assertEqual(got[:2], b"\x01\x01")
                self.assertEqual(struct.unpack(">H", got[2:4])[0] & 1, 1)
        # after a good HELLO: a truncated second frame, then close
        s = socket.create_connection(self.addr, timeout=10)
        s.sendall(frame(0x01, 1, HELLO))
        s.sendall(frame(0x02, 2, b"\x00\x05AKIAX", length=200))
        s.shutdown(socket.SHUT_WR)
        got = read_all(s)
        s.close()
        self.assertGreaterEqual(len(got), 12 + 64)  # the HELLO answer came
        self.finish(good)
        self.assertEqual(self.get("abuse:good.bin"), data)

    def test_oversized_frames(self):
        data = random.Random(2).randbytes(16 << 20)
        good = self.start_put("good.bin", data, "abuse:good2.bin")
        for n in (MAX_PAYLOAD + 1, 0xFFFFFFFF):
            s = socket.create_connection(self.addr, timeout=10)
            # the header alone: the server must answer without the payload
            s.sendall(frame(0x01, 77, b"", length=n))
            got = read_all(s)
            s.close()
            self.assertEqual(len(got) >= 14, True, got)
            version, op, flags, req_id, length = struct.unpack(">BBHII", got[:12])
            self.assertEqual((version, op, flags, req_id), (1, 0x01, 1, 77))
            self.assertEqual(struct.unpack(">H", got[12:14])[0], S_ETOOBIG)
            self.assertEqual(len(got), 12 + length)  # one frame, then the close
        # and at the largest legal length the server does wait for payload
        s = socket.create_connection(self.addr, timeout=10)
        s.sendall(frame(0x01, 78, b"", length=MAX_PAYLOAD))
        s.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            s.recv(100)
        s.close()
        self.finish(good)
        self.assertEqual(self.get("abuse:good2.bin"), data)

    def test_wrong_unit(self):
        src = self.src("w.bin", b"w" * 1000)
        for args in (("put", src, "nosuchunit:x"), ("get", "nosuchunit:x", "-"),
                     ("ls", "nosuchunit")):
            r = run_tool("ddp", *args, env=self.env)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(b"ENOENT", r.stderr)
        r = run_tool("ddp", "put", src, "Bad_Unit!:x", env=self.env)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"EINVAL", r.stderr)
        self.assertEqual(run_tool("ddp", "put", src, "abuse:w.bin", env=self.env).returncode, 0)
        self.assertEqual(self.get("abuse:w.bin"), b"w" * 1000)

    def test_two_writers_same_file(self):
        a = random.Random(3).randbytes(12 << 20)
        b = random.Random(4).randbytes(12 << 20)
        pa = self.start_put("a.bin", a, "abuse:same.bin")
        pb = self.start_put("b.bin", b, "abuse:same.bin")
        self.finish(pa)
        self.finish(pb)
        got = self.get("abuse:same.bin")
        self.assertIn(got, (a, b))
        # both versions were stored whole: writing either again sends nothing
        for name in ("a.bin", "b.bin"):
            r = run_tool("ddp", "--json", "put", os.path.join(self.tmp, name),
                         "abuse:again-" + name, env=self.env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b'"segments_sent":0', r.stdout)
