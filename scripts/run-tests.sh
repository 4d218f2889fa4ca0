#!/bin/sh
# Run every test suite, print one line per test case and finish with the
# summary line "N passed, N failed[, N skipped]".  Exits non-zero when any
# test failed.
#
#   run-tests.sh QEMU_BUILD QEMU_ASAN_BUILD
set -u
build=$1
asan_build=$2
here=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# Sanitizer reports end the process, so a report is a failed test.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The qtests sit at the leak-checked end of a QEMU they kill; keep QEMU's
# own exit quick and quiet.
export QTEST_LOG=

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

for b in "$build" "$asan_build"; do
	case $b in
	"$asan_build") tag=asan ;;
	*) tag=plain ;;
	esac
	run_tap "unit-sim[$tag]" "$b/tests/unit/test-amdkfd-mc-sim"
	QTEST_QEMU_BINARY=$b/qemu-system-x86_64 \
		run_tap "qtest[$tag]" "$b/tests/qtest/amdkfd-mc-test"
done

pass=$(grep -c '^PASS ' "$results")
fail=$(grep -c '^FAIL ' "$results")
skip=$(grep -c '^SKIP ' "$results")
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
