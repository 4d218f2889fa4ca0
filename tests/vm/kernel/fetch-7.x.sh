#!/bin/sh
# Fetch Debian's Linux 7.x from sid for the upstream reference run:
# the unsigned kernel image, its modules (amdgpu), its headers package (for
# Debian's .config and Module.symvers) and linux-source-7.x (the kbuild
# host tools of linux-kbuild-7.x need a newer libc than bookworm's, so the
# test-only module is built against a prepared source tree instead).
#
# The version is the one sid's linux-image-amd64 depends on at fetch time,
# or $KV7 (e.g. 7.2.13+deb14) if set. Result (idempotent, cached):
#   $KCACHE/7.x/KVER/root/       unpacked packages
#   $KCACHE/7.x/KVER/source/     linux-source-7.x tree
#   $KCACHE/7.x/KVER/vmlinuz     symlink to the kernel image
#   $KCACHE/7.x/current          symlink to the KVER directory
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
top=$(cd "$here/../../.." && pwd)
apt_sid() { "$top/scripts/apt-private.sh" sid "$@"; }

if [ -z "${KV7:-}" ]; then
	# linux-image-amd64 -> linux-image-7.2.13+deb14-amd64
	KV7=$(apt_sid -qq -s install linux-image-amd64 2>/dev/null |
		sed -n 's/^Inst linux-image-\(7\.[^ ]*\)-amd64 .*/\1/p' | head -n1)
	[ -n "$KV7" ] || KV7=$(apt-cache -o Dir::State::Lists="$AMDKFD_MC_CACHE/apt/sid/lists" \
		-o Dir::Etc::SourceList="$AMDKFD_MC_CACHE/apt/sid/etc/sources.list" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(7\.[^ ]*\)-amd64.*/\1/p' | head -n1)
fi
[ -n "$KV7" ] || die "cannot find a Linux 7.x image in sid (set KV7=7.x.y+debNN)"
out=$KCACHE/7.x/$KV7
if [ -f "$out/ready" ]; then
	ln -sfn "$out" "$KCACHE/7.x/current"
	echo "$KV7"
	exit 0
fi
ser=$(echo "$KV7" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
debs=$KCACHE/debs-sid
mkdir -p "$debs" "$out/root"
for p in "linux-binary-unsigned-$KV7-amd64" "linux-modules-$KV7-amd64" \
	"linux-headers-$KV7-amd64" "linux-source-$ser"; do
	f=$(ls "$debs/${p}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		log "downloading $p from sid"
		(cd "$debs" && apt_sid -qq download "$p") >/dev/null 2>&1 ||
			die "cannot download $p from sid"
		f=$(ls "$debs/${p}_"*.deb 2>/dev/null | head -n1 || true)
	fi
	[ -n "$f" ] && [ "$(dpkg-deb -f "$f" Package)" = "$p" ] ||
		die "download of $p did not produce a valid package"
	log "unpacking $(basename "$f")"
	dpkg-deb -x "$f" "$out/root"
done
# The image is /boot/vmlinuz-KVER in older packaging and
# /usr/lib/modules/KVER/vmlinuz.unsigned in linux-binary-unsigned-*.
kimg=$(ls "$out/root/boot/vmlinuz-$KV7-amd64" \
	"$out/root/usr/lib/modules/$KV7-amd64/vmlinuz"* 2>/dev/null | head -n1 || true)
[ -n "$kimg" ] || die "no kernel image for $KV7-amd64 in linux-binary-unsigned"
ln -sfn "$kimg" "$out/vmlinuz"
mod=$(find -L "$out/root" -path "*/lib/modules/$KV7-amd64/kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko*" | head -n1)
[ -n "$mod" ] || die "amdgpu.ko missing from linux-modules-$KV7-amd64"
tarball=$(ls "$out"/root/usr/src/linux-source-"$ser".tar.* | head -n1)
log "extracting $(basename "$tarball")"
mkdir -p "$out/source"
tar -C "$out/source" --strip-components=1 -xf "$tarball"
rm -f "$tarball"
echo "$KV7" > "$out/ready"
ln -sfn "$out" "$KCACHE/7.x/current"
echo "$KV7"
