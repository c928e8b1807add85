"""Bounded memory for huge objects (issue #4): a 10 GiB single PUT and a
10 GiB multipart upload each raise dedupd's resident memory by less than
256 MiB. 1 GiB each under ASan (DD_SANITIZED=1), with ASan's quarantine
kept small so it does not count as dedupd's memory.

AWS S3 refuses a single PUT over 5 GiB (EntityTooLarge), and so does
dedupd by default; `[s3] max_put_gib` raises that cap, and this file's
dedupd runs with max_put_gib = 16 so that the issue's 10 GiB single PUT
is accepted. test_s3_errors checks the default 5 GiB refusal.

The data is generated on the fly (no 10 GiB file): 1 MiB blocks taken
from 8 random blocks, each stamped with its index, so it is mostly
duplicate but every block differs. While it streams, a thread samples
VmRSS of dedupd's pid from /proc every 100 ms; the peak minus the RSS
just before the upload must stay under the limit.

- single PUT: one signed request (UNSIGNED-PAYLOAD, Content-Length 10 GiB)
  written block by block over http.client.
- multipart: `aws s3 cp - s3://bucket/key --expected-size N` reading the
  generator from a pipe (8 MiB parts, 10 in flight).

Afterwards the object's size and S3 ETag (MD5, or MD5 of the 8 MiB parts'
MD5s) prove every byte arrived, and ranged GETs at a few offsets compare
bytes. This file runs long (minutes): give the runner DD_TEST_TIMEOUT
room if the store is slow.
"""
import hashlib
import http.client
import os
import subprocess
import threading
import time
import unittest

from harness import SANITIZED
from clients import (AWS, SharedDedupdCase, aws_env, data_of, make_bucket, put_object,
                     s3_request, sigv4_headers)

MiB = 1024 * 1024
GiB = 1024 * MiB
SIZE = (1 if SANITIZED else 10) * GiB          # multipart
SINGLE_SIZE = (1 if SANITIZED else 10) * GiB   # single PUT (max_put_gib = 16)
LIMIT = 256 * MiB
CLI_PART = 8 * MiB  # the aws CLI's multipart_chunksize default
BASE = [data_of(MiB, "mem-%d" % i) for i in range(8)]


def block(i):
    """Block i (1 MiB) of the generated stream."""
    return i.to_bytes(16, "little") + BASE[i % len(BASE)][16:]


def stream_bytes(off, n):
    """Bytes [off, off+n) of the generated stream."""
    out = bytearray()
    while n > 0:
        i, o = divmod(off, MiB)
        take = min(n, MiB - o)
        out += block(i)[o:o + take]
        off += take
        n -= take
    return bytes(out)


def blocks(size):
    for i in range(size // MiB):
        yield block(i)
    if size % MiB:
        yield block(size // MiB)[:size % MiB]


class RssSampler(threading.Thread):
    """Samples VmRSS (bytes) of pid every `period` seconds until stopped."""

    def __init__(self, pid, period=0.1):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.peak, self.samples = 0, 0
        self._halt = threading.Event()

    @staticmethod
    def rss(pid):
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS for pid %d" % pid)

    def run(self):
        while not self._halt.is_set():
            try:
                self.peak = max(self.peak, self.rss(self.pid))
                self.samples += 1
            except (OSError, AssertionError):
                return
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join()


def asan_options():
    base = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    return base + ":quarantine_size_mb=16:thread_local_quarantine_size_kb=64"


class TestMemoryBounded(SharedDedupdCase):
    dedupd_env = {"ASAN_OPTIONS": asan_options()}
    dedupd_config = "[s3]\nmax_put_gib = 16\n"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_bucket(cls.d, "mem")
        # Warm up: pools, caches and the first container exist before the
        # baseline is taken.
        put_object(cls.d, "mem", "warmup", data_of(20 * MiB, "warmup"))

    def measure(self, upload, size):
        """Runs upload() while sampling dedupd's RSS; returns its result and
        asserts the rise stays under LIMIT."""
        pid = self.d.proc.pid
        baseline = RssSampler.rss(pid)
        sampler = RssSampler(pid)
        sampler.start()
        t0 = time.time()
        try:
            result = upload()
        finally:
            sampler.stop()
        elapsed = time.time() - t0
        rise = sampler.peak - baseline
        print("\n  %s: %.1f s, RSS baseline %.0f MiB, peak %.0f MiB, rise %.0f MiB, %d samples"
              % (self.id().rsplit(".", 1)[-1], elapsed, baseline / MiB, sampler.peak / MiB,
                 rise / MiB, sampler.samples))
        self.assertGreater(sampler.samples, 10, "too few RSS samples to judge")
        self.assertLess(rise, LIMIT, "dedupd's RSS rose by %.0f MiB during a %d GiB upload"
                        % (rise / MiB, size // GiB))
        return result

    def check_object(self, key, size, etag):
        head = s3_request(self.d, "HEAD", "/mem/" + key)
        self.assertEqual(head.status, 200, head)
        self.assertEqual(int(head.headers["content-length"]), size)
        self.assertEqual(head.headers.get("etag"), etag)
        for off, n in ((0, 4096), (size // 2 - 100, 300000), (size - 5000, 5000)):
            r = s3_request(self.d, "GET", "/mem/" + key,
                           headers={"Range": "bytes=%d-%d" % (off, off + n - 1)})
            self.assertEqual(r.status, 206, r)
            self.assertEqual(r.body, stream_bytes(off, n), "bytes at %d" % off)

    def test_single_put(self):
        def upload():
            host = "%s:%d" % self.d.addrs["s3"]
            headers = sigv4_headers("PUT", host, "/mem/single", [], {"Content-Length": str(SINGLE_SIZE)},
                                    "UNSIGNED-PAYLOAD", self.d.access_key, self.d.secret_key)
            md5 = hashlib.md5()
            conn = http.client.HTTPConnection(*self.d.addrs["s3"], timeout=600)
            try:
                conn.putrequest("PUT", "/mem/single", skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    conn.putheader(k, v)
                conn.endheaders()
                for b in blocks(SINGLE_SIZE):
                    md5.update(b)
                    conn.send(b)
                r = conn.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200, body[:500])
                return md5.hexdigest(), r.getheader("ETag")
            finally:
                conn.close()

        digest, etag = self.measure(upload, SINGLE_SIZE)
        self.assertEqual(etag, '"%s"' % digest)
        self.check_object("single", SINGLE_SIZE, etag)

    def test_multipart_upload(self):
        part_md5s = []

        def upload():
            p = subprocess.Popen([AWS, "--endpoint-url", self.d.s3_url, "s3", "cp", "-", "s3://mem/multi",
                                  "--expected-size", str(SIZE)],
                                 env=aws_env(self.d), stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            err = []
            reader = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
            reader.start()
            part, in_part = hashlib.md5(), 0
            try:
                for b in blocks(SIZE):
                    p.stdin.write(b)
                    while b:
                        take = min(len(b), CLI_PART - in_part)
                        part.update(b[:take])
                        in_part += take
                        b = b[take:]
                        if in_part == CLI_PART:
                            part_md5s.append(part.digest())
                            part, in_part = hashlib.md5(), 0
                if in_part:
                    part_md5s.append(part.digest())
                p.stdin.close()
            except BrokenPipeError:
                pass  # the CLI gave up; its exit code and stderr say why
            finally:
                try:
                    try:
                        p.stdin.close()
                    except BrokenPipeError:
                        pass
                    p.wait(timeout=1800)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                    reader.join(60)
                    p.stderr.close()
            self.assertEqual(p.returncode, 0, "aws s3 cp - failed: %r" % ((err or [b""])[0][-2000:],))

        self.measure(upload, SIZE)
        etag = '"%s-%d"' % (hashlib.md5(b"".join(part_md5s)).hexdigest(), len(part_md5s))
        self.assertEqual(len(part_md5s), -(-SIZE // CLI_PART))
        self.check_object("multi", SIZE, etag)
        listing = s3_request(self.d, "GET", "/mem", query=[("uploads", "")])
        self.assertEqual(listing.status, 200, listing)
        self.assertNotIn(b"<Upload>", listing.body, "the multipart upload is still listed")


if __name__ == "__main__":
    unittest.main()
