#!/usr/bin/env python3
"""Network benchmark of `make bench`: S3 and DDP against the real dedupd.

usage: bench/net.py GEN0 GEN1 [--table FILE]

GEN0 is a multi-GiB file of new data, GEN1 the same file mutated by
bench/mutate.py (bench/run.sh passes generations 0 and 1 of a data set
built by bench/dataset.sh with BENCH_NET_MB MiB). For each of
BENCH_NET_REPS repetitions and each client mode below, a fresh bin/dedupd
(harness.Dedupd: 127.0.0.1, port 0, temp data dir, root credentials) gets,
in order:
    put_new   GEN0 as object "new" (new data: the store is empty)
    put_dup   GEN0 again as object "dup" (duplicate data)
    put_mut   GEN1 as object "mut" (a mutated version: 1-3 % changed)
    get       object "mut" read back into a file (compared, untimed)
Modes (clients are the real ones, run as subprocesses):
    s3_1      aws s3 cp, 8 MiB multipart parts, max_concurrent_requests 1
    s3_8      aws s3 cp, 8 MiB multipart parts, max_concurrent_requests 8
    s3_curl   curl --aws-sigv4, one PUT / one GET request for the object
              (UNSIGNED-PAYLOAD), the cheapest client: BENCH_NET_CURL=1
    ddp       bin/ddp put / get (client-side dedup, one connection)
The store baseline is bin/bench/store ingest on the same two files
(new, duplicate, GEN1, then GEN1 read back after reopen), so every ratio
compares the same bytes: net_ratio_<mode>_<op>_vs_store is the mode's
wall-clock MB/s over the store's figure for that kind of data, measured in
this run (put_new: ingest_new, put_dup: ingest_dup, put_mut: ingest_gen1,
get: read_newest).

Measured per transfer: wall time of the client command (process start to
exit, including the aws CLI's ~0.5 s start-up), CPU seconds of dedupd
(/proc/PID/stat) and of the client (RUSAGE_CHILDREN), and bytes on the
wire. Bytes on the wire come from the loopback counters of a private
network namespace: the script re-executes itself under `unshare -rn`
(BENCH_NET_NETNS=0 to skip), where only this benchmark's traffic crosses
lo, so the counter is every byte of both directions including TCP/IP
headers. Without a namespace they are not reported (other processes share
the host's lo); DDP's own client-side count (`ddp put --json` bytes_sent,
frame bytes client to server) is reported either way.

Prints one name=value line per figure on stdout (medians over the
repetitions; units MB/s = 10^6 bytes/s) and, with --table, writes a
readable summary table to FILE. Exits non-zero on any failure (bench/run.sh
then notes it and carries on).

Env: BINDIR [./bin], BENCH_DIR [/tmp/dedupd-bench], BENCH_NET_REPS [1],
BENCH_NET_CURL [0], BENCH_NET_NETNS [1], BENCH_NET_TIMEOUT [1800 s per
transfer].
"""
import fcntl
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("BINDIR", os.path.join(ROOT, "bin"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Dedupd, bin_path  # noqa: E402

AWS = shutil.which("aws") or "/usr/bin/aws"
CURL = shutil.which("curl") or "/usr/bin/curl"
OPS = ("put_new", "put_dup", "put_mut", "get")
STORE_FIGURE = {"put_new": "ingest_new", "put_dup": "ingest_dup",
                "put_mut": "ingest_gen1", "get": "read_newest"}
BUCKET = "bench"
MB = 1e6
TICK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


# ----------------------------------------------------------- environment
def enter_netns(argv):
    """Re-executes this script under `unshare -rn` unless already inside one
    or disabled; returns only when running without a namespace (unshare is
    missing or refused) or already inside."""
    if os.environ.get("DD_BENCH_NETNS") == "1":
        lo_up()
        return True
    if os.environ.get("BENCH_NET_NETNS", "1") == "0":
        return False
    unshare = shutil.which("unshare")
    if not unshare or subprocess.run([unshare, "-rn", "true"],
                                     capture_output=True).returncode != 0:
        print("net: no private network namespace (unshare -rn failed): "
              "S3 wire bytes not measured", file=sys.stderr)
        return False
    os.environ["DD_BENCH_NETNS"] = "1"
    sys.stdout.flush()
    os.execv(unshare, [unshare, "-rn", "--", sys.executable,
                       os.path.abspath(__file__)] + argv)
    return False  # not reached


def lo_up():
    """Brings the namespace's loopback interface up (it starts down)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, siocgifflags, struct.pack("16sH", b"lo", 0))
        flags = struct.unpack("16sH", ifr[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH", b"lo", flags | iff_up))


def lo_bytes():
    """Bytes transmitted on lo in this network namespace (every packet of
    both directions, headers included, counted once)."""
    with open("/proc/self/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                return int(rest.split()[8])
    raise BenchError("no lo in /proc/self/net/dev")


def proc_cpu(pid):
    """User + system CPU seconds of process pid (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------- clients
class Mode:
    """One client: put(src, key) and get(key, dst) command lines."""

    def __init__(self, name, d, tmp):
        self.name, self.d, self.tmp = name, d, tmp

    def setup(self):
        pass


class AwsMode(Mode):
    def __init__(self, name, d, tmp, streams):
        super().__init__(name, d, tmp)
        cfg = os.path.join(tmp, "aws-config-%s" % name)
        # The same settings `aws configure set default.s3.<name>` writes,
        # in an isolated file: 8 MiB parts (the CLI's defaults, spelled out)
        # and the number of concurrent requests = streams.
        with open(cfg, "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n"
                    "  addressing_style = path\n"
                    "  max_concurrent_requests = %d\n"
                    "  multipart_threshold = 8MB\n"
                    "  multipart_chunksize = 8MB\n" % streams)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update(AWS_ACCESS_KEY_ID=d.access_key,
                        AWS_SECRET_ACCESS_KEY=d.secret_key,
                        AWS_CONFIG_FILE=cfg,
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "aws-none"),
                        AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")

    def cmd(self, *args):
        return [AWS, "--endpoint-url", self.d.s3_url, "--no-progress"] + list(args)

    def setup(self):
        run([AWS, "--endpoint-url", self.d.s3_url, "s3", "mb", "s3://" + BUCKET],
            self.env)

    def put(self, src, key):
        return self.cmd("s3", "cp", src, "s3://%s/%s" % (BUCKET, key)), self.env

    def get(self, key, dst):
        return self.cmd("s3", "cp", "s3://%s/%s" % (BUCKET, key), dst), self.env


class CurlMode(Mode):
    """One request per object: curl signs with SigV4; the payload is
    UNSIGNED-PAYLOAD (curl cannot hash a file it streams)."""

    def setup(self):
        run(self.curl("-X", "PUT", "%s/%s" % (self.d.s3_url, BUCKET)), None)

    def curl(self, *args):
        return [CURL, "-sS", "--fail", "-o", "/dev/null",
                "--aws-sigv4", "aws:amz:us-east-1:s3",
                "--user", "%s:%s" % (self.d.access_key, self.d.secret_key),
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"] + list(args)

    def put(self, src, key):
        return self.curl("-T", src, "%s/%s/%s" % (self.d.s3_url, BUCKET, key)), None

    def get(self, key, dst):
        c = self.curl("%s/%s/%s" % (self.d.s3_url, BUCKET, key))
        c[c.index("/dev/null")] = dst
        return c, None


class DdpMode(Mode):
    def __init__(self, name, d, tmp):
        super().__init__(name, d, tmp)
        host, port = d.ddp_addr
        self.env = dict(os.environ, DDP_ENDPOINT="%s:%d" % (host, port),
                        DDP_ACCESS_KEY=d.access_key, DDP_SECRET_KEY=d.secret_key)

    def setup(self):
        run([bin_path("ddp"), "mkunit", BUCKET], self.env)

    def put(self, src, key):
        return [bin_path("ddp"), "--json", "put", src, "%s:%s" % (BUCKET, key)], self.env

    def get(self, key, dst):
        return [bin_path("ddp"), "get", "%s:%s" % (BUCKET, key), dst], self.env


def run(cmd, env, timeout=120):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise BenchError("%s exited %d: %s" % (os.path.basename(cmd[0]), p.returncode,
                                               (p.stderr or p.stdout).strip()[-500:]))
    return p


# ------------------------------------------------------------- measuring
def timed(cmd, env, d, netns, timeout):
    """Runs one client command; returns its figures (secs, CPU, wire)."""
    lo0 = lo_bytes() if netns else 0
    s0, c0 = proc_cpu(d.proc.pid), children_cpu()
    t0 = time.monotonic()
    p = run(cmd, env, timeout)
    secs = time.monotonic() - t0
    out = {"secs": secs, "server_cpu": proc_cpu(d.proc.pid) - s0,
           "client_cpu": children_cpu() - c0}
    if netns:
        out["wire"] = lo_bytes() - lo0
    if cmd[0] == bin_path("ddp") and "--json" in cmd:
        j = json.loads(p.stdout)
        out["ddp_sent"] = j["bytes_sent"]
        out["ddp_logical"] = j["logical_bytes"]
    return out


def same_file(a, b):
    return subprocess.run(["cmp", "-s", a, b]).returncode == 0


def one_server(name, files, netns, timeout):
    """A fresh dedupd; the four transfers of one mode. Returns {op: figures}."""
    gen0, gen1 = files
    res = {}
    with Dedupd() as d:
        if name == "ddp":
            m = DdpMode(name, d, d.tmp)
        elif name == "s3_curl":
            m = CurlMode(name, d, d.tmp)
        else:
            m = AwsMode(name, d, d.tmp, 8 if name == "s3_8" else 1)
        m.setup()
        for op, src, key in (("put_new", gen0, "new"), ("put_dup", gen0, "dup"),
                             ("put_mut", gen1, "mut")):
            cmd, env = m.put(src, key)
            res[op] = timed(cmd, env, d, netns, timeout)
            res[op]["bytes"] = os.path.getsize(src)
        dst = os.path.join(d.tmp, "got")
        cmd, env = m.get("mut", dst)
        res["get"] = timed(cmd, env, d, netns, timeout)
        res["get"]["bytes"] = os.path.getsize(gen1)
        if not same_file(gen1, dst):
            raise BenchError("%s: object read back differs from %s" % (name, gen1))
        os.unlink(dst)
    return res


def store_baseline(files, reps):
    """bin/bench/store ingest on the same files; returns {name: value}."""
    scratch = tempfile.mkdtemp(prefix="net-store.", dir=os.environ.get("BENCH_DIR"))
    try:
        p = subprocess.run([bin_path("bench/store"), "ingest", scratch] + list(files)
                           + ["--reps", str(reps)], capture_output=True, text=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    vals = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    if p.returncode != 0:
        raise BenchError("store ingest failed: %s %s" % (vals.get("store_status"),
                                                         p.stderr.strip()[-300:]))
    return vals


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def fmt(v):
    return "%.4g" % v


# ------------------------------------------------------------------ main
def main(argv):
    args = list(argv)
    table = None
    if "--table" in args:
        i = args.index("--table")
        table = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    files = [os.path.abspath(a) for a in args]
    netns = enter_netns(argv)
    reps = int(os.environ.get("BENCH_NET_REPS", "1"))
    timeout = int(os.environ.get("BENCH_NET_TIMEOUT", "1800"))
    modes = []
    if os.path.exists(AWS):
        modes += ["s3_1", "s3_8"]
    else:
        print("net: no aws CLI: the s3_1 and s3_8 modes are skipped", file=sys.stderr)
    if os.environ.get("BENCH_NET_CURL", "0") == "1" and os.path.exists(CURL):
        modes.append("s3_curl")
    modes.append("ddp")

    def emit(k, v):
        print("%s=%s" % (k, v), flush=True)

    emit("net_object_bytes", os.path.getsize(files[0]))
    emit("net_mutated_bytes", os.path.getsize(files[1]))
    emit("net_reps", reps)
    emit("net_wire_counter", '"%s"' % ("netns lo" if netns else "none"))
    for f in files:  # page cache: the clients then read memory, not disk
        subprocess.run(["cat", f], stdout=subprocess.DEVNULL, check=True)

    store = store_baseline(files, reps)
    for op, fig in STORE_FIGURE.items():
        emit("net_store_%s_mbps" % fig, store[fig + "_mbps"])
        emit("net_store_%s_cpu_mbps" % fig, store[fig + "_cpu_mbps"])

    runs = {m: [] for m in modes}
    for r in range(reps):
        for m in modes:
            print("net: rep %d/%d %s" % (r + 1, reps, m), file=sys.stderr, flush=True)
            runs[m].append(one_server(m, files, netns, timeout))

    rows = []
    for m in modes:
        for op in OPS:
            rs = [x[op] for x in runs[m]]
            n = rs[0]["bytes"]
            mbps = median([n / MB / x["secs"] for x in rs])
            srv = median([n / MB / max(x["server_cpu"], 1e-3) for x in rs])
            cli = median([x["client_cpu"] for x in rs])
            pre = "net_%s_%s" % (m, op)
            emit(pre + "_mbps", "%.1f" % mbps)
            emit(pre + "_server_cpu_mbps", "%.1f" % srv)
            emit(pre + "_client_cpu_secs", "%.2f" % cli)
            wire = sent = None
            if "wire" in rs[0]:
                wire = median([x["wire"] / n for x in rs])
                emit(pre + "_wire_per_byte", "%.4f" % wire)
            if "ddp_sent" in rs[0]:
                sent = median([x["ddp_sent"] / x["ddp_logical"] for x in rs])
                emit(pre + "_sent_per_byte", "%.4f" % sent)
            base = float(store[STORE_FIGURE[op] + "_mbps"])
            base_cpu = float(store[STORE_FIGURE[op] + "_cpu_mbps"])
            emit("net_ratio_%s_%s_vs_store" % (m, op), fmt(mbps / base))
            emit("net_ratio_%s_%s_server_cpu_vs_store" % (m, op), fmt(srv / base_cpu))
            rows.append((m, op, mbps, mbps / base, srv, srv / base_cpu, cli, wire, sent))

    if table:
        write_table(table, files, reps, netns, store, rows)


def write_table(path, files, reps, netns, store, rows):
    lines = ["net: %.2f GB object (%s), mutated %.2f GB; medians of %d fresh server(s) "
             "per mode; store baseline on the same files" %
             (os.path.getsize(files[0]) / 1e9, os.path.basename(os.path.dirname(files[0])),
              os.path.getsize(files[1]) / 1e9, reps),
             "store: new %s, dup %s, mutated %s, read %s MB/s wall "
             "(per CPU second %s / %s / %s / %s)" %
             (tuple(store[STORE_FIGURE[o] + "_mbps"] for o in OPS) +
              tuple(store[STORE_FIGURE[o] + "_cpu_mbps"] for o in OPS)),
             "%-8s %-8s %9s %8s %11s %8s %9s %9s %9s" %
             ("mode", "op", "MB/s", "x store", "srv MB/cpu", "x store", "cli cpu s",
              "wire/B", "sent/B")]
    for m, op, mbps, r, srv, rs, cli, wire, sent in rows:
        lines.append("%-8s %-8s %9.1f %8.3f %11.1f %8.3f %9.2f %9s %9s" %
                     (m, op, mbps, r, srv, rs, cli,
                      "-" if wire is None else "%.4f" % wire,
                      "-" if sent is None else "%.4f" % sent))
    if not netns:
        lines.append("(no network namespace: wire/B not measured)")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (BenchError, subprocess.TimeoutExpired, OSError, KeyError, ValueError) as e:
        print("net: failed: %s" % e, file=sys.stderr)
        sys.exit(1)
