#!/bin/sh
# Build the guest test initramfs (newc cpio, gzip).
#
#   mkinitramfs.sh OUT BUSYBOX MODULE TESTDIR [LIBDIR [MODDIR]]
#
# TESTDIR's files go to /tests (programs and run-*.sh scripts), LIBDIR's
# to /lib (the dynamic loader and the libraries of dynamically linked
# clients, e.g. the libhsakmt client) and LIBDIR/../share to /usr/share.
# MODULE goes to /amdgpu.ko, and the kernel's modules it needs (its
# depends=, drm, and theirs, recursively) to /modules, decompressed, with
# /modules/order listing them in load order.  They come from MODDIR, the
# kernel's lib/modules/RELEASE directory (default: the one in BUSYBOX's
# kernel package, Debian's 6.12).
set -eu
out=$1 busybox=$2 module=$3 tests=$4 libs=${5:-} moddir=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tests" \
	"$root/lib" "$root/lib64" "$root/tmp"
# mktemp -d made the root 0700: unprivileged guest tests need to reach /
chmod 755 "$root"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
# The driver as /amdgpu.ko (its module name, whatever the file is called),
# and the modules it needs, from the kernel it is booted with
strip --strip-debug -o "$root/amdgpu.ko" "$(readlink -f "$module")"
if [ -z "$moddir" ]; then
	kroot=$(dirname "$(dirname "$busybox")")
	moddir=$(ls -d "$kroot"/lib/modules/* 2>/dev/null | head -n 1)
fi
[ -d "$moddir/kernel" ] || { echo "mkinitramfs: no kernel modules in '$moddir'" >&2; exit 1; }
mkdir "$root/modules"
: > "$root/modules/order"
# the depends= of a module's .modinfo, space separated
deps() {
	tr '\0' '\n' < "$1" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '
}
# add NAME: the modules NAME needs, then NAME (- and _ are one in names)
add() {
	grep -qx "$1.ko" "$root/modules/order" && return 0
	f=$(find "$moddir/kernel" -name "$1.ko*" -o \
		-name "$(echo "$1" | tr _ -).ko*" | head -n 1)
	[ -n "$f" ] || { echo "mkinitramfs: module $1 not in $moddir" >&2; exit 1; }
	case $f in
	*.xz) xz -dc "$f" ;;
	*.zst) zstd -qdc "$f" ;;
	*.gz) gzip -dc "$f" ;;
	*) cat "$f" ;;
	esac > "$root/modules/$1.ko"
	for d in $(deps "$root/modules/$1.ko"); do
		add "$d"
	done
	echo "$1.ko" >> "$root/modules/order"
}
for d in $(deps "$root/amdgpu.ko"); do
	add "$d"
done
cp -a "$tests"/. "$root/tests/"
if [ -n "$libs" ] && [ -d "$libs" ]; then
	cp -aL "$libs"/. "$root/lib/"
	# data files of those libraries (libdrm's amdgpu.ids)
	if [ -d "$libs/../share" ]; then
		mkdir -p "$root/usr/share"
		cp -aL "$libs/../share"/. "$root/usr/share/"
	fi
	[ -e "$root/lib/ld-linux-x86-64.so.2" ] &&
		ln -s ../lib/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
