#!/bin/sh
# make check-rocm: Debian's unmodified ROCm user space in the TCG guest of
# check-guest (Debian's 6.12 kernel, the guest driver, -device
# amdkfd-mc,backend=sim), from two Debian roots in the initramfs:
#   rocminfo-bookworm   bookworm's rocminfo 5.2.3 (ROCr and libhsakmt 5.2.3)
#   rocminfo-sid        sid's rocminfo 7.x on sid's ROCr 6.4.x, its own
#                       libraries and loader
#                       (both: exit 0, empty stderr, the GPU agent with
#                       name, marketing name, compute units, caches, pools
#                       and ISA)
#   hsa-isolation       alice and bob keep secrets in device memory, mallory
#                       (HSA, unmodified ROCr 5.2.3) copies from their
#                       addresses by SDMA behind AQL barrier packets: ROCr
#                       reports the GPU memory fault to mallory, nothing is
#                       read, both secrets intact
#   hsa-rocr-abort      the same without a handler of mallory's: ROCr's
#                       own fault message for each target's page, abort()
#   hip                 bookworm's HIP 5.2.3: device count, properties,
#                       malloc, free, and hipMemcpy to the device and back
#                       with the data intact (HIP's null stream runs
#                       ROCclr's copyBuffer blit kernel on the sim's shader
#                       interpreter and a PM4 ACQUIRE_MEM vendor packet)
#   hsa-kernel          an HSA program (unmodified ROCr 5.2.3) loads a
#                       gfx906 code object v4 (tests/rocm/hsa-kernels.s)
#                       and dispatches its kernels by AQL: "store" writes
#                       id*3+7 to all 4096 elements, "illegal" (a MUBUF
#                       load) stops its queue and ROCr reports it through
#                       the queue's error callback
#   rocm-leaks          the driver holds nothing afterwards (no file,
#                       mapping, request or pinned page)
#   rocm-device-counters  (host side, each boot) the device's QOM counters
#                       over QMP: guest memory was used, nothing is left
#   hsa-isolation-legacy  (second boot, legacy-shared=on) the same attack
#                       reads both secrets
# Prints one line per test, then "check-rocm: N passed, N failed"; exits
# non-zero on any failure.  Logs: build/rocm/*.log; each rocminfo's full
# output: build/rocm/rocminfo-*.txt.
set -eu
. "$(dirname "$0")/common.sh"

t0=$(now)
build_rocm
log "built in $(elapsed "$t0") s"
pass=0 fail=0

# report LOG LABEL: one line per guest test result in LOG
report() {
	rlog=$1 label=$2
	rocm_outputs "$rlog"
	grep '^@@AKMC-RESULT' "$rlog" | tr -d '\r' | while read -r _ name res rc t up; do
		echo "$res $name ($label): ${t#t=} s in the guest, $rc"
	done
	n_ok=$(grep -c '^@@AKMC-RESULT [^ ]* PASS' "$rlog" || true)
	n_bad=$(grep -c '^@@AKMC-RESULT [^ ]* FAIL' "$rlog" || true)
	pass=$((pass + n_ok))
	fail=$((fail + n_bad))
	# What each test printed, indented (the summaries of the tools)
	tr -d '\r' < "$rlog" | awk '
		/^@@ROCM-OUT-BEGIN/ { skip = 1; next } /^@@ROCM-OUT-END/ { skip = 0; next }
		/^@@AKMC-BEGIN/ { on = 1; next } /^@@AKMC-RESULT/ { on = 0; next }
		/^@@AKMC-END/ { exit } on && !skip { print "    " $0 }'
	if ! grep -q '^@@AKMC-END' "$rlog"; then
		echo "FAIL vm ($label): the VM did not finish (QEMU crash, guest hang or timeout; see $rlog):"
		tail -n 12 "$rlog" | tr -d '\r' | sed 's/^/    /'
		fail=$((fail + 1))
	fi
}

# counters LOG LABEL: the device's QOM counters that tests/vm/guest's boot()
# read over QMP while the guest ran: ROCm's system memory was guest memory
# (max > 0), and once the programs exited the device holds no context,
# object or guest memory
counters() {
	cfile=${1%.log}.counters
	gm=$(sed -n 's/^guest-memory-bytes //p' "$cfile" 2>/dev/null)
	lo=$(sed -n 's/^live-objects //p' "$cfile" 2>/dev/null)
	lc=$(sed -n 's/^live-contexts //p' "$cfile" 2>/dev/null)
	case "$gm:$lo:$lc" in
	::) res=FAIL why="no counters were read over QMP" ;;
	max=0\ *) res=FAIL why="ROCm used no guest memory" ;;
	*final=0:*final=0:*final=0) res=PASS why="nothing left after the ROCm programs" ;;
	*) res=FAIL why="left behind after the ROCm programs exited" ;;
	esac
	echo "$res rocm-device-counters ($2): guest-memory-bytes $gm, live-objects $lo, live-contexts $lc: $why"
	if [ "$res" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

t1=$(now)
rocm_boot "$ROCM_BUILD/check-isolated.log" "" \
	rocminfo-bookworm,rocminfo-sid,hsa-isolation,hsa-rocr-abort,hip,hsa-kernel,rocm-leaks \
	900 || true
report "$ROCM_BUILD/check-isolated.log" "isolated, VM $(elapsed "$t1") s"
counters "$ROCM_BUILD/check-isolated.log" isolated
t2=$(now)
rocm_boot "$ROCM_BUILD/check-legacy.log" ",legacy-shared=on" \
	hsa-isolation-legacy,rocm-leaks 600 || true
report "$ROCM_BUILD/check-legacy.log" "legacy-shared=on, VM $(elapsed "$t2") s"
counters "$ROCM_BUILD/check-legacy.log" legacy-shared=on
echo "check-rocm: $pass passed, $fail failed (total $(elapsed "$t0") s)"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
