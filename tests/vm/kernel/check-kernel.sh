#!/bin/sh
# Verification rung 4 (docs/devel/amdkfd-mc.rst, Tests): kernel-patches/linux-6.12
# series builds, loads into Debian's matching 6.12 kernel, and the tests/kfd
# conformance program passes there; on the stock 6.12 modules (negative
# control) its isolation checks fail. On Debian's Linux 7.x from sid with the
# test-only fake-GPU module, the stock amdgpu (upstream reference) must show
# exactly the known 7.x defects and agree with patched 6.12 on every other
# check, and the amdgpu built with kernel-patches/linux-7.x must pass all of
# them and agree with patched 6.12 on every check.
#
#   check-kernel.sh [--long] QEMU_BIN
#
# --long runs the exhaustion checks instead (kfd-conformance --long: create
# contexts until the kernel refuses), on patched 6.12, stock 7.x (control:
# must fail exhaustion-reuse) and fixed 7.x; one to two and a half hours
# under TCG.
#
# Environment: AMDKFD_MC_CACHE (cache root), SKIP_7X=1 (skip the 7.x runs,
# counted as a failed check), SKIP_STOCK_7X=1 (skip only the stock 7.x
# run, counted as skipped), VM_TIMEOUT (seconds per VM, default 900, 5400
# with --long), KV7 (Debian 7.x kernel, default: the one
# kernel-patches/linux-7.x/DEBIAN-VERSION names).
# Prints one line per check of its own and "N passed, N failed"; exits non-zero
# on failure. Logs: $AMDKFD_MC_CACHE/kernel/out/*.log (--long: out-long/)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
long=0
if [ "${1:-}" = --long ]; then
	long=1
	shift
fi
qemu=${1:?usage: check-kernel.sh [--long] QEMU_BIN}
if [ $long = 1 ]; then
	tmo=${VM_TIMEOUT:-5400}
	out=$KCACHE/out-long
	args=--long
else
	tmo=${VM_TIMEOUT:-900}
	out=$KCACHE/out
	args=
fi
mkdir -p "$out"
passed=0 failed=0 skipped=0
: "${KV7:=$(sed -n 's/^kernel-release: *//p' "$top/kernel-patches/linux-7.x/DEBIAN-VERSION" | sed 's/-amd64$//')}"
export KV7

# The defects of stock Linux 7.x that kernel-patches/linux-7.x fixes: the
# checks that must fail on stock 7.x (the control) and pass once fixed
# (defects7), and checks of a race that stock 7.x may or may not lose in
# one run, so only the fixed 7.x is held to them (racy7).  exit-leader-create
# is one: its result (ESRCH) is right on stock 7.x, but in 2 of the last 5 runs
# stock 7.x printed "Failed to create sysfs entry for the kfd_process" in
# it, after the exec checks had left contexts at the sysfs root and a
# duplicate proc/<pid>; patched 6.12 and the fixed 7.x never did.
if [ $long = 1 ]; then
	defects7="exhaustion-reuse exhaustion-teardown"
	racy7=
else
	defects7="race-churn-sysfs exec-kept-fds exec-kept-primary-create"
	racy7="exec-cloexec exit-leader-create"
fi

ok() { echo "PASS check-kernel: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL check-kernel: $*"; failed=$((failed + 1)); }
finish() {
	echo "check-kernel: logs in $out"
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
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
# status LOG ID: PASS, FAIL or "missing"
status() {
	s=$(results "$1" | awk -v id="$2" '$1 == id { print $2 }' | head -n1)
	echo "${s:-missing}"
}
# warnings NAME: kernel warnings in the log of run NAME (printed by /init)
warnings() {
	tr -d '\r' < "$out/$1.log" |
		grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection' >"$out/$1.warn"
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

# agree NAME [IDS...]: results of run NAME equal patched 6.12's on every
# check but IDS; prints the differences
agree() {
	n=$1
	shift
	results "$out/$n.log" | sort > "$out/$n.results"
	skip=" $* "
	awk -v skip="$skip" 'index(skip, " " $1 " ") == 0' "$out/patched-6.12.results" > "$out/$n.want"
	awk -v skip="$skip" 'index(skip, " " $1 " ") == 0' "$out/$n.results" > "$out/$n.got"
	if [ -s "$out/$n.got" ] && cmp -s "$out/$n.want" "$out/$n.got"; then
		return 0
	fi
	diff "$out/$n.want" "$out/$n.got" | sed 's/^/  /'
	# what each disagreeing check said, and its kernel lines, in both runs
	diff "$out/$n.want" "$out/$n.got" | awk '/^[<>]/ { print $2 }' | sort -u |
		while read -r id; do
			for r in patched-6.12 "$n"; do
				tr -d '\r' < "$out/$r.log" |
					grep -E "^(PASS|FAIL) $id |^INFO $id: " |
					sed "s/^/  $r: /" | cut -c1-400
			done
		done
	return 1
}

[ -x "$qemu" ] || { bad "QEMU binary $qemu not found (QEMU_BIN)"; finish; }
# Host tools (Debian packages): gcc-12 make patch perl python3 cpio
# binutils dpkg, dwarves (pahole), and for the 7.x builds bc flex bison
# libelf-dev libssl-dev.
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
if [ $long = 0 ]; then
	if "$here/checkpatch-series.sh" >"$out/checkpatch.log" 2>&1; then
		ok "6.12 series is checkpatch --strict clean"
	else
		cat "$out/checkpatch.log"
		bad "6.12 series: checkpatch --strict reports problems"
	fi
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
	--prog "$prog" --amdgpu "$ko" --args="$args" --out "$out/patched-6.12.cpio.gz" \
	2>>"$out/initramfs.log" || { bad "initramfs (patched 6.12)"; finish; }
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
	if warnings patched-6.12; then
		sed 's/^/  /' "$out/patched-6.12.warn"
		bad "patched 6.12: kernel warnings during the run"
	else
		ok "patched 6.12: no kernel warnings, oopses or BUGs"
	fi
	results "$out/patched-6.12.log" | sort > "$out/patched-6.12.results"
else
	sed 's/^/  /' "$out/patched-6.12.err"
	bad "patched 6.12: VM gave no result (log: $out/patched-6.12.log)"
	: > "$out/patched-6.12.results"
fi

# --- 6.12 stock: negative control
if [ $long = 0 ]; then
	python3 "$here/mkinitramfs.py" --moddir "$mods612" --busybox "$root612/bin/busybox" \
		--prog "$prog" --out "$out/stock-6.12.cpio.gz" 2>>"$out/initramfs.log" ||
		{ bad "initramfs (stock 6.12)"; finish; }
	if run_vm stock-6.12 "$vmlinuz612" "$out/stock-6.12.cpio.gz"; then
		# The isolation claims that must visibly fail without the series.
		must_fail="create event-set-other event-reset-other event-wait-other
			event-destroy-other event-unchanged event-ids-per-context
			event-page-own sysfs-appears id-reuse refuse-svm refuse-userptr
			refuse-dbg-trap primary-secondary-events foreign-scm-rights"
		missing=
		for id in $must_fail; do
			[ "$(status "$out/stock-6.12.log" "$id")" = FAIL ] || missing="$missing $id"
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
fi

# --- 7.x: stock (upstream reference and control), fixed
if [ "${SKIP_7X:-0}" = 1 ]; then
	bad "7.x runs skipped (SKIP_7X=1)"
	finish
fi
if ! KV7=$("$here/fetch-7.x.sh" 2>"$out/fetch-7.x.log"); then
	cat "$out/fetch-7.x.log"
	bad "7.x: cannot fetch Debian's $KV7 packages from sid"
	finish
fi
if ! tko=$("$here/build-7x-test-module.sh" 2>"$out/build-7.x.log"); then
	tail -n 30 "$out/build-7.x.log"
	bad "7.x: test-only module does not build (log: $out/build-7.x.log)"
	finish
fi
root7=$KCACHE/7.x/$KV7/root
mods7=$(find "$root7" -maxdepth 4 -type d -path "*/modules/$KV7-amd64" | head -n1)
if [ $long = 0 ]; then
	if "$here/checkpatch-series.sh" --7x >"$out/checkpatch-7.x.log" 2>&1; then
		ok "7.x series is checkpatch --strict clean"
	else
		cat "$out/checkpatch-7.x.log"
		bad "7.x series: checkpatch --strict reports problems"
	fi
fi
t0=$(date +%s)
if fko=$("$here/build-amdgpu-7x.sh" 2>"$out/build-fixed-7.x.log"); then
	ok "fixed $KV7 amdgpu.ko built ($(($(date +%s) - t0)) s; $(tail -n1 "$out/build-fixed-7.x.log"))"
else
	tail -n 30 "$out/build-fixed-7.x.log"
	bad "fixed $KV7 amdgpu.ko does not build (log: $out/build-fixed-7.x.log)"
	fko=
fi

# stock 7.x: fails exactly the known defects, agrees on everything else
# (SKIP_STOCK_7X=1 leaves it out, named as skipped: for re-running the
# fixed side alone, as the 18 to 55 minutes of a --long run allow)
if [ "${SKIP_STOCK_7X:-0}" = 1 ]; then
	echo "SKIP check-kernel: stock $KV7 run (the control), SKIP_STOCK_7X=1"
	skipped=$((skipped + 1))
else
	python3 "$here/mkinitramfs.py" --moddir "$mods7" --busybox "$root612/bin/busybox" \
		--prog "$prog" --extra "$tko" --args="$args" --out "$out/stock-7.x.cpio.gz" \
		2>>"$out/initramfs.log" || { bad "initramfs (stock 7.x)"; finish; }
	if run_vm stock-7.x "$KCACHE/7.x/$KV7/vmlinuz" "$out/stock-7.x.cpio.gz"; then
		for id in $defects7; do
			if [ "$(status "$out/stock-7.x.log" "$id")" = FAIL ]; then
				ok "stock $KV7 fails $id (control of a fixed defect)"
			else
				bad "stock $KV7 does not fail $id: $(status "$out/stock-7.x.log" "$id") (control)"
			fi
		done
		s=$(summary "$out/stock-7.x.log")
		for id in $racy7; do
			echo "INFO check-kernel: stock $KV7 $id: $(status "$out/stock-7.x.log" "$id") (a race; not compared)"
		done
		# shellcheck disable=SC2086
		if agree stock-7.x $defects7 $racy7; then
			ok "stock $KV7 and patched 6.12 agree on the other $(wc -l < "$out/stock-7.x.got") checks (7.x: $s)"
		else
			bad "stock $KV7 and patched 6.12 disagree (7.x: $s)"
		fi
	else
		sed 's/^/  /' "$out/stock-7.x.err"
		bad "stock 7.x: VM gave no result (log: $out/stock-7.x.log)"
	fi
fi

# fixed 7.x: passes everything, agrees with patched 6.12 on every check
[ -n "$fko" ] || finish
python3 "$here/mkinitramfs.py" --moddir "$mods7" --busybox "$root612/bin/busybox" \
	--prog "$prog" --amdgpu "$fko" --extra "$tko" --args="$args" \
	--out "$out/fixed-7.x.cpio.gz" 2>>"$out/initramfs.log" ||
	{ bad "initramfs (fixed 7.x)"; finish; }
if run_vm fixed-7.x "$KCACHE/7.x/$KV7/vmlinuz" "$out/fixed-7.x.cpio.gz"; then
	for id in $defects7; do
		if [ "$(status "$out/fixed-7.x.log" "$id")" = PASS ]; then
			ok "fixed $KV7 passes $id"
		else
			bad "fixed $KV7 does not pass $id: $(status "$out/fixed-7.x.log" "$id")"
		fi
	done
	s=$(summary "$out/fixed-7.x.log")
	if agree fixed-7.x; then
		ok "fixed $KV7 and patched 6.12 agree on all $(wc -l < "$out/fixed-7.x.got") checks (7.x: $s)"
	else
		bad "fixed $KV7 and patched 6.12 disagree (7.x: $s)"
	fi
	if warnings fixed-7.x; then
		sed 's/^/  /' "$out/fixed-7.x.warn"
		bad "fixed $KV7: kernel warnings during the run"
	else
		ok "fixed $KV7: no kernel warnings, oopses or BUGs"
	fi
else
	sed 's/^/  /' "$out/fixed-7.x.err"
	bad "fixed 7.x: VM gave no result (log: $out/fixed-7.x.log)"
fi
finish
