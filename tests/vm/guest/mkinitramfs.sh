#!/bin/sh
# Build the guest test initramfs (newc cpio, gzip).
#
#   mkinitramfs.sh OUT BUSYBOX MODULE TESTDIR [LIBDIR]
#
# TESTDIR's files go to /tests (programs and run-*.sh scripts), LIBDIR's
# to /lib (the dynamic loader and the libraries of dynamically linked
# clients, e.g. the libhsakmt client).
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
strip --strip-debug -o "$root/amdkfd_mc.ko" "$module"
cp -a "$tests"/. "$root/tests/"
if [ -n "$libs" ] && [ -d "$libs" ]; then
	cp -aL "$libs"/. "$root/lib/"
	[ -e "$root/lib/ld-linux-x86-64.so.2" ] &&
		ln -s ../lib/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
