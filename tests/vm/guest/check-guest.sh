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
#   checkpatch         (no VM) the kernel's checkpatch.pl --strict is clean
#                      on every file of guest/linux
#   dkms               (no VM) the driver's DKMS package added, built and
#                      installed by Debian's dkms for 6.12, bookworm's 6.1
#                      and sid's 7.x, in private trees (dkms-build.sh)
#   isolation, userptr-dma, leaks, lifetime on linux 6.1 and 7.x
#                      (one boot each) the driver on Debian bookworm's
#                      stock 6.1 and sid's 7.x, the other kernels it
#                      supports (guest/linux/akmc_compat.h): the tests that
#                      cover what differs (PCI setup, the kfd class,
#                      mappings, pinned pages, removal and unload)
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
		[ ! -s "${rlog%.log}.threads" ] ||
			echo "    QEMU's threads when it was stopped: ${rlog%.log}.threads"
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

# Kernel style on every file of the driver, with 6.12's checkpatch.pl:
# the files git tracks there (an in-place build leaves objects beside them)
cpl=$KCACHE/6.12/source/scripts/checkpatch.pl
files=$(git -C "$top" ls-files guest/linux 2>/dev/null | sed 's|^guest/linux/||')
[ -n "$files" ] || files=$(cd "$top/guest/linux" && ls Kbuild Makefile dkms.conf ./*.md ./*.[ch] |
	sed 's|^\./||' | grep -v '\.mod\.c$')
bad_files=
nfiles=0
for f in $files; do
	nfiles=$((nfiles + 1))
	perl "$cpl" --strict --no-tree -q -f "$top/guest/linux/$f" > /dev/null 2>&1 ||
		bad_files="$bad_files $f"
done
if [ -z "$bad_files" ]; then
	echo "PASS checkpatch (guest/linux): $nfiles files, checkpatch.pl --strict --no-tree of linux 6.12 reports nothing"
	pass=$((pass + 1))
else
	echo "FAIL checkpatch (guest/linux): checkpatch.pl --strict --no-tree reports problems in$bad_files"
	for f in $bad_files; do
		perl "$cpl" --strict --no-tree -q -f "$top/guest/linux/$f" 2>&1 | head -n 12 | sed 's/^/    /'
	done
	fail=$((fail + 1))
fi

# The DKMS package against each kernel's tree (headers; 7.x's prepared
# source), host only.  guest_kernel runs in a subshell: a kernel that
# cannot be fetched fails its own lines only.
t3=$(now)
for k in 6.12 6.1 7.x; do
	mkdir -p "$GUEST_BUILD/$k"
	rm -f "$GUEST_BUILD/$k/tree"
	if ! (guest_kernel "$k" && echo "$KREL $KHEADERS $KMODDIR" > "$GUEST_BUILD/$k/tree") \
		> "$GUEST_BUILD/$k/fetch.log" 2>&1; then
		echo "FAIL dkms (linux $k): the kernel could not be fetched or prepared (see $GUEST_BUILD/$k/fetch.log):"
		tail -n 5 "$GUEST_BUILD/$k/fetch.log" | sed 's/^/    /'
		fail=$((fail + 1))
		continue
	fi
	read -r krel ktree kmods < "$GUEST_BUILD/$k/tree"
	if sh "$top/tests/vm/guest/dkms-build.sh" "$GUEST_BUILD/dkms/$k" \
		"linux $krel" "$ktree" "$krel" "$kmods"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
log "dkms builds in $(elapsed "$t3") s"

# The other guest kernels: one boot each, the same VM as the isolated one
# (obj-max-guest-ranges=16: userptr-dma's fragmented buffer must become
# several device objects)
tests_k=isolation,userptr-dma,leaks,lifetime
for k in 6.1 7.x; do
	if [ ! -f "$GUEST_BUILD/$k/tree" ]; then
		echo "FAIL vm (linux $k): not booted, the kernel could not be fetched or prepared (above)"
		fail=$((fail + 1))
		continue
	fi
	read -r krel _ < "$GUEST_BUILD/$k/tree"
	klog=$GUEST_BUILD/$k/check.log
	rm -f "$klog"
	tb=$(now)
	if ! (guest_kernel "$k" && build_guest) > "$GUEST_BUILD/$k/build.log" 2>&1; then
		echo "FAIL build (linux $krel): the driver or the initramfs did not build (see $GUEST_BUILD/$k/build.log):"
		grep -E 'error|warning' "$GUEST_BUILD/$k/build.log" | head -n 10 | sed 's/^/    /'
		fail=$((fail + 1))
		continue
	fi
	log "linux $k: driver and initramfs built in $(elapsed "$tb") s"
	tk=$(now)
	(guest_kernel "$k" && boot "$klog" ",obj-max-guest-ranges=16" "$tests_k" 300) || true
	wk=$(elapsed "$tk")
	report "$klog" "linux $krel, VM ${wk} s"
	counters "$klog" "linux $krel"
done
echo "check-guest: $pass passed, $fail failed (total $(elapsed "$t0") s)"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
