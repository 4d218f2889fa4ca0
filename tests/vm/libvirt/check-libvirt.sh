#!/bin/sh
# make check-libvirt: boot the documented libvirt domain
# (docs/system/devices/amdkfd-mc-libvirt.xml) through libvirt with our QEMU
# and run the guest isolation test in it.
#
#   install      Debian's libvirt (install.sh)
#   xml-validate the documented and the generated domain pass libvirt's
#                schema (virt-xml-validate FILE domain); the generated one
#                differs only in its paths
#   probe        libvirt probes our QEMU over QMP (virsh domcapabilities
#                on the embedded driver)
#   boot         virt-qemu-run starts the domain (no libvirtd), the guest
#                powers off at the end of its tests and libvirt records
#                "shutting down, reason=shutdown"
#   isolation    @@AKMC-RESULT isolation PASS on the serial console
#   taint        libvirt reports the domain tainted "custom-argv"
#                (the <qemu:commandline> passthrough)
# Prints one line per check and "N passed, N failed"; exits non-zero on
# failure.  Products and logs: build/libvirt/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# The guest build (kernel path, initramfs, build_guest) of make check-guest.
# shellcheck source-path=SCRIPTDIR source=../guest/common.sh
. "$here/../guest/common.sh"

DOC=$top/docs/system/devices/amdkfd-mc-libvirt.xml
OUT=${LIBVIRT_BUILD:-$top/build/libvirt}
ROOT=$OUT/root
TMO=${AKMC_LIBVIRT_TIMEOUT:-300}
NAME=amdkfd-mc
XML=$OUT/domain.xml
SERIAL=$OUT/serial.log
DOMLOG=$ROOT/log/qemu/$NAME.log
RUNLOG=$OUT/virt-qemu-run.log

pass=0 fail=0
result() { # result PASS|FAIL NAME TEXT
	echo "$1 $2: $3"
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}
finish() {
	echo "check-libvirt: $pass passed, $fail failed (total $(elapsed "$t0") s)"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
	exit
}

t0=$(now)
sh "$here/install.sh" || {
	result FAIL install "libvirt is not installed (see above)"
	finish
}
log "libvirt $(virsh --version), QEMU: $QEMU_BIN"
[ -x "$QEMU_BIN" ] || die "no QEMU at $QEMU_BIN (make qemu)"
QEMU_BIN=$(readlink -f "$QEMU_BIN")
t=$(now)
build_guest
log "guest kernel and initramfs ready in $(elapsed "$t") s"

mkdir -p "$OUT" "$ROOT/etc"
# QEMU runs as libvirt-qemu (qemu.conf) and cannot enter /root, where the
# kernel cache usually is: boot a world-readable copy.
KCOPY=$OUT/vmlinuz
cmp -s "$KERNEL" "$KCOPY" 2>/dev/null || cp -f "$KERNEL" "$KCOPY"
chmod 0644 "$KCOPY"
chmod 0755 "$OUT"
if [ "$(id -u)" -eq 0 ]; then
	cp -f "$here/qemu.conf" "$ROOT/etc/qemu.conf"
else
	# unprivileged embedded driver: QEMU runs as the caller
	grep -v -E '^(user|group) ' "$here/qemu.conf" > "$ROOT/etc/qemu.conf"
fi

# --- the domain of this run: the documented one, paths substituted -------
for p in "$QEMU_BIN" "$KCOPY" "$INITRD" "$SERIAL"; do
	case $p in *[\&\<\>\'\"\|\\]*) die "path not usable in the domain XML: $p" ;; esac
done
sed -e "s|<emulator>[^<]*</emulator>|<emulator>$QEMU_BIN</emulator>|" \
	-e "s|<kernel>[^<]*</kernel>|<kernel>$KCOPY</kernel>|" \
	-e "s|<initrd>[^<]*</initrd>|<initrd>$INITRD</initrd>|" \
	-e "s|<source path='[^']*'/>|<source path='$SERIAL'/>|" \
	"$DOC" > "$XML"
# Only path lines may differ (emulator, kernel, initrd, serial and console
# source): 5 lines, and nothing else.
changed=$(diff "$DOC" "$XML" | grep -c '^>' || true)
other=$(diff "$DOC" "$XML" | grep '^>' |
	grep -v -E "<(emulator|kernel|initrd)>|<source path=" || true)
msg=""
virt-xml-validate "$DOC" domain > "$OUT/validate.log" 2>&1 ||
	msg="$msg documented XML invalid;"
virt-xml-validate "$XML" domain >> "$OUT/validate.log" 2>&1 ||
	msg="$msg generated XML invalid;"
[ "$changed" -eq 5 ] && [ -z "$other" ] ||
	msg="$msg generated XML differs beyond its 5 path lines ($changed changed);"
if [ -z "$msg" ]; then
	result PASS xml-validate "$(basename "$DOC") and $XML valid (domain schema, libvirt $(virsh --version)); 5 path lines substituted"
else
	result FAIL xml-validate "$msg see $OUT/validate.log"
	sed 's/^/    /' "$OUT/validate.log"
fi

# --- libvirt probes our QEMU (QMP capabilities, cached under ROOT) ---------
t=$(now)
uri="qemu:///embed?root=$ROOT"
if virsh -q -c "$uri" domcapabilities --emulatorbin "$QEMU_BIN" \
	--arch x86_64 --virttype qemu --machine q35 \
	> "$OUT/domcapabilities.xml" 2> "$OUT/domcapabilities.err" &&
	grep -q "<path>$QEMU_BIN</path>" "$OUT/domcapabilities.xml" &&
	grep -q '<machine>pc-q35-' "$OUT/domcapabilities.xml"; then
	m=$(sed -n 's/.*<machine>\(.*\)<\/machine>.*/\1/p' "$OUT/domcapabilities.xml")
	result PASS probe "libvirt probed $QEMU_BIN over QMP: machine $m, TCG ($(elapsed "$t") s)"
else
	result FAIL probe "virsh domcapabilities on our QEMU failed; see $OUT/domcapabilities.err:"
	tail -n 5 "$OUT/domcapabilities.err" | sed 's/^/    /'
fi

# --- boot through virt-qemu-run -----------------------------------------
# virt-qemu-run (libvirt 9.0) runs the domain in the foreground but does
# not return when the domain stops by itself: its event-loop thread stays in
# poll() after the STOPPED event.  So we watch libvirt's domain log for the
# stop ("shutting down, reason=...") and then send it SIGTERM, on which it
# destroys the (already stopped) domain and exits 0.
rm -f "$SERIAL" "$DOMLOG" "$RUNLOG"
t=$(now)
virt-qemu-run -v -r "$ROOT" "$XML" > "$RUNLOG" 2>&1 &
vqr=$!
trap 'kill -TERM $vqr 2>/dev/null' INT TERM HUP
timed_out=0 exited=0
while :; do
	if grep -q 'shutting down, reason=' "$DOMLOG" 2>/dev/null &&
		[ ! -e "$ROOT/run/qemu/$NAME.pid" ]; then
		break
	fi
	if ! kill -0 $vqr 2>/dev/null; then
		exited=1
		break
	fi
	if [ "$(awk -v a="$t" -v b="$(now)" -v m="$TMO" 'BEGIN { print (b - a > m) }')" = 1 ]; then
		timed_out=1
		break
	fi
	sleep 0.2
done
[ "$exited" -eq 1 ] || kill -TERM $vqr 2>/dev/null || true
i=0
while kill -0 $vqr 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $vqr 2>/dev/null; then
	kill -KILL $vqr 2>/dev/null || true
fi
vrc=0
wait $vqr || vrc=$?
trap - INT TERM HUP
wall=$(elapsed "$t")
# a QEMU left behind (only after a timeout or a libvirt failure)
qpid=$(cat "$ROOT/run/qemu/$NAME.pid" 2>/dev/null || true)
if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
	kill -KILL "$qpid" 2>/dev/null || true
	left="; QEMU (pid $qpid) was still running and was killed"
else
	left=""
fi
started=$(grep -c 'guest running' "$RUNLOG" || true)
reason=$(sed -n 's/.*shutting down, reason=\([a-z]*\).*/\1/p' "$DOMLOG" 2>/dev/null | tail -n 1)
end=$(grep -c '^@@AKMC-END' "$SERIAL" 2>/dev/null || true)
if [ "$started" -gt 0 ] && [ "$reason" = shutdown ] && [ "$end" -gt 0 ] &&
	[ "$timed_out" -eq 0 ] && [ "$vrc" -eq 0 ] && [ -z "$left" ]; then
	up=$(sed -n 's/^@@AKMC-END up=\([0-9.]*\).*/\1/p' "$SERIAL" | tr -d '\r')
	result PASS boot "virt-qemu-run started the domain, the guest powered off (libvirt: reason=shutdown) after ${up:-?} s of guest time; ${wall} s wall"
else
	why="started=$started reason=${reason:-none} @@AKMC-END=$end rc=$vrc"
	[ "$timed_out" -eq 0 ] || why="$why, timed out after $TMO s"
	result FAIL boot "$why$left; logs: $RUNLOG $DOMLOG $SERIAL"
	for f in "$RUNLOG" "$DOMLOG" "$SERIAL"; do
		[ -f "$f" ] && tail -n 6 "$f" | tr -d '\r' | sed 's/^/    /'
	done
fi

# --- the guest's isolation test ---------------------------------------------
if [ -f "$SERIAL" ]; then
	tr -d '\r' < "$SERIAL" > "$OUT/serial.txt"
else
	: > "$OUT/serial.txt"
fi
iso=$(grep '^@@AKMC-RESULT isolation ' "$OUT/serial.txt" | tail -n 1)
bad=$(grep '^@@AKMC-RESULT [^ ]* FAIL' "$OUT/serial.txt" || true)
case $iso in
"@@AKMC-RESULT isolation PASS"*)
	if [ -z "$bad" ]; then
		result PASS isolation "guest test isolation: ${iso#@@AKMC-RESULT isolation }"
	else
		result FAIL isolation "isolation passed but: $bad"
	fi
	;;
*)
	result FAIL isolation "no isolation PASS on the serial console (${iso:-no result}); see $SERIAL"
	sed -n '/^@@AKMC-BEGIN/,/^@@AKMC-END/p' "$OUT/serial.txt" | grep -v '^@@' |
		tail -n 20 | sed 's/^/    /'
	;;
esac

# --- libvirt's taint report ----------------------------------------------------
taints=$(sed -n 's/.*is tainted: \([a-z-]*\).*/\1/p' "$DOMLOG" 2>/dev/null | sort -u | tr '\n' ' ')
case " $taints " in
*" custom-argv "*)
	result PASS taint "libvirt reports the domain tainted: ${taints% } (qemu:commandline passthrough)" ;;
*)
	result FAIL taint "libvirt did not report custom-argv (taints: ${taints:-none}); see $DOMLOG" ;;
esac
finish
