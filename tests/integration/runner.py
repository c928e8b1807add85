#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py with unittest and counts results.

    runner.py [--counts FILE] [-k PATTERN] [test_file.py ...]

Writes "passed failed skipped" to --counts for tests/run.sh. A skipped test
is reported as skipped, never as passed. Each test file runs in its own
process with a time limit, so one hung test cannot stall the suite.

Files run DD_TEST_JOBS at a time (default 2): each starts its own dedupd on
port 0 with its own temp dir, and most of a file's time is client start-up
and waiting, so two at once keep a 2-core machine busy. The longest files
start first. DD_TEST_JOBS=1 runs them one by one.
"""
import concurrent.futures
import argparse
import glob
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
# Started first so that the short ones fill in around them (seconds in CI).
LONG_FIRST = ("test_s3_basic.py", "test_s3_memory.py", "test_s3_awscli.py",
              "test_s3_awscli_multipart.py", "test_s3_awscli_objects.py",
              "test_ddp_image.py", "test_ddp.py")


class CountingResult(unittest.TextTestResult):
    pass


def run_one_file(path, pattern):
    """Child mode: runs one file, prints a JSON count line last."""
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    name = os.path.splitext(os.path.basename(path))[0]
    suite = loader.loadTestsFromName(name)
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    passed = res.testsRun - failed - skipped
    print("COUNTS " + json.dumps([passed, failed, skipped]), flush=True)
    return 0 if failed == 0 else 1


def run_child(f, a):
    """Runs one test file in a child process; returns (file, counts, rc,
    output, seconds). A crash or timeout counts as one failure."""
    t0 = time.time()
    cmd = [sys.executable, os.path.abspath(__file__), "--child", os.path.abspath(f)]
    if a.pattern:
        cmd += ["-k", a.pattern]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=a.timeout, cwd=HERE, errors="replace")
        out, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or "") if isinstance(e.stdout, str) else ""
        out += "\nTIMEOUT after %ds" % a.timeout
        rc = 124
    counts = None
    for line in out.splitlines():
        if line.startswith("COUNTS "):
            counts = json.loads(line[7:])
    if counts is None:
        counts = [0, 1, 0]
    if rc != 0 and counts[1] == 0:
        counts[1] = 1
    return f, counts, rc, out, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("DD_TEST_TIMEOUT", "1200")))
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.child:
        return run_one_file(a.files[0], a.pattern)
    files = a.files or sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    files.sort(key=lambda f: (os.path.basename(f) not in LONG_FIRST,
                              LONG_FIRST.index(os.path.basename(f))
                              if os.path.basename(f) in LONG_FIRST else 0))
    total = [0, 0, 0]
    bad = []
    jobs = max(1, int(os.environ.get("DD_TEST_JOBS", "2")))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = [pool.submit(run_child, f, a) for f in files]
        for fut in concurrent.futures.as_completed(futs):
            f, counts, rc, out, secs = fut.result()
            for i in range(3):
                total[i] += counts[i]
            status = "ok" if rc == 0 else "FAIL"
            print("%-40s %s (%d passed, %d failed, %d skipped, %.1fs)" % (
                "integration/" + os.path.basename(f), status, counts[0], counts[1],
                counts[2], secs), flush=True)
            if rc != 0:
                bad.append(f)
                print("\n".join("    " + l for l in out.splitlines()[-80:]), flush=True)
    if a.counts:
        with open(a.counts, "w") as fh:
            fh.write("%d %d %d\n" % tuple(total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
