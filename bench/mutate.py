#!/usr/bin/env python3
"""Writes the next generation of a benchmark data set file.

usage: mutate.py SEED GEN IN OUT

Reads IN (the previous generation), changes 1 to 3 percent of its bytes and
writes OUT. Everything comes from one PRNG seeded with (SEED, GEN), so the
same input and arguments always give the same output bytes (Python's
random.Random with an integer seed is stable across versions for
getrandbits/random/randrange/randbytes).

The change budget (1-3 % of the input, drawn per generation) is spent half
and half on two kinds of change, mimicking what happens between two backups
of a file system tree:
  - file rewrites: one contiguous change of 64 KiB to 2 MiB (log-uniform),
    60 % overwritten in place, 20 % inserted (a new file), 20 % deleted;
  - edit clusters: 1 to 16 small edits of 8 B to 32 KiB (log-uniform) inside
    a window of 16 KiB to 1 MiB (an edited file), each overwriting in place
    (50 %), inserting (25 %) or deleting (25 %).
Insertions and deletions shift everything after them, which is what
content-defined chunking exists for. New bytes are half random
(incompressible) and half copied from elsewhere in the file (compressible
like the rest). Cluster and rewrite positions are uniform over the file;
edits that would overlap an earlier one are dropped.

Prints one line: "changed_bytes=N changed_pct=P edits=E out_bytes=M".
"""
import math
import random
import sys


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def small_kind(rng):
    r = rng.random()
    return "over" if r < 0.5 else ("ins" if r < 0.75 else "del")


def plan(rng, n, target):
    """Returns a sorted list of (pos, kind, length) spending ~target bytes."""
    edits = []
    big = small = 0
    while big + small < target:
        if big <= small:
            length = min(log_uniform(rng, 64 << 10, 2 << 20), n // 4,
                         target - big - small)
            r = rng.random()
            kind = "over" if r < 0.6 else ("ins" if r < 0.8 else "del")
            edits.append((rng.randrange(0, max(1, n - length)), kind, length))
            big += length
        else:
            window = log_uniform(rng, 16 << 10, 1 << 20)
            start = rng.randrange(0, max(1, n - window))
            for _ in range(rng.randint(1, 16)):
                length = min(log_uniform(rng, 8, 32 << 10),
                             max(1, target - big - small))
                pos = start + rng.randrange(0, window)
                if pos + length > n:
                    continue
                edits.append((pos, small_kind(rng), length))
                small += length
    edits.sort()
    return edits


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    seed, gen = int(sys.argv[1]), int(sys.argv[2])
    src_path, dst_path = sys.argv[3], sys.argv[4]
    with open(src_path, "rb") as f:
        src = f.read()
    n = len(src)
    if n < 1 << 20:
        sys.exit("mutate.py: input too small")
    rng = random.Random(seed * 1000003 + gen)
    pct = rng.uniform(1.0, 3.0)
    edits = plan(rng, n, int(n * pct / 100.0))

    out = []
    cur = changed = applied = 0
    view = memoryview(src)
    for pos, kind, length in edits:
        if pos < cur:  # overlaps the previous edit: drop it
            continue
        if kind != "del":
            if rng.random() < 0.5:
                new = rng.randbytes(length)
            else:
                at = rng.randrange(0, n - length)
                new = bytes(view[at:at + length])
        out.append(view[cur:pos])
        if kind == "over":
            out.append(new)
            cur = pos + length
        elif kind == "ins":
            out.append(new)
            cur = pos
        else:
            cur = pos + length
        changed += length
        applied += 1
    out.append(view[cur:])

    size = 0
    with open(dst_path, "wb") as f:
        for piece in out:
            f.write(piece)
            size += len(piece)
    print("changed_bytes=%d changed_pct=%.3f edits=%d out_bytes=%d"
          % (changed, 100.0 * changed / n, applied, size))


if __name__ == "__main__":
    main()
