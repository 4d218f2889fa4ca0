#!/bin/sh
# Build the guest test initramfs (newc cpio, gzip).
#
#   mkinitramfs.sh OUT BUSYBOX MODULE TESTDIR [LIBDIR]
#
# TESTDIR's files go to /tests (programs and run-*.sh scripts), LIBDIR's
# to /lib (the dynamic loader and the libraries of dynamically linked
# clients, e.g. the libhsakmt client) and LIBDIR/../share to /usr/share.  MODULE goes to /amdgpu.ko, the
# kernel's drm.ko (found next to BUSYBOX's kernel package) to /drm.ko.
set -eu
out=$1 busybox=$2 module=$3 tests=$4 libs=${5:-}
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
# and the DRM core it needs, from the same kernel package as busybox
strip --strip-debug -o "$root/amdgpu.ko" "$(readlink -f "$module")"
kroot=$(dirname "$(dirname "$busybox")")
drm=$(ls "$kroot"/lib/modules/*/kernel/drivers/gpu/drm/drm.ko* 2>/dev/null | head -n 1)
case $drm in
*.xz) xz -dc "$drm" > "$root/drm.ko" ;;
*.ko) cp "$drm" "$root/drm.ko" ;;
*) echo "mkinitramfs: no drm.ko under $kroot/lib/modules" >&2; exit 1 ;;
esac
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
