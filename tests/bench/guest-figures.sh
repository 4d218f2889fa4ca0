#!/bin/sh
# The figures measured in a guest: boot Debian's 6.12 kernel under TCG with
# our QEMU, -device amdkfd-mc,backend=sim and the guest driver, and run, in
# one boot, kfd-bench-window (window-bandwidth) and kfd-bench-programs
# (guest-programs-throughput and -fairness) in the guest (see
# tests/vm/guest/README.md for the VM).  Prints the programs' figures and
# detail lines.  Everything built goes to $BENCH_BUILD/guest (default
# build/bench/guest); the boot log is $BENCH_BUILD/guest/guest.log.
#
# Reuses the guest VM parts of tests/vm/guest (the kernel fetch, the
# driver's Makefile, mkinitramfs.sh and init.sh) without changing them.
#
# Environment: QEMU_BIN, AMDKFD_MC_CACHE, BENCH_WINDOW_MIB (default 32),
# BENCH_WINDOW_REPS (default 11), BENCH_PROGRAMS_SECONDS (default 3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
AMDKFD_MC_CACHE=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
export AMDKFD_MC_CACHE
QEMU_BIN=${QEMU_BIN:-$top/build/qemu/qemu-system-x86_64}
BENCH_BUILD=${BENCH_BUILD:-$top/build/bench}
out=$BENCH_BUILD/guest
mib=${BENCH_WINDOW_MIB:-32}
reps=${BENCH_WINDOW_REPS:-11}
secs=${BENCH_PROGRAMS_SECONDS:-3}
figures="window-bandwidth guest-programs-throughput guest-programs-fairness"

unavailable() {
	for f in $figures; do
		echo "$f: unavailable ($*)"
	done
	exit 1
}

# The same kernel as the guest end-to-end tests
KV=$(sed -n 's/^KV=//p' "$top/tests/vm/guest/common.sh")
KCACHE=$AMDKFD_MC_CACHE/kernel
KERNEL=$KCACHE/6.12/root/boot/vmlinuz-$KV
KHEADERS=$KCACHE/6.12/headers
BUSYBOX=$KCACHE/6.12/root/bin/busybox
if [ ! -f "$KERNEL" ] || [ ! -d "$KHEADERS" ] || [ ! -x "$BUSYBOX" ]; then
	"$top/tests/vm/kernel/fetch-6.12.sh" >&2 ||
		unavailable "cannot fetch Debian's 6.12 kernel packages"
fi
[ -x "$QEMU_BIN" ] || unavailable "no QEMU at $QEMU_BIN"

mkdir -p "$out/tests"
make -s -C "$top/guest/linux" KDIR="$KHEADERS" O_DIR="$out/module" >&2 ||
	unavailable "guest driver build failed"
for name in kfd-bench-window kfd-bench-programs; do
	prog=$out/tests/$name
	src=$here/guest/$name.c
	if [ ! -x "$prog" ] || [ "$src" -nt "$prog" ] ||
		[ "$top/tests/guest/kfdt.h" -nt "$prog" ]; then
		gcc -O2 -Wall -static -I"$top/tests/guest" -I"$top/include" \
			-I"$top/hw/misc/amdkfd-mc/sim" -I/usr/include/libdrm \
			-o "$prog" "$src" -lm >&2 || unavailable "$name build failed"
	fi
done
cat > "$out/tests/run-bench-window.sh" <<EOF
#!/bin/sh
kfd-bench-window $mib $reps
EOF
cat > "$out/tests/run-bench-programs.sh" <<EOF
#!/bin/sh
kfd-bench-programs $secs
EOF
chmod 755 "$out/tests/run-bench-window.sh" "$out/tests/run-bench-programs.sh"
initrd=$out/initramfs.cpio.gz
"$top/tests/vm/guest/mkinitramfs.sh" "$initrd" "$BUSYBOX" \
	"$out/module/amdgpu.ko" "$out/tests" >&2 ||
	unavailable "initramfs build failed"

L=
for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
	[ -d "$d" ] && L="$L -L $d"
done
log=$out/guest.log
# shellcheck disable=SC2086
timeout -k 10 300 "$QEMU_BIN" $L -machine q35 -accel tcg,thread=multi -cpu max \
	-smp 2 -m 1024 -nographic -nodefaults -serial stdio -no-reboot \
	-net none -device amdkfd-mc,backend=sim \
	-kernel "$KERNEL" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 quiet akmc.run=bench-window,bench-programs" \
	< /dev/null > "$log" 2>&1 || true
lines=$(tr -d '\r' < "$log" | grep -E "^(# )?($(echo $figures | tr ' ' '|')):" || true)
echo "$lines"
rc=0
for f in $figures; do
	echo "$lines" | grep -q "^$f: [0-9]" && continue
	echo "$f: unavailable (the guest program printed no figure; see $log)"
	rc=1
done
exit $rc
