"""The HTTP/1.1 server and the admin API, driven with raw sockets and urllib."""
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from harness import Dedupd, DedupdTestCase


_leftover = {}


def recv_response(sock, timeout=5):
    """Reads one HTTP response (head + Content-Length body); returns
    (status, headers dict lower-case, body, raw head). Bytes past the
    response are kept for the next call on the same socket."""
    sock.settimeout(timeout)
    data = _leftover.pop(id(sock), b"")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response: %r" % data)
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    _leftover[id(sock)] = rest[n:]
    return status, headers, rest[:n], head


def closed_by_peer(sock, timeout=5):
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def metric_value(text, name, **labels):
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if got == want:
            return float(m.group(3))
    return None


class TestAdminApi(DedupdTestCase):
    def test_health_json(self):
        st, body = self.d.admin_json("/health")
        self.assertEqual(st, 200)
        self.assertEqual(body["status"], "ok")
        self.assertRegex(body["version"], r"^\d+\.\d+\.\d+$")
        self.assertIsInstance(body["uptime_seconds"], int)
        self.assertGreaterEqual(body["uptime_seconds"], 0)
        self.assertEqual(body["data_dir"]["path"], self.d.data_dir)
        self.assertEqual(body["data_dir"]["state"], "ok")
        self.assertGreater(body["data_dir"]["free_bytes"], 0)

    def test_metrics_format_and_counter_increases(self):
        st, body = self.d.admin_get("/metrics")
        self.assertEqual(st, 200)
        text = body.decode()
        self.assertIn("# TYPE dedupd_http_requests_total counter", text)
        self.assertIn("# TYPE dedupd_open_connections gauge", text)
        self.assertEqual(metric_value(text, "dedupd_build_info", version="0.1.0"), 1)
        self.assertIsNotNone(metric_value(text, "dedupd_uptime_seconds"))
        rss = metric_value(text, "process_resident_memory_bytes")
        self.assertGreater(rss, 1 << 20)
        self.assertLess(rss, 1 << 34)
        fds = metric_value(text, "process_open_fds")
        real = len(os.listdir("/proc/%d/fd" % self.d.proc.pid))
        self.assertGreater(fds, 5)  # 3 listeners, the lock, stdio...
        self.assertLess(abs(fds - real), 4)
        self.assertGreaterEqual(metric_value(text, "dedupd_open_connections",
                                             listener="admin"), 1)
        self.assertEqual(metric_value(text, "dedupd_open_connections", listener="s3"), 0)
        before = metric_value(text, "dedupd_http_requests_total",
                              listener="admin", code="200")
        self.assertGreaterEqual(before, 1)  # the harness's /health
        nf_before = metric_value(text, "dedupd_http_requests_total",
                                 listener="admin", code="404") or 0
        for _ in range(3):
            self.d.admin_get("/health")
        self.assertEqual(self.d.admin_get("/nope")[0], 404)
        text = self.d.admin_get("/metrics")[1].decode()
        # 3 x /health + the previous /metrics
        self.assertEqual(metric_value(text, "dedupd_http_requests_total",
                                      listener="admin", code="200"), before + 4)
        self.assertEqual(metric_value(text, "dedupd_http_requests_total",
                                      listener="admin", code="404"), nf_before + 1)
        # The duration histogram counts the same requests.
        self.assertIn("# TYPE dedupd_http_request_duration_seconds histogram", text)
        count = metric_value(text, "dedupd_http_request_duration_seconds_count",
                             listener="admin")
        self.assertGreaterEqual(count, before + 4 + nf_before + 1)
        self.assertEqual(metric_value(text, "dedupd_http_request_duration_seconds_bucket",
                                      listener="admin", le="+Inf"), count)

    def test_s3_requests_counted_by_listener(self):
        req = urllib.request.Request(self.d.s3_url + "/bucket")
        try:
            urllib.request.urlopen(req, timeout=5)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        text = self.d.admin_get("/metrics")[1].decode()
        self.assertEqual(metric_value(text, "dedupd_http_requests_total",
                                      listener="s3", code=str(code)), 1)

    def test_other_paths_404_and_methods_405(self):
        self.assertEqual(self.d.admin_get("/")[0], 404)
        self.assertEqual(self.d.admin_get("/healthz")[0], 404)
        self.assertEqual(self.d.admin_get("/health?verbose=1")[0], 200)
        req = urllib.request.Request(self.d.admin_url + "/health", data=b"x",
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(cm.exception.code, 405)


class TestHttpServer(DedupdTestCase):
    def connect(self):
        s = socket.create_connection(self.d.addrs["admin"], timeout=5)
        self.addCleanup(s.close)
        return s

    def test_keep_alive_two_requests_one_connection(self):
        s = self.connect()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        st, h, body, _ = recv_response(s)
        self.assertEqual(st, 200)
        self.assertNotEqual(h.get("connection"), "close")
        self.assertEqual(json.loads(body)["status"], "ok")
        s.sendall(b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n")
        st, h, body, _ = recv_response(s)
        self.assertEqual(st, 404)

    def test_pipelined_requests_answered_in_order(self):
        s = self.connect()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(recv_response(s)[0], 200)
        self.assertEqual(recv_response(s)[0], 404)
        st, h, body, _ = recv_response(s)
        self.assertEqual(st, 200)
        self.assertEqual(h.get("connection"), "close")
        self.assertIn(b"dedupd_build_info", body)
        self.assertTrue(closed_by_peer(s))

    def test_http10_closes(self):
        s = self.connect()
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        st, h, _, _ = recv_response(s)
        self.assertEqual(st, 200)
        self.assertTrue(closed_by_peer(s))

    def test_http10_keep_alive_on_request(self):
        s = self.connect()
        s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        st, h, _, _ = recv_response(s)
        self.assertEqual(st, 200)
        self.assertEqual(h.get("connection"), "keep-alive")
        s.sendall(b"GET /x HTTP/1.0\r\n\r\n")
        self.assertEqual(recv_response(s)[0], 404)
        self.assertTrue(closed_by_peer(s))

    def test_half_close_after_request_still_answered(self):
        for _ in range(5):
            s = self.connect()
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
            s.shutdown(socket.SHUT_WR)
            st, h, body, _ = recv_response(s)
            self.assertEqual(st, 200)
            self.assertIn(b"dedupd_build_info", body)
            self.assertTrue(closed_by_peer(s))

    def test_malformed_request_400(self):
        for raw in (b"GARBAGE\r\n\r\n", b"GET / HTTP/9.x\r\n\r\n",
                    b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
                    b"PUT /x HTTP/1.1\r\nContent-Length: 12x\r\n\r\n",
                    # request smuggling shapes
                    b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n"
                    b"Content-Length: 6\r\n\r\nhello!"):
            s = self.connect()
            s.sendall(raw)
            st, h, body, _ = recv_response(s)
            self.assertEqual(st, 400, raw)
            self.assertEqual(h.get("connection"), "close")
            self.assertTrue(closed_by_peer(s))
        # The server still serves.
        self.assertEqual(self.d.admin_get("/health")[0], 200)
        text = self.d.admin_get("/metrics")[1].decode()
        self.assertEqual(metric_value(text, "dedupd_http_requests_total",
                                      listener="admin", code="400"), 6)

    def test_oversized_header_431(self):
        s = self.connect()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 40000 +
                  b"\r\n\r\n")
        st, h, _, _ = recv_response(s)
        self.assertEqual(st, 431)
        self.assertTrue(closed_by_peer(s))
        s = self.connect()
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(200))
        s.sendall(b"GET /health HTTP/1.1\r\n" + many + b"\r\n")
        self.assertEqual(recv_response(s)[0], 431)

    def test_expect_100_continue_refused_by_handler(self):
        # The admin API accepts no bodies: it answers at once without
        # "100 Continue" and closes, so the client never sends the body.
        s = self.connect()
        s.sendall(b"PUT /health HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        st, h, _, head = recv_response(s)
        self.assertEqual(st, 405)
        self.assertNotIn(b"100 Continue", head)
        self.assertEqual(h.get("connection"), "close")
        self.assertTrue(closed_by_peer(s))

    def test_small_body_discarded_keeps_alive(self):
        s = self.connect()
        s.sendall(b"POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                  b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(recv_response(s)[0], 405)
        self.assertEqual(recv_response(s)[0], 200)

    def test_head_has_length_no_body(self):
        s = self.connect()
        s.sendall(b"HEAD /health HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n")
        s.settimeout(5)
        data = b""
        while data.count(b"\r\n\r\n") < 2 or not data.endswith(b"not found\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        first, second = data.split(b"HTTP/1.1 404", 1)
        self.assertTrue(first.startswith(b"HTTP/1.1 200 OK"))
        self.assertRegex(first, rb"Content-Length: [1-9]\d*\r\n\r\n$")
        self.assertTrue(second.endswith(b"not found\n"))


class TestAccessLog(unittest.TestCase):
    def test_debug_log_has_path_not_query(self):
        with Dedupd(args=["--log-level", "debug"]) as d:
            sig = "f00dfeedcafe0123456789abcdef"
            st, _ = d.admin_get("/health?X-Amz-Signature=" + sig)
            self.assertEqual(st, 200)
            d.wait_log(r"debug http admin 127\.0\.0\.1:\d+ GET /health 200 ")
            self.assertNotIn(sig, d.log())
            self.assertNotIn(d.secret_key, d.log())


class TestLimits(unittest.TestCase):
    def test_max_connections(self):
        with Dedupd(config="[limits]\nmax_connections = 3\n") as d:
            # Fill the 3 slots with connections proven to be served. A slot
            # may still be held for a moment by the harness's own /health
            # connection: a refused try is counted and retried.
            held, refused = [], 0
            deadline = time.time() + 10
            while len(held) < 3 and time.time() < deadline:
                s = socket.create_connection(d.addrs["admin"], timeout=5)
                try:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
                    self.assertEqual(recv_response(s)[0], 200)
                    held.append(s)
                except (AssertionError, ConnectionResetError):
                    s.close()
                    refused += 1
                    time.sleep(0.1)
            self.assertEqual(len(held), 3)
            extra = socket.create_connection(d.addrs["admin"], timeout=5)
            self.assertTrue(closed_by_peer(extra))
            extra.close()
            refused += 1
            for s in held:
                s.close()
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    st, body = d.admin_get("/metrics")
                    break
                except OSError:  # the slots are not all free yet: refused
                    refused += 1
                    time.sleep(0.1)
            self.assertEqual(metric_value(body.decode(),
                                          "dedupd_connections_rejected_total",
                                          listener="admin"), refused)

    def test_idle_timeout_closes(self):
        with Dedupd(config="[limits]\nidle_timeout_seconds = 1\n") as d:
            s = socket.create_connection(d.addrs["admin"], timeout=5)
            t0 = time.time()
            self.assertTrue(closed_by_peer(s, timeout=6))
            self.assertLess(time.time() - t0, 5)
            s.close()


class TestTls(unittest.TestCase):
    def make_cert(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-tls-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        return cert, key

    @staticmethod
    def tls11_context(server=False):
        import warnings
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        if not server:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        return ctx

    def test_tls11_refused(self):
        cert, key = self.make_cert()
        # Control: this client can do TLS 1.1 with a server that allows it,
        # so a failure against dedupd is dedupd's refusal.
        srv_ctx = self.tls11_context(server=True)
        srv_ctx.load_cert_chain(cert, key)
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        result = {}

        def serve():
            conn, _ = lsock.accept()
            try:
                with srv_ctx.wrap_socket(conn, server_side=True) as t:
                    result["version"] = t.version()
            except (ssl.SSLError, OSError) as e:
                result["error"] = str(e)
        th = threading.Thread(target=serve)
        th.start()
        try:
            with socket.create_connection(lsock.getsockname(), timeout=5) as raw:
                with self.tls11_context().wrap_socket(raw) as t:
                    client_version = t.version()
        except ssl.SSLError as e:
            client_version = None
            result.setdefault("error", str(e))
        th.join(10)
        lsock.close()
        if client_version != "TLSv1.1":
            self.skipTest("this OpenSSL cannot speak TLS 1.1 at all: %s" % result)
        conf = "[admin]\ntls_cert = %s\ntls_key = %s\n" % (cert, key)
        with Dedupd(config=conf, admin_tls_ca=cert) as d:
            with socket.create_connection(d.addrs["admin"], timeout=5) as raw:
                with self.assertRaises(ssl.SSLError) as cm:
                    self.tls11_context().wrap_socket(raw)
            self.assertIn("PROTOCOL_VERSION", str(cm.exception).upper())

    def test_admin_over_tls(self):
        cert, key = self.make_cert()
        conf = "[admin]\ntls_cert = %s\ntls_key = %s\n" % (cert, key)
        d = Dedupd(config=conf, admin_tls_ca=cert)
        try:
            d.start()  # waits for GET /health over TLS, verified with the CA
            self.assertIn("admin endpoint: https://", d.log())
            self.assertTrue(d.admin_url.startswith("https://"))
            status, body = d.admin_json("/health")
            self.assertEqual(status, 200)
            self.assertEqual(body["status"], "ok")
            # Plain HTTP on the TLS port gets no HTTP answer.
            p = socket.create_connection(d.addrs["admin"], timeout=5)
            p.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
            p.settimeout(5)
            try:
                got = p.recv(100)
            except ConnectionResetError:
                got = b""
            self.assertFalse(got.startswith(b"HTTP/1.1 200"))
            p.close()
            d.stop()
        finally:
            d.cleanup()

    def test_bad_cert_is_config_error(self):
        tmp = tempfile.mkdtemp(prefix="dedupd-tlsbad-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        bad = os.path.join(tmp, "bad.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        conf = "[s3]\ntls_cert = %s\ntls_key = %s\n" % (bad, bad)
        d = Dedupd(config=conf)
        try:
            with self.assertRaises(AssertionError) as cm:
                d.start()
            self.assertIn("exited with 2", str(cm.exception))
            self.assertIn("tls_cert %s" % bad, str(cm.exception))
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
