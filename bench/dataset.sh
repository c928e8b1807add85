#!/usr/bin/env bash
# Builds (or reuses) the benchmark data set and prints its directory.
#
#   bench/dataset.sh            -> prints e.g. /tmp/dedupd-bench/data-512m-g4-s1
#
# Generation 0 is a tar of system files (fixed list of directories, sorted
# names, zeroed times and owners) cut to BENCH_MB MiB. Generations 1..BENCH_GENS
# are each the previous one with 1-3 % changed by bench/mutate.py (overwrites,
# insertions, deletions) from PRNG seed BENCH_SEED. A data set is reused when
# its directory has a complete MANIFEST for the same parameters.
#
# Env: BENCH_DIR (default /tmp/dedupd-bench), BENCH_MB (512), BENCH_GENS (4),
#      BENCH_SEED (1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/dedupd-bench}
BENCH_MB=${BENCH_MB:-512}
BENCH_GENS=${BENCH_GENS:-4}
BENCH_SEED=${BENCH_SEED:-1}
# Fixed list, in this order; later entries only matter for large BENCH_MB.
SRC_DIRS="usr/include usr/share/doc usr/lib/x86_64-linux-gnu usr/bin usr/share/locale usr/lib/python3"
VERSION=2 # bump when the recipe below changes, so old caches are not reused

dir="$BENCH_DIR/data-${BENCH_MB}m-g${BENCH_GENS}-s${BENCH_SEED}"
want="version=$VERSION mb=$BENCH_MB gens=$BENCH_GENS seed=$BENCH_SEED dirs=$SRC_DIRS"
if [ -f "$dir/MANIFEST" ] && [ "$(head -n1 "$dir/MANIFEST")" = "$want" ]; then
	echo "$dir"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
bytes=$((BENCH_MB * 1024 * 1024))
existing=""
for d in $SRC_DIRS; do [ -e "/$d" ] && existing="$existing $d"; done
echo "dataset: building gen0 ($BENCH_MB MiB from$existing) in $dir" >&2
# tar exits non-zero on SIGPIPE once head has enough; only the size matters.
set +o pipefail
# shellcheck disable=SC2086
tar -C / -cf - --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	--ignore-failed-read $existing 2>/dev/null | head -c "$bytes" >"$dir/gen0.tar"
set -o pipefail
got=$(stat -c %s "$dir/gen0.tar")
if [ "$got" -ne "$bytes" ]; then
	echo "dataset: only $got bytes of system files found (wanted $bytes)" >&2
fi

{
	echo "$want"
	echo "gen0 bytes=$got sha256=$(openssl dgst -sha256 -r "$dir/gen0.tar" | cut -d' ' -f1)"
} >"$dir/MANIFEST.tmp"
for g in $(seq 1 "$BENCH_GENS"); do
	echo "dataset: mutating gen$g" >&2
	stats=$(python3 "$here/mutate.py" "$BENCH_SEED" "$g" "$dir/gen$((g - 1)).tar" "$dir/gen$g.tar")
	echo "gen$g $stats sha256=$(openssl dgst -sha256 -r "$dir/gen$g.tar" | cut -d' ' -f1)" >>"$dir/MANIFEST.tmp"
done
mv "$dir/MANIFEST.tmp" "$dir/MANIFEST"
echo "$dir"
