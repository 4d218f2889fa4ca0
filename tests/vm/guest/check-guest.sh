#!/bin/sh
# make check-guest: boot Debian's 6.12 kernel under multi-threaded TCG with
# our QEMU and the amdkfd-mc guest driver, and run the guest tests:
#   isolation          4 concurrent programs, I1-I6 must hold
#   topology           caches and io links in sysfs, in the KFD's formats
#   hsakmt             a client linked against Debian's libhsakmt, with its
#                      defaults (paged memory is USERPTR memory): queues,
#                      registered memory filled by GPU DMA, the topology
#   race-free, race-close, race-kill, race-mremap
#                      issue 11's four window races, as unprivileged users:
#                      no stale CPU mapping reaches another program's memory
#   fair-contexts, fair-inflight, fair-share
#                      one busy program starves neither the others nor
#                      its own cleanup (per-process shares)
#   fuzz               kfd-fuzz as an unprivileged user for at most 60 s:
#                      random ioctls, sizes, counts and mmap offsets; the
#                      driver's counters back at 0, no warning in dmesg
#   leaks              the driver holds nothing once the programs exited
#   probe-reset        the driver resets a device left in use at probe
#   userptr-dma, userptr-attack, userptr-bad, userptr-limit, userptr-race,
#   userptr-nofeature  USERPTR memory (kfd-userptr.c): GPU DMA into a
#                      program's own pages, isolation, hostile arguments,
#                      the pin bound, races, the refusal without the feature
#   lifetime           device removal (also under load) and module unload
#                      with files open
#   userptr-remove     device removal while USERPTR memory is held
#   isolation-legacy, userptr-attack-legacy
#                      (second boot) the same with legacy-shared=on:
#                      the breach must be seen
#   guest-memory-qmp   (each boot) the device's guest-memory-bytes, read by
#                      the host over QMP, was non-zero while programs held
#                      USERPTR memory and is 0, with no object or context
#                      left, once they all exited
# Prints one line per guest test, then "N passed, N failed"; exits non-zero
# on any failure.  Logs: build/guest/*.log.  CHECK_GUEST_RUNS=N (make) or
# check-guest-loop.sh N repeats the whole run and tallies the outcomes.
set -eu
. "$(dirname "$0")/common.sh"

t0=$(now)
build_guest
log "built in $(elapsed "$t0") s"
tests_up=userptr-dma,userptr-attack,userptr-bad,userptr-limit,userptr-race,userptr-nofeature
tests_rest=$tests_up,race-free,race-close,race-kill,race-mremap,fair-contexts,fair-inflight,fair-share,fuzz,leaks,probe-reset,lifetime,userptr-remove
tests_iso=isolation,rocm-module,topology,drm,hsakmt,$tests_rest
pass=0 fail=0
if [ ! -x "$GUEST_BUILD/bin/tests/run-hsakmt.sh" ]; then
	echo "FAIL hsakmt: the libhsakmt client was not built (Debian's libhsakmt1/libhsakmt-dev could not be downloaded or linked; see above)"
	fail=1
	tests_iso=isolation,rocm-module,topology,$tests_rest
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

# counters LOG LABEL: the device's QOM counters, read over QMP by the
# host while the guest ran (qmp-watch.py): guest memory must have been in
# use (max > 0) and, after every program exited, nothing may be left.
counters() {
	cfile=${1%.log}.counters label=$2
	if [ ! -f "$cfile" ]; then
		echo "FAIL guest-memory-qmp ($label): no counters read over QMP"
		fail=$((fail + 1))
		return
	fi
	gm=$(sed -n 's/^guest-memory-bytes //p' "$cfile")
	lo=$(sed -n 's/^live-objects //p' "$cfile")
	lc=$(sed -n 's/^live-contexts //p' "$cfile")
	case "$gm:$lo:$lc" in
	max=0\ *) res=FAIL why="no guest memory was ever in use" ;;
	*final=0:*final=0:*final=0) res=PASS why="nothing left after the programs exited" ;;
	*) res=FAIL why="left behind after the programs exited" ;;
	esac
	echo "$res guest-memory-qmp ($label): guest-memory-bytes $gm, live-objects $lo, live-contexts $lc: $why"
	if [ "$res" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

t1=$(now)
# obj-max-guest-ranges=16: large USERPTR allocations become several
# device objects, so that the driver's fan-out is exercised
boot "$GUEST_BUILD/check-isolated.log" ",obj-max-guest-ranges=16" "$tests_iso" 480 || true
w1=$(elapsed "$t1")
report "$GUEST_BUILD/check-isolated.log" "isolated, VM ${w1} s"
counters "$GUEST_BUILD/check-isolated.log" "isolated"
t2=$(now)
boot "$GUEST_BUILD/check-legacy.log" ",legacy-shared=on" isolation-legacy,userptr-attack-legacy || true
w2=$(elapsed "$t2")
report "$GUEST_BUILD/check-legacy.log" "legacy-shared=on, VM ${w2} s"
counters "$GUEST_BUILD/check-legacy.log" "legacy-shared=on"
echo "check-guest: $pass passed, $fail failed (total $(elapsed "$t0") s)"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
