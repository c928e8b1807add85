#!/usr/bin/env bash
# Runs dedupd's tests: `tests/run.sh unit|integration|all`.
# BINDIR points at the build's bin/ (bin or build-asan/bin). Prints one
# closing line "tests: N passed, N failed, N skipped"; exit 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
BINDIR=${BINDIR:-$PWD/bin}
export BINDIR
passed=0 failed=0 skipped=0
failures=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/dedupd-tests.XXXXXX")

record() { # name rc npass nfail nskip
	passed=$((passed + $3)); failed=$((failed + $4)); skipped=$((skipped + $5))
	if [ "$2" -ne 0 ] && [ "$4" -eq 0 ]; then failed=$((failed + 1)); fi
	if [ "$2" -ne 0 ] || [ "$4" -ne 0 ]; then failures+=("$1"); fi
}

run_unit() {
	for t in "$BINDIR"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		log="$logdir/$name.log"
		"$t" >"$log" 2>&1; rc=$?
		np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		nf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		nsk=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		printf '%-40s %s (%s passed, %s failed)\n' "unit/$name" "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "$np" "$nf"
		[ $rc -ne 0 ] && sed 's/^/    /' "$log" | tail -n 40
		record "unit/$name" $rc "$np" "$nf" "$nsk"
	done
	for t in "$BINDIR"/tests/*-replay; do
		[ -x "$t" ] || continue
		name=$(basename "$t" -replay)
		log="$logdir/$name.log"
		"$t" "tests/fuzz/corpus/$name" >"$log" 2>&1; rc=$?
		printf '%-40s %s\n' "fuzz-replay/$name" "$([ $rc -eq 0 ] && echo ok || echo FAIL)"
		[ $rc -ne 0 ] && sed 's/^/    /' "$log" | tail -n 40
		record "fuzz-replay/$name" $rc $([ $rc -eq 0 ] && echo 1 || echo 0) 0 0
	done
}

run_integration() {
	out="$logdir/integration.counts"
	python3 tests/integration/runner.py --counts "$out"; rc=$?
	read -r np nf nsk <"$out" 2>/dev/null || { np=0; nf=0; nsk=0; }
	record integration $rc "$np" "$nf" "$nsk"
}

case "$what" in
unit) run_unit ;;
integration) run_integration ;;
all) run_unit; run_integration ;;
*) echo "usage: tests/run.sh unit|integration|all" >&2; exit 2 ;;
esac

rm -rf "$logdir"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[*]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
