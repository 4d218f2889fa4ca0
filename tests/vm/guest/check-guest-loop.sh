#!/bin/sh
# Repeat check-guest N times (make check-guest CHECK_GUEST_RUNS=N) and
# tally what went wrong, to show that the guest VM tests are stable on
# multi-threaded TCG:
#
#   check-guest-loop.sh N
#
# Per run: pass or fail, and in the VM logs a QEMU assertion ("Assertion
# ... failed", "assertion failed"), a hang (a boot that never printed
# @@AKMC-END: QEMU crash, guest hang or timeout), a failing kernel log, and
# RCU stall notes (a host CPU starved under TCG; noted, not a failure).
# The logs of every run that was not clean are kept in
# build/guest/loop/run-K/; the tally goes to build/guest/loop/summary.txt.
# Exits non-zero if any run failed.
set -eu
. "$(dirname "$0")/common.sh"

runs=${1:-50}
# a missing QEMU would count as 50 hangs: say so once instead
[ -x "${QEMU_BIN:-}" ] || {
	echo "check-guest-loop: no QEMU at ${QEMU_BIN:-(QEMU_BIN unset)}; run make qemu first" >&2
	exit 1
}
out=$GUEST_BUILD/loop
rm -rf "$out"
mkdir -p "$out"
t0=$(now)
n_pass=0 n_fail=0 n_assert=0 n_hang=0 n_klog=0 n_rcu=0
k=1
while [ "$k" -le "$runs" ]; do
	t1=$(now)
	rc=0
	sh "$(dirname "$0")/check-guest.sh" > "$out/run.txt" 2>&1 || rc=$?
	logs="$GUEST_BUILD/check-isolated.log $GUEST_BUILD/check-legacy.log"
	assert=0 hang=0 klog=0 rcu=0
	# shellcheck disable=SC2086
	grep -q -E 'Assertion .* failed|assertion failed' $logs 2>/dev/null && assert=1
	for l in $logs; do
		grep -q '^@@AKMC-END' "$l" 2>/dev/null || hang=1
	done
	# shellcheck disable=SC2086
	grep -q '^@@AKMC-RESULT kernel-log FAIL' $logs 2>/dev/null && klog=1
	# shellcheck disable=SC2086
	grep -q '^@@AKMC-NOTE rcu-stall' $logs 2>/dev/null && rcu=1
	if [ "$rc" -eq 0 ]; then
		n_pass=$((n_pass + 1))
		res=PASS
	else
		n_fail=$((n_fail + 1))
		res=FAIL
	fi
	n_assert=$((n_assert + assert))
	n_hang=$((n_hang + hang))
	n_klog=$((n_klog + klog))
	n_rcu=$((n_rcu + rcu))
	line="run $k: $res in $(elapsed "$t1") s (assertion $assert, hang $hang, kernel-log $klog, rcu-stall $rcu); $(tail -n 1 "$out/run.txt")"
	echo "$line" | tee -a "$out/summary.txt"
	if [ "$res" = FAIL ] || [ $((assert + hang + klog + rcu)) -gt 0 ]; then
		mkdir -p "$out/run-$k"
		# shellcheck disable=SC2086
		cp "$out/run.txt" $logs "$out/run-$k/" 2>/dev/null || true
	fi
	k=$((k + 1))
done
rm -f "$out/run.txt"
echo "check-guest-loop: $runs runs on TCG thread=${AKMC_TCG_THREAD:-multi}: $n_pass passed, $n_fail failed; QEMU assertions in $n_assert, hangs in $n_hang, kernel-log failures in $n_klog, RCU stall notes in $n_rcu (total $(elapsed "$t0") s)" |
	tee -a "$out/summary.txt"
[ "$n_fail" -eq 0 ]
