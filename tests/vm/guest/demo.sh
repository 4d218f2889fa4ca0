#!/bin/sh
# make demo: boot the guest (sim backend) and run three guest programs on
# Debian's unmodified ROCm (bookworm's ROCr 5.2.3): alice and bob keep a
# secret in device memory, mallory tries to read both through GPU DMA
# (ROCr's SDMA copy).  First with isolated contexts (ROCr reports the GPU
# memory fault to mallory), then with legacy-shared=on, which behaves like
# a pre-7.0 host kernel (one KFD process for the whole VM): there the
# attack reads the secrets.  The guest image is check-rocm's
# (tests/vm/rocm).
set -eu
. "$(dirname "$0")/../rocm/common.sh"

t0=$(now)
build_rocm
fail=0
for mode in isolated legacy; do
	opts=
	[ "$mode" = legacy ] && opts=",legacy-shared=on"
	log=$GUEST_BUILD/demo-$mode.log
	echo
	echo "=== -device amdkfd-mc,backend=sim$opts ==="
	t1=$(now)
	if ! rocm_boot "$log" "$opts" demo 300; then
		echo "demo: the VM did not finish; see $log"
		fail=1
		continue
	fi
	tr -d '\r' < "$log" | sed -n 's/^rocm: //p' | sed 's/^/  /'
	res=$(tr -d '\r' < "$log" | sed -n 's/^demo: RESULT //p')
	echo "  => $res   (VM boot to result: $(elapsed "$t1") s)"
	case "$mode:$res" in
	isolated:"attack faulted"*) ;;
	legacy:*STOLEN*) ;;
	*) echo "  (unexpected for $mode mode)"; fail=1 ;;
	esac
done
echo
if [ "$fail" -eq 0 ]; then
	echo "demo: each ROCm program got its own host KFD context and mallory's SDMA copy"
	echo "demo: faulted (ROCr reported it to mallory); with one shared context"
	echo "demo: (legacy-shared=on) the same unmodified-ROCr program read both secrets."
fi
echo "demo: done in $(elapsed "$t0") s"
exit "$fail"
