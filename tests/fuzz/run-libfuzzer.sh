#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer binary with clang (ASan +
# UBSan) against the project's sources and runs each for FUZZ_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
out=build-fuzz
make --no-print-directory CC=clang BUILD=$out BINDIR=$out/bin \
	OPT="-O1 -g -fno-omit-frame-pointer" \
	SAN="-fsanitize=fuzzer-no-link,address,undefined" \
	$(for m in gateway s3api ddproto segstore index common; do echo $out/obj/lib$m.a; done)
flags=$(pkg-config --cflags --libs libevent libevent_openssl libevent_pthreads openssl libzstd libxxhash lmdb libcurl expat libsystemd)
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	mkdir -p "$out/corpus/$name"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/$name/* "$out/corpus/$name/" 2>/dev/null || true
	clang -I. -D_GNU_SOURCE -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined \
		-o "$out/$name" "$src" \
		$out/obj/libgateway.a $out/obj/libs3api.a $out/obj/libddproto.a \
		$out/obj/libsegstore.a $out/obj/libindex.a $out/obj/libcommon.a \
		$flags -lhttp_parser -lm -pthread
	echo "== $name for ${secs}s"
	"$out/$name" -max_total_time="$secs" -max_len=65536 "$out/corpus/$name"
done
