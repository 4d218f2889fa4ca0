#!/bin/sh
# The guest driver's DKMS package, added, built and installed by Debian's
# dkms for one kernel, in private trees so that nothing reaches the
# system (no /usr/src, /var/lib/dkms or /lib/modules file, no depmod, no
# signing key):
#
#   dkms-build.sh WORK LABEL KSRC KREL KMODDIR
#
# WORK is emptied and holds the trees and the log (WORK/dkms.log); KSRC is
# the kernel tree dkms builds against (--kernelsourcedir: a headers
# package, or 7.x's prepared source), KREL its release, KMODDIR the
# kernel's own modules: its amdgpu goes to the private install tree, so
# that dkms's version check meets it as on a guest with that kernel
# installed.  It runs `make -C guest/linux dkms-install` (which lays the
# package out and runs dkms add and install) with DKMS pointing dkms at
# those trees and at KSRC.  Prints one PASS or FAIL line (LABEL names
# the kernel in it) and exits non-zero on FAIL.
set -eu
work=$1 label=$2 ksrc=$3 krel=$4 kmoddir=$5
top=$(cd "$(dirname "$0")/../../.." && pwd)
conf=$top/guest/linux/dkms.conf
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$conf")
t0=$(date +%s.%N)
log=$work/dkms.log

fail() {
	echo "FAIL dkms ($label): $* (log: $log)"
	tail -n 15 "$log" 2>/dev/null | sed 's/^/    /'
	exit 1
}

command -v dkms >/dev/null 2>&1 || fail "no dkms (scripts/install-deps.sh installs it)"
[ -d "$ksrc" ] || fail "no kernel tree at $ksrc"
rm -rf "$work"
mkdir -p "$work/tree" "$work/src" "$work/lib/$krel" "$work/tmp"
: > "$log"
own=$(find "$kmoddir/kernel/drivers/gpu/drm/amd/amdgpu" -name 'amdgpu.ko*' 2>/dev/null | head -n 1)
if [ -n "$own" ]; then
	d=$work/lib/$krel/kernel/drivers/gpu/drm/amd/amdgpu
	mkdir -p "$d"
	case $own in
	*.xz) xz -dc "$own" > "$d/amdgpu.ko" ;;
	*.zst) zstd -qdc "$own" > "$d/amdgpu.ko" ;;
	*.gz) gzip -dc "$own" > "$d/amdgpu.ko" ;;
	*) ln -s "$own" "$d/amdgpu.ko" ;;
	esac
fi

# The documented target itself, with dkms pointed at the private trees
# and at this kernel's tree.  sign_file: a path that does not exist, so
# that dkms signs nothing (it would make a key in /var/lib/dkms otherwise).
dkms="dkms --dkmstree $work/tree --sourcetree $work/src --installtree $work/lib"
(cd "$work" && TMPDIR=$work/tmp sign_file=$work/no-sign-file make -C "$top/guest/linux" \
	dkms-install DKMS="$dkms --kernelsourcedir $ksrc --no-depmod" \
	DKMS_SOURCE_TREE="$work/src" DKMS_KERNELS="$krel") >> "$log" 2>&1 ||
	fail "make dkms-install failed"
[ -f "$work/src/$name-$ver/include/hw/misc/amdkfd-mc-abi.h" ] ||
	fail "the package has no guest ABI header"
ko=$(ls "$work/lib/$krel/updates/dkms/amdgpu.ko"* 2>/dev/null | head -n 1)
[ -n "$ko" ] || fail "no amdgpu.ko in the install tree's updates/dkms"
case $ko in
*.ko) info=$(tr '\0' '\n' < "$ko") ;;
*.xz) info=$(xz -dc "$ko" | tr '\0' '\n') ;;
*) fail "$ko: unexpected compression" ;;
esac
vermagic=$(echo "$info" | sed -n 's/^vermagic=//p' | cut -d' ' -f1)
mver=$(echo "$info" | sed -n 's/^version=//p')
[ "$vermagic" = "$krel" ] || fail "vermagic of the module is '$vermagic', not $krel"
[ "$mver" = "$ver" ] || fail "module version '$mver', not the package's $ver"
# shellcheck disable=SC2086
st=$(cd "$work" && $dkms status -m "$name" -v "$ver" -k "$krel" 2>&1)
case $st in
*": installed"*) ;;
*) fail "dkms status says '$st'" ;;
esac
beside="a kernel without an amdgpu"
[ -z "$own" ] || beside="beside the kernel's own amdgpu"
s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "PASS dkms ($label): $s s, $(dkms --version) added, built and installed $name $ver $beside: module version $mver, vermagic $vermagic"
