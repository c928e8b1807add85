#!/usr/bin/env python3
"""Runs every tests/integration/test_*.py with unittest and counts results.

    runner.py [--counts FILE] [-k PATTERN] [test_file.py ...]

Writes "passed failed skipped" to --counts for tests/run.sh. A skipped test
is reported as skipped, never as passed. Each test file runs in its own
process with a time limit, so one hung test cannot stall the suite.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


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
    total = [0, 0, 0]
    bad = []
    for f in files:
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
        for i in range(3):
            total[i] += counts[i]
        status = "ok" if rc == 0 else "FAIL"
        print("%-40s %s (%d passed, %d failed, %d skipped, %.1fs)" % (
            "integration/" + os.path.basename(f), status, counts[0], counts[1],
            counts[2], time.time() - t0), flush=True)
        if rc != 0:
            bad.append(f)
            print("\n".join("    " + l for l in out.splitlines()[-80:]), flush=True)
    if a.counts:
        with open(a.counts, "w") as fh:
            fh.write("%d %d %d\n" % tuple(total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
