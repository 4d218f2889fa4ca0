#!/bin/sh
# Run every test suite, print one line per test case and finish with the
# summary line "N passed, N failed[, N skipped]".  Exits non-zero when any
# test failed.
#
#   run-tests.sh QEMU_BUILD QEMU_ASAN_BUILD [SUITE-COMMAND...]
#
# QEMU11_BUILD, when set, is a plain build of QEMU 11.x whose unit tests
# and qtests run too (tagged [qemu11]).
#
# Each further argument is a shell command of a suite that prints its own
# "N passed, N failed" line (the VM suites); its counts join the total.
set -u
build=$1
asan_build=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# Sanitizer reports end the process, so a report is a failed test.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# run_tap SUITE COMMAND...: run a GLib test binary in TAP mode and record
# one result per test case; a crash counts as a failure of its own.
run_tap() {
	suite=$1
	shift
	out=$(mktemp)
	start=$(date +%s)
	"$@" --tap -k >"$out" 2>"$out.err"
	rc=$?
	awk -v suite="$suite" '
		/^ok / && / # SKIP/ { sub(/^ok [0-9]+ /, ""); print "SKIP " suite " " $0; next }
		/^ok / { sub(/^ok [0-9]+ /, ""); print "PASS " suite " " $0; next }
		/^not ok / { sub(/^not ok [0-9]+ /, ""); print "FAIL " suite " " $0; next }
	' "$out" | tee -a "$results"
	if [ $rc != 0 ] && ! grep -q '^not ok ' "$out"; then
		echo "FAIL $suite exited with status $rc" | tee -a "$results"
	fi
	if [ $rc != 0 ]; then
		tail -40 "$out.err" | sed "s/^/  $suite: /"
	fi
	echo "# $suite: $(($(date +%s) - start)) s"
	rm -f "$out" "$out.err"
}

# run_qemu_tests TAG BUILD: the unit tests and qtests of one QEMU build
run_qemu_tests() {
	run_tap "unit-sim[$1]" "$2/tests/unit/test-amdkfd-mc-sim"
	run_tap "unit-range[$1]" "$2/tests/unit/test-amdkfd-mc-range"
	QTEST_QEMU_BINARY=$2/qemu-system-x86_64 \
		run_tap "qtest[$1]" "$2/tests/qtest/amdkfd-mc-test"
}

run_qemu_tests plain "$build"
run_qemu_tests asan "$asan_build"
# The other QEMU line, when it is not the one just tested
if [ -n "${QEMU11_BUILD:-}" ] && [ "$QEMU11_BUILD" != "$build" ]; then
	run_qemu_tests qemu11 "$QEMU11_BUILD"
fi

# run_counted COMMAND: a suite with its own summary line; a non-zero exit
# with no failure counted is one failure more.
extra_pass=0
extra_fail=0
extra_skip=0
run_counted() {
	out=$(mktemp)
	{
		sh -c "$1"
		echo $? >"$out.rc"
	} 2>&1 | tee "$out"
	rc=$(cat "$out.rc")
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$out" |
		tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $1: no summary line (exit status $rc)"
		extra_fail=$((extra_fail + 1))
	else
		# shellcheck disable=SC2046
		set -- $(echo "$line" | sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\2 \3 \5/')
		extra_pass=$((extra_pass + $1))
		extra_fail=$((extra_fail + $2))
		extra_skip=$((extra_skip + ${3:-0}))
		if [ "$rc" != 0 ] && [ "$2" = 0 ]; then
			echo "FAIL $1: exit status $rc"
			extra_fail=$((extra_fail + 1))
		fi
	fi
	rm -f "$out" "$out.rc"
}

for suite in "$@"; do
	echo "# suite: $suite"
	start=$(date +%s)
	run_counted "$suite"
	echo "# $suite: $(($(date +%s) - start)) s"
done

pass=$(($(grep -c '^PASS ' "$results") + extra_pass))
fail=$(($(grep -c '^FAIL ' "$results") + extra_fail))
skip=$(($(grep -c '^SKIP ' "$results") + extra_skip))
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
