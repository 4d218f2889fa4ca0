#!/bin/sh
# make check-guest: boot Debian's 6.12 kernel under multi-threaded TCG with
# our QEMU and the amdkfd-mc guest driver, and run the guest tests:
#   isolation          4 concurrent programs, I1-I6 must hold
#   hsakmt             a client linked against Debian's libhsakmt
#   race-free, race-close, race-kill, race-mremap
#                      issue 11's four window races, as unprivileged users:
#                      no stale CPU mapping reaches another program's memory
#   fair-contexts, fair-inflight, fair-share
#                      one busy program starves neither the others nor
#                      its own cleanup (per-process shares)
#   leaks              the driver holds nothing once the programs exited
#   probe-reset        the driver resets a device left in use at probe
#   lifetime           device removal (also under load) and module unload
#                      with files open
#   isolation-legacy   (second boot) the same with legacy-shared=on:
#                      the breach must be seen
# Prints one line per guest test, then "N passed, N failed"; exits non-zero
# on any failure.  Logs: build/guest/*.log.  CHECK_GUEST_RUNS=N (make) or
# check-guest-loop.sh N repeats the whole run and tallies the outcomes.
set -eu
. "$(dirname "$0")/common.sh"

t0=$(now)
build_guest
log "built in $(elapsed "$t0") s"
tests_rest=race-free,race-close,race-kill,race-mremap,fair-contexts,fair-inflight,fair-share,leaks,probe-reset,lifetime
tests_iso=isolation,hsakmt,$tests_rest
pass=0 fail=0
if [ ! -x "$GUEST_BUILD/bin/tests/run-hsakmt.sh" ]; then
	echo "FAIL hsakmt: the libhsakmt client was not built (Debian's libhsakmt1/libhsakmt-dev could not be downloaded or linked; see above)"
	fail=1
	tests_iso=isolation,$tests_rest
fi

# report LOG LABEL: one line per guest test result in LOG
report() {
	rlog=$1 label=$2
	boot_s=$(sed -n 's/^akmc-vm: driver loaded, up \([0-9.]*\)s.*/\1/p' "$rlog" | tr -d '\r')
	grep '^@@AKMC-RESULT' "$rlog" | tr -d '\r' | while read -r _ name res rc t up; do
		echo "$res $name ($label): ${t#t=} s in the guest, result at ${up#up=} s after boot, $rc"
	done
	n_ok=$(grep -c '^@@AKMC-RESULT [^ ]* PASS' "$rlog" || true)
	n_bad=$(grep -c '^@@AKMC-RESULT [^ ]* FAIL' "$rlog" || true)
	pass=$((pass + n_ok))
	fail=$((fail + n_bad))
	if [ "$n_bad" -gt 0 ]; then
		sed -n '/^@@AKMC-BEGIN/,/^@@AKMC-END/p' "$rlog" | tr -d '\r' |
			grep -v '^@@' | sed 's/^/    /'
	fi
	if grep -q '^@@AKMC-NOTE rcu-stall' "$rlog"; then
		echo "NOTE rcu-stall ($label): the guest reported RCU stalls (host CPU starved?)"
	fi
	if ! grep -q '^@@AKMC-END' "$rlog"; then
		echo "FAIL vm ($label): the VM did not finish (QEMU crash, guest hang or timeout; see $rlog):"
		tail -n 12 "$rlog" | tr -d '\r' | sed 's/^/    /'
		fail=$((fail + 1))
	fi
	echo "    ($label: driver ready ${boot_s:-?} s after kernel start)"
}

t1=$(now)
boot "$GUEST_BUILD/check-isolated.log" "" "$tests_iso" 420 || true
w1=$(elapsed "$t1")
report "$GUEST_BUILD/check-isolated.log" "isolated, VM ${w1} s"
t2=$(now)
boot "$GUEST_BUILD/check-legacy.log" ",legacy-shared=on" isolation-legacy || true
w2=$(elapsed "$t2")
report "$GUEST_BUILD/check-legacy.log" "legacy-shared=on, VM ${w2} s"
echo "check-guest: $pass passed, $fail failed (total $(elapsed "$t0") s)"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
