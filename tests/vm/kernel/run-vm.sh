#!/bin/sh
# Boot a kernel + initramfs under TCG and capture the serial console.
#
#   run-vm.sh QEMU KERNEL INITRD LOG [TIMEOUT_S]
#
# Exits 0 when the conformance markers were seen (the program's own result
# is parsed by the caller from LOG), 2 on timeout or a missing end marker.
set -eu
qemu=$1 kernel=$2 initrd=$3 log=$4 tmo=${5:-900}
[ -x "$qemu" ] || { echo "run-vm: no QEMU at $qemu" >&2; exit 2; }
# Firmware for x86 machines: qemu-system-data, seabios, ipxe-qemu.
L=
for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
	[ -d "$d" ] && L="$L -L $d"
done
rm -f "$log"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
timeout -k 10 "$tmo" "$qemu" $L -machine q35,accel=tcg -cpu max -smp 1 \
	-m 2048 -display none -no-reboot -nodefaults -net none \
	-serial "file:$log" -kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 nokaslr" || true
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "run-vm: %.1f s wall\n", b - a }' >&2
grep -q '@@KFD-CONFORMANCE-END' "$log" 2>/dev/null || {
	echo "run-vm: no result in $log (timeout ${tmo}s or crash); tail:" >&2
	tail -n 30 "$log" >&2 2>/dev/null || true
	exit 2
}
