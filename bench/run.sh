#!/usr/bin/env bash
# `make bench`: builds (or reuses) the data set, measures the baselines and
# the store, prints one name=value line per figure (absolute numbers and
# ratios to baselines measured in this same run) and keeps a copy under
# $BENCH_DIR/results/. See docs/BENCHMARKS.md.
#
# Env (defaults in brackets):
#   BINDIR            the build's bin/ [./bin]
#   BENCH_DIR         data set cache and scratch space [/tmp/dedupd-bench]
#   BENCH_MB          size of generation 0 in MiB [512]
#   BENCH_GENS        mutated generations after gen0 [4]
#   BENCH_SEED        PRNG seed of the mutations [1]
#   BENCH_REPS        repetitions of the cheap in-memory figures [5]
#   BENCH_STORE_REPS  repetitions of the default-size store ingest [3]
#   BENCH_CHUNK_KIB   average chunk sizes for the study ["8 16 32"]
#   BENCH_STUDY_REPS  fresh stores per size in the study [1]
#   BENCH_RESTIC      1 to run the restic baseline [1]
#   BENCH_S3_PATH     1 to run one more store with whole-content MD5 and
#                     SHA-256 on, as the S3 path writes [1]
#   BENCH_KEEP        1 to keep the scratch stores and restic repository [0]
#   BENCH_NET         1 to run S3 and DDP against the real dedupd
#                     (bench/net.py) [1]
#   BENCH_NET_MB      size of that benchmark's object in MiB [2048]; equal
#                     to BENCH_MB, it reuses generations 0 and 1 above
#   BENCH_NET_REPS    fresh servers per client mode (median) [1]
#   BENCH_NET_CURL    1 to add the one-request curl S3 client [0]
set -euo pipefail
cd "$(dirname "$0")/.."
BINDIR=${BINDIR:-$PWD/bin}
export BENCH_DIR=${BENCH_DIR:-/tmp/dedupd-bench}
export BENCH_MB=${BENCH_MB:-512} BENCH_GENS=${BENCH_GENS:-4} BENCH_SEED=${BENCH_SEED:-1}
BENCH_REPS=${BENCH_REPS:-5}
BENCH_STORE_REPS=${BENCH_STORE_REPS:-3}
BENCH_CHUNK_KIB=${BENCH_CHUNK_KIB:-8 16 32}
BENCH_STUDY_REPS=${BENCH_STUDY_REPS:-1}
BENCH_RESTIC=${BENCH_RESTIC:-1}
BENCH_S3_PATH=${BENCH_S3_PATH:-1}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_NET=${BENCH_NET:-1}
BENCH_NET_MB=${BENCH_NET_MB:-2048}
export BENCH_NET_REPS=${BENCH_NET_REPS:-1} BENCH_NET_CURL=${BENCH_NET_CURL:-0}

mkdir -p "$BENCH_DIR/results"
results="$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
scratch=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
cleanup() { [ "$BENCH_KEEP" = 1 ] || rm -rf "$scratch"; }
trap cleanup EXIT

# Every figure goes through emit: stdout and the results file.
emit() { echo "$1=$2" | tee -a "$results"; }
note() { echo "# $*" | tee -a "$results" >&2; }
# get NAME: value of a figure already emitted in this run.
get() { sed -n "s/^$1=//p" "$results" | tail -n1; }
# calc EXPR: floating-point arithmetic (awk), 4 significant digits.
calc() { awk "BEGIN { v = $1; printf \"%.4g\n\", v }"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
	if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

data=$(bench/dataset.sh)
gens=()
for g in $(seq 0 "$BENCH_GENS"); do gens+=("$data/gen$g.tar"); done

note "dedupd benchmark $(date -u +%FT%TZ), data set $data"
emit machine_nproc "$(nproc)"
emit machine_cpu "\"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)\""
emit machine_loadavg_start "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
emit dataset_gen0_bytes "$(stat -c %s "${gens[0]}")"
emit dataset_generations "$((BENCH_GENS + 1))"
logical=0
for f in "${gens[@]}"; do logical=$((logical + $(stat -c %s "$f"))); done
emit dataset_logical_bytes "$logical"

# --- baseline: openssl speed -evp sha256 (per CPU second, its default;
# 8192/16384-byte columns)
o8=() o16=()
for _ in $(seq 1 "$BENCH_REPS"); do
	line=$(openssl speed -seconds 1 -mr -evp sha256 2>/dev/null | grep '^+F:')
	# +F:idx:sha256:16:64:256:1024:8192:16384 in bytes/s
	o8+=("$(echo "$line" | awk -F: '{ printf "%.4f", $8 / 1e9 }')")
	o16+=("$(echo "$line" | awk -F: '{ printf "%.4f", $9 / 1e9 }')")
done
emit openssl_sha256_8k_gbps "$(echo "${o8[*]}" | median)"
emit openssl_sha256_16k_gbps "$(echo "${o16[*]}" | median)"

# --- in-memory figures of our code path: SHA-256, zstd (and the chunker)
"$BINDIR/bench/store" micro "${gens[0]}" --reps "$BENCH_REPS" | while IFS='=' read -r k v; do
	emit "$k" "$v"
done || note "store micro failed"
emit ratio_sha256_evp_vs_openssl "$(calc "$(get sha256_evp_8k_gbps) / $(get openssl_sha256_8k_gbps)")"
if [ -n "$(get sha256_chunks_gbps)" ]; then
	emit ratio_sha256_chunks_vs_openssl "$(calc "$(get sha256_chunks_gbps) / $(get openssl_sha256_8k_gbps)")"
fi

# --- baseline: restic backup of the same generations, in order
if [ "$BENCH_RESTIC" = 1 ] && command -v restic >/dev/null; then
	export RESTIC_PASSWORD=dedupd-bench RESTIC_REPOSITORY="$scratch/restic-repo"
	export RESTIC_CACHE_DIR="$scratch/restic-cache"
	emit restic_version "\"$(restic version | cut -d' ' -f2)\""
	restic init >/dev/null
	total=0 cpu=0
	for g in $(seq 0 "$BENCH_GENS"); do
		# wall seconds, then user + system CPU seconds (restic uses all
		# cores), from bash's own `time` (no /usr/bin/time needed)
		TIMEFORMAT='%R %U %S'
		{ time restic backup --quiet --host bench "${gens[$g]}" >/dev/null; } 2>"$scratch/time"
		read -r t u sy < <(tail -n1 "$scratch/time")
		emit "restic_gen${g}_secs" "$t"
		emit "restic_gen${g}_cpu_secs" "$(calc "$u + $sy")"
		emit "restic_gen${g}_repo_bytes" "$(du -sb "$RESTIC_REPOSITORY" | cut -f1)"
		total=$(calc "$total + $t")
		cpu=$(calc "$cpu + $u + $sy")
	done
	emit restic_total_secs "$total"
	emit restic_total_cpu_secs "$cpu"
	emit restic_ingest_mbps "$(calc "$logical / 1e6 / $total")"
	emit restic_ingest_cpu_mbps "$(calc "$logical / 1e6 / $cpu")"
	emit restic_repo_bytes "$(du -sb "$RESTIC_REPOSITORY" | cut -f1)"
	emit restic_stored_ratio "$(calc "$(get restic_repo_bytes) / $logical")"
	rm -rf "$RESTIC_REPOSITORY" "$RESTIC_CACHE_DIR"
else
	note "restic baseline skipped"
fi

# --- chunk-size study, model: unique chunks compressed as the store would
# (no metadata, no store code beyond the chunker and fingerprint)
for k in $BENCH_CHUNK_KIB; do
	"$BINDIR/bench/store" dedup "${gens[@]}" --chunk-kib "$k" --prefix "avg${k}k_" |
		while IFS='=' read -r key v; do emit "$key" "$v"; done || true
done

# --- the store: default chunk size, medians of BENCH_STORE_REPS fresh stores
# store_ingest PREFIX REPS [--chunk-kib K]: prints the figures or a status.
store_ingest() {
	local prefix=$1 reps=$2 out
	shift 2
	if out=$("$BINDIR/bench/store" ingest "$scratch/store" "${gens[@]}" \
		--reps "$reps" --prefix "$prefix" "$@" 2>"$scratch/store.err"); then
		echo "$out" | while IFS='=' read -r k v; do emit "$k" "$v"; done
		return 0
	fi
	echo "$out" | while IFS='=' read -r k v; do [ -n "$k" ] && emit "$k" "$v"; done
	note "store ingest ($prefix) failed: $(tail -n 3 "$scratch/store.err" | tr '\n' ' ')"
	return 1
}
store_ok=0
store_ingest "" "$BENCH_STORE_REPS" && store_ok=1

if [ "$store_ok" = 1 ]; then
	# ratios to baselines measured above, in this run
	emit ratio_ingest_new_cpu_vs_zstd "$(calc "$(get ingest_new_cpu_mbps) / $(get zstd_compress_mbps)")"
	# Single-thread compute bounds from the in-memory figures: new data must
	# be chunked, hashed and compressed; duplicate data chunked and hashed.
	c=$(get chunker_gbps) h=$(get sha256_chunks_gbps) z=$(get zstd_compress_mbps)
	emit bound_new_mbps "$(calc "1 / (1 / ($c * 1000) + 1 / ($h * 1000) + 1 / $z)")"
	emit bound_dup_mbps "$(calc "1 / (1 / ($c * 1000) + 1 / ($h * 1000))")"
	emit ratio_ingest_new_cpu_vs_bound "$(calc "$(get ingest_new_cpu_mbps) / $(get bound_new_mbps)")"
	emit ratio_ingest_dup_cpu_vs_bound "$(calc "$(get ingest_dup_cpu_mbps) / $(get bound_dup_mbps)")"
	emit ratio_ingest_dup_cpu_vs_openssl_sha256 "$(calc "$(get ingest_dup_cpu_mbps) / 1000 / $(get openssl_sha256_8k_gbps)")"
	emit ratio_read_cpu_vs_zstd_decompress "$(calc "$(get read_newest_cpu_mbps) / $(get zstd_decompress_mbps)")"
	if [ -n "$(get restic_repo_bytes)" ]; then
		emit ratio_stored_vs_restic "$(calc "$(get stored_disk_bytes) / $(get restic_repo_bytes)")"
		emit ratio_ingest_vs_restic "$(calc "$(get ingest_all_gens_mbps) / $(get restic_ingest_mbps)")"
		emit ratio_ingest_cpu_vs_restic "$(calc "$(get ingest_all_gens_cpu_mbps) / $(get restic_ingest_cpu_mbps)")"
	fi
	# targets (not tests): "met" or "missed", per core = per CPU second
	target() { # name value op limit
		if awk "BEGIN { exit !($2 $3 $4) }"; then emit "target_$1" "met"; else emit "target_$1" "missed"; fi
	}
	target dup_ingest_ge_1000_mbps_per_core "$(get ingest_dup_cpu_mbps)" '>=' 1000
	target new_ingest_ge_350_mbps_per_core "$(get ingest_new_cpu_mbps)" '>=' 350
	target read_newest_ge_1000_mbps "$(get read_newest_mbps)" '>=' 1000
	target lmdb_reads_lt_10_per_1000_dup_chunks "$(get lmdb_reads_per_1000_chunks_dup)" '<' 10
	if [ -n "$(get restic_repo_bytes)" ]; then
		target stored_le_0.85x_restic "$(get ratio_stored_vs_restic)" '<=' 0.85
		target ingest_ge_2x_restic "$(get ratio_ingest_vs_restic)" '>=' 2
	fi

	# the S3 path also computes MD5 and SHA-256 of the whole content
	if [ "$BENCH_S3_PATH" = 1 ] && store_ingest "s3path_" 1 --digests all; then
		emit ratio_s3path_ingest_new_vs_ddp "$(calc "$(get s3path_ingest_new_cpu_mbps) / $(get ingest_new_cpu_mbps)")"
		emit ratio_s3path_ingest_dup_vs_ddp "$(calc "$(get s3path_ingest_dup_cpu_mbps) / $(get ingest_dup_cpu_mbps)")"
	fi

	# chunk-size study: one fresh store per average size
	for k in $BENCH_CHUNK_KIB; do
		store_ingest "avg${k}k_" "$BENCH_STUDY_REPS" --chunk-kib "$k" || true
	done
else
	emit store_status pending
fi

# --- the network path: S3 (aws CLI, curl) and DDP (bin/ddp) against the
# real dedupd, with the store baseline on the same files (bench/net.py)
if [ "$BENCH_NET" = 1 ]; then
	if [ "$BENCH_NET_MB" = "$BENCH_MB" ] && [ "$BENCH_GENS" -ge 1 ]; then
		net_files=("${gens[0]}" "${gens[1]}")
	else
		net_data=$(BENCH_MB=$BENCH_NET_MB BENCH_GENS=1 bench/dataset.sh)
		net_files=("$net_data/gen0.tar" "$net_data/gen1.tar")
	fi
	net_ok=1
	BINDIR=$BINDIR python3 bench/net.py "${net_files[@]}" --table "$scratch/net-table.txt" \
		>"$scratch/net.out" || net_ok=0
	while IFS='=' read -r k v; do [ -n "$k" ] && emit "$k" "$v"; done <"$scratch/net.out"
	if [ "$net_ok" = 1 ]; then
		while IFS= read -r line; do note "$line"; done <"$scratch/net-table.txt"
	else
		note "network benchmark (bench/net.py) failed, see its message above"
	fi
else
	note "network benchmark skipped (BENCH_NET=0)"
fi

emit machine_loadavg_end "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
note "results saved in $results"
