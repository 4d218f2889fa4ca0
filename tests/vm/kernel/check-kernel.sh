#!/bin/sh
# Verification rung 4 (ARCHITECTURE.md section 4): the kernel-patches/linux-6.12
# series builds, loads into Debian's matching 6.12 kernel, and the tests/kfd
# conformance program passes there; on the stock 6.12 modules (negative
# control) its isolation checks fail; on Debian's Linux 7.x from sid with the
# test-only fake-GPU module (upstream reference) every check agrees with the
# patched 6.12.
#
#   check-kernel.sh QEMU_BIN
#
# Environment: AMDKFD_MC_CACHE (cache root), SKIP_7X=1 (skip the reference,
# counted as a failed check), VM_TIMEOUT (seconds per VM, default 900).
# Prints one line per check of its own and "N passed, N failed"; exits non-zero
# on failure. Logs: $AMDKFD_MC_CACHE/kernel/out/*.log
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
qemu=${1:?usage: check-kernel.sh QEMU_BIN}
tmo=${VM_TIMEOUT:-900}
out=$KCACHE/out
mkdir -p "$out"
passed=0 failed=0

ok() { echo "PASS check-kernel: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL check-kernel: $*"; failed=$((failed + 1)); }
finish() {
	echo "check-kernel: logs in $out"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# results LOG: "id STATUS" lines of the conformance run in LOG
results() {
	sed -n '/@@KFD-CONFORMANCE-BEGIN@@/,/@@KFD-CONFORMANCE-END/p' "$1" |
		tr -d '\r' | awk '$1 == "PASS" || $1 == "FAIL" { print $2, $1 }'
}
summary() {
	sed -n '/@@KFD-CONFORMANCE-BEGIN@@/,/@@KFD-CONFORMANCE-END/p' "$1" |
		tr -d '\r' | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n1
}
timing() {
	tr -d '\r' < "$1" | awk '
		/kfd-vm: modules loaded, up/ { sub("s", "", $5); l = $5 }
		/kfd-vm: done, up/ { sub("s", "", $4); d = $4 }
		END { if (l != "") printf "boot to modules loaded %.1f s, to result %.1f s (guest clock)", l, d }'
}

# run_vm NAME KERNEL INITRD: boots, leaves $out/NAME.log, prints timings
run_vm() {
	t0=$(date +%s)
	rm -f "$out/$1.log" "$out/$1.err"
	"$here/run-vm.sh" "$qemu" "$2" "$3" "$out/$1.log" "$tmo" 2>"$out/$1.err"
	r=$?
	echo "INFO check-kernel: $1 VM: $(($(date +%s) - t0)) s wall; $(timing "$out/$1.log")"
	grep -h '^INFO timing' "$out/$1.log" 2>/dev/null | tr -d '\r' | sed "s/^/INFO $1: /"
	return $r
}

[ -x "$qemu" ] || { bad "QEMU binary $qemu not found (QEMU_BIN)"; finish; }
# Host tools (Debian packages): gcc-12 make patch perl python3 cpio
# binutils dpkg, dwarves (pahole), and for the 7.x reference module bc flex
# bison libelf-dev libssl-dev.
need=
for t in gcc-12 make patch perl python3 cpio strip dpkg-deb pahole timeout; do
	command -v "$t" >/dev/null 2>&1 || need="$need $t"
done
[ -z "$need" ] || { bad "missing host tools:$need"; finish; }

# --- the conformance program
make -s -C "$top/tests/kfd" O="$out" >"$out/prog.log" 2>&1 ||
	{ cat "$out/prog.log"; bad "tests/kfd does not build"; finish; }
prog=$out/kfd-conformance

# --- 6.12: fetch, checkpatch, build
"$here/fetch-6.12.sh" || { bad "cannot fetch Debian's 6.12 packages"; finish; }
root612=$KCACHE/6.12/root
mods612=$root612/lib/modules/$KV612
vmlinuz612=$root612/boot/vmlinuz-$KV612
if "$here/checkpatch-series.sh" >"$out/checkpatch.log" 2>&1; then
	ok "series is checkpatch --strict clean"
else
	cat "$out/checkpatch.log"
	bad "checkpatch --strict reports problems"
fi
t0=$(date +%s)
if ko=$("$here/build-amdgpu.sh" 2>"$out/build.log"); then
	ok "patched amdgpu.ko built ($(($(date +%s) - t0)) s; $(tail -n1 "$out/build.log"))"
else
	tail -n 30 "$out/build.log"
	bad "patched amdgpu.ko does not build (log: $out/build.log)"
	finish
fi

# --- 6.12 patched
python3 "$here/mkinitramfs.py" --moddir "$mods612" --busybox "$root612/bin/busybox" \
	--prog "$prog" --amdgpu "$ko" --out "$out/patched-6.12.cpio.gz" 2>>"$out/initramfs.log" ||
	{ bad "initramfs (patched 6.12)"; finish; }
if run_vm patched-6.12 "$vmlinuz612" "$out/patched-6.12.cpio.gz"; then
	s=$(summary "$out/patched-6.12.log")
	if grep -q '@@KFD-CONFORMANCE-END rc=0@@' "$out/patched-6.12.log" &&
		[ "$(results "$out/patched-6.12.log" | grep -c ' PASS')" -gt 0 ]; then
		ok "patched 6.12: conformance passes ($s)"
	else
		results "$out/patched-6.12.log" | grep ' FAIL' | sed 's/^/  /'
		bad "patched 6.12: conformance fails ($s)"
	fi
	# /init prints the kernel's warnings after the run
	if tr -d '\r' < "$out/patched-6.12.log" |
		grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection' >"$out/patched-6.12.warn"; then
		sed 's/^/  /' "$out/patched-6.12.warn"
		bad "patched 6.12: kernel warnings during the run"
	else
		ok "patched 6.12: no kernel warnings, oopses or BUGs"
	fi
else
	sed 's/^/  /' "$out/patched-6.12.err"
	bad "patched 6.12: VM gave no result (log: $out/patched-6.12.log)"
fi

# --- 6.12 stock: negative control
python3 "$here/mkinitramfs.py" --moddir "$mods612" --busybox "$root612/bin/busybox" \
	--prog "$prog" --out "$out/stock-6.12.cpio.gz" 2>>"$out/initramfs.log" ||
	{ bad "initramfs (stock 6.12)"; finish; }
if run_vm stock-6.12 "$vmlinuz612" "$out/stock-6.12.cpio.gz"; then
	# The isolation claims that must visibly fail without the series.
	must_fail="create event-set-other event-reset-other event-wait-other
		event-destroy-other event-unchanged event-ids-per-context
		event-page-own sysfs-appears id-reuse refuse-svm refuse-userptr
		refuse-dbg-trap"
	missing=
	for id in $must_fail; do
		results "$out/stock-6.12.log" | grep -qx "$id FAIL" || missing="$missing $id"
	done
	s=$(summary "$out/stock-6.12.log")
	if [ -z "$missing" ] && ! grep -q '@@KFD-CONFORMANCE-END rc=0@@' "$out/stock-6.12.log"; then
		ok "stock 6.12 (negative control) failed as expected ($s)"
	else
		bad "stock 6.12 (negative control) did not fail:$missing ($s)"
	fi
else
	sed 's/^/  /' "$out/stock-6.12.err"
	bad "stock 6.12: VM gave no result (log: $out/stock-6.12.log)"
fi

# --- 7.x reference
if [ "${SKIP_7X:-0}" = 1 ]; then
	bad "7.x reference skipped (SKIP_7X=1)"
	finish
fi
if ! KV7=$("$here/fetch-7.x.sh" 2>"$out/fetch-7.x.log"); then
	cat "$out/fetch-7.x.log"
	bad "7.x reference: cannot fetch Debian's 7.x packages from sid"
	finish
fi
if ! tko=$("$here/build-7x-test-module.sh" 2>"$out/build-7.x.log"); then
	tail -n 30 "$out/build-7.x.log"
	bad "7.x reference: test-only module does not build (log: $out/build-7.x.log)"
	finish
fi
root7=$KCACHE/7.x/$KV7/root
mods7=$(find "$root7" -maxdepth 4 -type d -path "*/modules/$KV7-amd64" | head -n1)
python3 "$here/mkinitramfs.py" --moddir "$mods7" --busybox "$root612/bin/busybox" \
	--prog "$prog" --extra "$tko" --out "$out/ref-7.x.cpio.gz" 2>>"$out/initramfs.log" ||
	{ bad "initramfs (7.x reference)"; finish; }
if run_vm ref-7.x "$KCACHE/7.x/$KV7/vmlinuz" "$out/ref-7.x.cpio.gz"; then
	results "$out/patched-6.12.log" | sort > "$out/patched-6.12.results"
	results "$out/ref-7.x.log" | sort > "$out/ref-7.x.results"
	s=$(summary "$out/ref-7.x.log")
	if [ -s "$out/ref-7.x.results" ] &&
		cmp -s "$out/patched-6.12.results" "$out/ref-7.x.results"; then
		ok "patched 6.12 and $KV7 agree on all $(wc -l < "$out/ref-7.x.results") checks (7.x: $s)"
	else
		diff "$out/patched-6.12.results" "$out/ref-7.x.results" | sed 's/^/  /'
		bad "patched 6.12 and $KV7 disagree (7.x: $s)"
	fi
else
	sed 's/^/  /' "$out/ref-7.x.err"
	bad "7.x reference: VM gave no result (log: $out/ref-7.x.log)"
fi
finish
