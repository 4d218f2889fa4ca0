#!/bin/sh
# The check-host rung (docs/devel/amdkfd-mc.rst, Tests): the host backend on a
# real KFD.  Boots Debian's Linux 6.12 under TCG (tests/vm/kernel/) with the
# PATCHED amdgpu.ko and runs, inside that VM, our qemu-system-x86_64 with
# -accel qtest and -device amdkfd-mc,backend=host under the qtest client
# tests/host/akmc-host-qtest.c (no nested guest); then boots the STOCK 6.12
# amdgpu.ko, where the device must refuse to realize (negative control).
#
#   check-host.sh QEMU_BIN [QEMU_BUILD]
#
# Environment: AMDKFD_MC_CACHE (cache root; products in $AMDKFD_MC_CACHE/host),
# VM_TIMEOUT (seconds per VM, default 600), AKMC_BENCH_CYCLES (default 200).
# Prints one line per check and "N passed, N failed"; exits non-zero on
# failure.  Also prints the host-contexts figure (for make bench).
# Logs: $AMDKFD_MC_CACHE/host/out/{patched,stock}-6.12.log
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
kdir=$top/tests/vm/kernel
qemu=${1:?usage: check-host.sh QEMU_BIN [QEMU_BUILD]}
qbuild=${2:-${QEMU_BUILD:-$(dirname "$qemu")}}
export AMDKFD_MC_CACHE=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
hc=$AMDKFD_MC_CACHE/host
out=$hc/out
tmo=${VM_TIMEOUT:-600}
mkdir -p "$out" "$hc/bin"
passed=0 failed=0
T0=$(date +%s)

ok() { echo "PASS check-host: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL check-host: $*"; failed=$((failed + 1)); }
finish() {
	echo "check-host: total $(($(date +%s) - T0)) s wall; logs in $out"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
# body LOG: our program's output in LOG (between the /init markers)
body() {
	tr -d '\r' < "$1" | sed -n '/@@KFD-CONFORMANCE-BEGIN@@/,/@@KFD-CONFORMANCE-END/p'
}
# relay LOG NAME: the VM's check lines, counted here
relay() {
	body "$1" > "$out/$2.body"
	while IFS= read -r l; do
		case $l in
		"PASS "*) ok "$2: ${l#PASS }" ;;
		"FAIL "*) bad "$2: ${l#FAIL }" ;;
		"INFO "*) echo "INFO check-host: $2: ${l#INFO }" ;;
		esac
	done < "$out/$2.body"
}
# run_vm NAME INITRD
run_vm() {
	t0=$(date +%s)
	"$kdir/run-vm.sh" "$qemu" "$vmlinuz" "$2" "$out/$1.log" "$tmo" 2>"$out/$1.err"
	r=$?
	echo "INFO check-host: $1 VM: $(($(date +%s) - t0)) s wall;" \
		"$(tr -d '\r' < "$out/$1.log" | grep -E '^(kfd-vm|akmc-vm):' | tr '\n' ';')"
	return $r
}
warnings() {
	tr -d '\r' < "$1" | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection'
}

[ -x "$qemu" ] || { bad "QEMU binary $qemu not found (QEMU_BIN)"; finish; }
for t in cc make cpio gzip strip ldd python3 timeout; do
	command -v "$t" >/dev/null 2>&1 || { bad "missing host tool $t"; finish; }
done

# --- programs: the qtest client (QEMU's own flags and libqos objects) and
# tests/kfd
t0=$(date +%s)
client=$("$top/scripts/build-qtest-client.sh" "$qbuild" "$hc/bin" "$top/tests/host/akmc-host-qtest.c" 2>"$out/client.log") ||
	{ tail -n 20 "$out/client.log"; bad "tests/host/akmc-host-qtest does not build"; finish; }
make -s -C "$top/tests/kfd" O="$hc/bin" >"$out/conf.log" 2>&1 ||
	{ cat "$out/conf.log"; bad "tests/kfd does not build"; finish; }
conf=$hc/bin/kfd-conformance

# --- kernel, modules and the patched amdgpu.ko (tests/vm/kernel, cached)
"$kdir/fetch-6.12.sh" 2>"$out/fetch.log" ||
	{ tail -n 20 "$out/fetch.log"; bad "cannot fetch Debian's 6.12 packages"; finish; }
KCACHE=$AMDKFD_MC_CACHE/kernel
KV612=$(sed -n 's/^KV612=//p' "$kdir/common.sh")
root612=$KCACHE/6.12/root
mods612=$root612/lib/modules/$KV612
vmlinuz=$root612/boot/vmlinuz-$KV612
ko=$("$kdir/build-amdgpu.sh" 2>"$out/amdgpu.log") ||
	{ tail -n 20 "$out/amdgpu.log"; bad "patched amdgpu.ko does not build"; finish; }

# --- initramfs: mkinitramfs.py's image (busybox, modules, /init running our
# vm-run.sh) + QEMU payload + the mode
"$here/mkpayload.sh" "$hc/payload.cpio.gz" "$qemu" "$client" "$conf" 2>>"$out/initramfs.log" ||
	{ cat "$out/initramfs.log"; bad "cannot pack QEMU for the VM"; finish; }
mode_cpio() {
	d=$(mktemp -d)
	mkdir "$d/akmc"
	echo "$1" > "$d/akmc/mode"
	(cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1
	rm -rf "$d"
}
image() { # NAME [--amdgpu KO]
	name=$1
	shift
	python3 "$kdir/mkinitramfs.py" --moddir "$mods612" \
		--busybox "$root612/bin/busybox" --prog "$here/vm-run.sh" \
		--out "$hc/$name-base.cpio.gz" "$@" 2>>"$out/initramfs.log" || return 1
	{ cat "$hc/$name-base.cpio.gz" "$hc/payload.cpio.gz"; mode_cpio "${name%-6.12}"; } \
		> "$hc/$name.cpio.gz"
}
image patched-6.12 --amdgpu "$ko" && image stock-6.12 ||
	{ cat "$out/initramfs.log"; bad "initramfs"; finish; }
echo "INFO check-host: build and packing $(($(date +%s) - t0)) s wall" \
	"(image $(du -h "$hc/patched-6.12.cpio.gz" | cut -f1))"

# --- patched 6.12: the device on the real KFD
if run_vm patched-6.12 "$hc/patched-6.12.cpio.gz"; then
	relay "$out/patched-6.12.log" patched
	if grep -q '^CONF-RC 0$' "$out/patched.body"; then
		ok "patched: tests/kfd passes in the same VM ($(grep -E '^CONF [0-9]+ passed' "$out/patched.body" | sed 's/^CONF //'))"
	else
		grep '^CONF FAIL' "$out/patched.body" | sed 's/^/  /'
		bad "patched: tests/kfd fails in the same VM"
	fi
	s=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/patched.body" | head -n1)
	if grep -q '@@KFD-CONFORMANCE-END rc=0@@' "$out/patched-6.12.log"; then
		ok "patched: akmc-host-qtest completed ($s)"
	else
		tr -d '\r' < "$out/patched-6.12.log" | grep -iE 'assert|abort|error|Bail' | sed 's/^/  /' | head -20
		bad "patched: akmc-host-qtest did not complete cleanly ($s; log $out/patched-6.12.log)"
	fi
	if warnings "$out/patched-6.12.log" > "$out/patched-6.12.warn"; then
		sed 's/^/  /' "$out/patched-6.12.warn"
		bad "patched: kernel warnings during the run"
	else
		ok "patched: no kernel warnings, oopses or BUGs"
	fi
	grep -E '^(# )?(host-contexts|head-of-line-host|command-throughput-host|event-wake-host|context-scaling-host)' "$out/patched.body" > "$out/host-contexts.txt"
	grep '^CONF INFO timing' "$out/patched.body" | sed 's/^CONF /# host-contexts: tests\/kfd: /' >> "$out/host-contexts.txt"
	cat "$out/host-contexts.txt"
else
	sed 's/^/  /' "$out/patched-6.12.err"
	bad "patched 6.12: VM gave no result (log: $out/patched-6.12.log)"
fi

# --- stock 6.12: negative control (the refusal must be observed)
if run_vm stock-6.12 "$hc/stock-6.12.cpio.gz"; then
	relay "$out/stock-6.12.log" stock
	if grep -q '@@KFD-CONFORMANCE-END rc=0@@' "$out/stock-6.12.log"; then
		ok "stock: negative control observed (backend=host refused on a KFD without CREATE_PROCESS)"
	else
		bad "stock: negative control not observed (log $out/stock-6.12.log)"
	fi
else
	sed 's/^/  /' "$out/stock-6.12.err"
	bad "stock 6.12: VM gave no result (log: $out/stock-6.12.log)"
fi
finish
