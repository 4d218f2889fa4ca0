#!/bin/sh
# Fetch and unpack Debian's Linux 6.12 packages that the kernel-patches series
# targets: linux-source-6.12, the matching image (unsigned, same modules as the
# signed one), headers, headers-common and kbuild, plus busybox-static.
#
# Candidates are tried in a fixed order (bookworm-backports, then the system's
# own suites); every package must carry exactly the version recorded in
# kernel-patches/linux-6.12/DEBIAN-VERSION. Result (idempotent, cached):
#   $KCACHE/6.12/root/          the unpacked packages
#   $KCACHE/6.12/headers        usable headers tree (M= builds)
#   $KCACHE/6.12/source/        pristine linux-source-6.12 tree
#   $KCACHE/6.12/ready          stamp
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)

[ -n "$KV612_DEB" ] || die "no debian-version in kernel-patches/linux-6.12/DEBIAN-VERSION"
out=$KCACHE/6.12
[ -f "$out/ready" ] && [ "$(cat "$out/ready")" = "$KV612_DEB" ] && exit 0

debs=$KCACHE/debs
mkdir -p "$debs"
pkgs="linux-source-6.12 linux-image-$KV612-unsigned linux-headers-$KV612
linux-headers-$KV612_ABI-common linux-kbuild-$KV612_ABI"

# fetch PKG VERSION: leave PKG_VERSION_*.deb in $debs or fail.
fetch() {
	pkg=$1 ver=$2
	f=$(ls "$debs/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		for suite in bookworm-backports system; do
			if [ "$suite" = system ]; then
				(cd "$debs" && apt-get -qq download "$pkg=$ver") >/dev/null 2>&1 && break
			else
				(cd "$debs" && "$top/scripts/apt-private.sh" "$suite" -qq \
					download "$pkg=$ver") >/dev/null 2>&1 && break
			fi
		done
		f=$(ls "$debs/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_"*.deb 2>/dev/null | head -n1 || true)
	fi
	[ -n "$f" ] || die "cannot download $pkg=$ver (tried bookworm-backports, system sources)"
	got="$(dpkg-deb -f "$f" Package) $(dpkg-deb -f "$f" Version)"
	[ "$got" = "$pkg $ver" ] || die "$f is '$got', expected '$pkg $ver'"
	echo "$f"
}

rm -rf "$out"
mkdir -p "$out/root"
for p in $pkgs; do
	f=$(fetch "$p" "$KV612_DEB")
	log "unpacking $(basename "$f")"
	dpkg-deb -x "$f" "$out/root"
done
# busybox-static: any version from the system suite is fine (only runs /init).
bb=$(ls "$debs"/busybox-static_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$bb" ]; then
	(cd "$debs" && apt-get -qq download busybox-static) >/dev/null 2>&1 ||
		die "cannot download busybox-static from the system's sources"
	bb=$(ls "$debs"/busybox-static_*.deb | head -n1)
fi
dpkg-deb -x "$bb" "$out/root"
[ -x "$out/root/bin/busybox" ] || die "busybox-static has no /bin/busybox"

src=$out/root/usr/src
[ -f "$src/linux-source-6.12.tar.xz" ] || die "linux-source-6.12.tar.xz missing"
[ -f "$out/root/boot/vmlinuz-$KV612" ] || die "vmlinuz-$KV612 missing"
log "extracting linux-source-6.12"
mkdir -p "$out/source"
tar -C "$out/source" --strip-components=1 -xf "$src/linux-source-6.12.tar.xz"
rm -f "$src/linux-source-6.12.tar.xz"
# The headers Makefile includes the common tree by absolute path under
# /usr/src; point it at the unpacked copy instead.
hd=$src/linux-headers-$KV612
printf 'include %s/linux-headers-%s-common/Makefile\n' "$src" "$KV612_ABI" > "$hd/Makefile"
ln -sfn "$hd" "$out/headers"
echo "$KV612_DEB" > "$out/ready"
log "ready: $out"
