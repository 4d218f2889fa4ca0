#!/bin/sh
# Pack the unpacked Debian roots of fetch-rocm.sh into one cpio archive
# (gzip) whose /bookworm and /sid the guest enters with chroot:
#
#   pack-roots.sh ROCM_CACHE BUSYBOX OUT
#
# Documentation, locales, gconv modules and cmake files are left out; each
# root gets /proc, /sys, /dev, /tmp, /root, a passwd and group with root
# only, and busybox-static for the shell and lsmod (below).
set -eu
cache=$1 busybox=$2 out=$3
# Files of the unpacked roots the guest never uses
ROCM_PRUNE="usr/share/doc usr/share/man usr/share/locale usr/share/lintian
usr/share/info usr/share/bug usr/share/gcc usr/share/gdb
usr/lib/x86_64-linux-gnu/gconv usr/lib/x86_64-linux-gnu/cmake"

st=$cache/stage
rm -rf "$st"
mkdir -p "$st"
cp -al "$cache/root-bookworm" "$st/bookworm"
cp -al "$cache/root-sid" "$st/sid"
for r in bookworm sid; do
	rm -f "$st/$r/.ready" "$st/$r/.closed"
	for p in $ROCM_PRUNE; do
		rm -rf "${st:?}/$r/$p"
	done
	mkdir -p "$st/$r/proc" "$st/$r/sys" "$st/$r/dev" "$st/$r/tmp" \
		"$st/$r/root" "$st/$r/etc"
	chmod 1777 "$st/$r/tmp"
	echo "root:x:0:0:root:/root:/bin/sh" > "$st/$r/etc/passwd"
	echo "root:x:0:" > "$st/$r/etc/group"
done
# sid is merged-/usr: the links that its base-files package makes
for d in bin sbin lib lib64; do
	mkdir -p "$st/sid/usr/$d"
	ln -s "usr/$d" "$st/sid/$d"
done
# rocminfo 5.2.3 runs "lsmod | grep amdgpu" through /bin/sh (Debian's
# package gets them from dash, kmod and grep); busybox-static is the
# one shell and lsmod in this image
mkdir -p "$st/bookworm/bin"
for r in bookworm/bin sid/usr/bin; do
	cp "$busybox" "$st/$r/busybox"
	for a in sh lsmod grep cat ls; do
		[ -e "$st/$r/$a" ] || ln -s busybox "$st/$r/$a"
	done
done
(cd "$st" && find bookworm sid | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$st"

