#!/bin/sh
# Fetch and unpack Debian bookworm's stock Linux 6.1, the kernel a bookworm
# guest runs out of the box, for the guest driver's tests on older kernels:
# the signed image (with its modules, drm.ko among them), its headers,
# headers-common and linux-kbuild-6.1, all from the machine's own suites
# (bookworm, bookworm-security) through plain apt-get download.
#
# The ABI is the one the system's linux-image-amd64 depends on (e.g.
# 6.1.0-57), or $KV61 if set; the packages must all carry the version of
# that image.  Result (idempotent, cached; prints the ABI):
#   $KCACHE/6.1/ABI/root/       the unpacked packages
#   $KCACHE/6.1/ABI/headers     usable headers tree (M= builds)
#   $KCACHE/6.1/ABI/ready       stamp (the Debian version)
#   $KCACHE/6.1/current         symlink to the ABI directory
#
# Old ABIs leave the archive when a new one comes (security updates), so
# the ABI is not pinned: a cached one is used while the system's index
# still names it, or when the index cannot be read at all; when a package
# cannot be downloaded (an index older than the archive), the index is
# read anew once (apt-get update, as root) and the newest ABI fetched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

# resolve: KV61 (the ABI) and ver (its Debian version) from the index
resolve() {
	abi=${KV61:-$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(6\.1\.0-[0-9]*\)-amd64$/\1/p' |
		head -n1)}
	if [ -z "$abi" ] && [ -f "$KCACHE/6.1/current/ready" ]; then
		abi=$(basename "$(readlink -f "$KCACHE/6.1/current")")
	fi
	ver=
	[ -n "$abi" ] || return 0
	[ -f "$KCACHE/6.1/$abi/ready" ] ||
		ver=$(apt-cache show "linux-image-$abi-amd64" 2>/dev/null |
			sed -n 's/^Version: //p' | sort -V | tail -n1)
}

# fetch: download (into $KCACHE/debs) and unpack the four packages of
# $abi at $ver; non-zero if one cannot be had
fetch() {
	debs=$KCACHE/debs
	mkdir -p "$debs"
	rm -rf "$out"
	mkdir -p "$out/root"
	for p in "linux-image-$abi-amd64" "linux-headers-$abi-amd64" \
		"linux-headers-$abi-common" linux-kbuild-6.1; do
		f=$debs/${p}_${ver}_$(dpkg --print-architecture).deb
		[ "$p" != "linux-headers-$abi-common" ] || f=$debs/${p}_${ver}_all.deb
		if [ ! -f "$f" ]; then
			log "downloading $p $ver"
			(cd "$debs" && apt-get -qq download "$p=$ver") >/dev/null 2>&1 ||
				return 1
		fi
		[ -f "$f" ] || die "download of $p=$ver left no $(basename "$f")"
		got="$(dpkg-deb -f "$f" Package) $(dpkg-deb -f "$f" Version)"
		[ "$got" = "$p $ver" ] || die "$f is '$got', expected '$p $ver'"
		log "unpacking $(basename "$f")"
		dpkg-deb -x "$f" "$out/root"
	done
}

resolve
[ -n "$abi" ] ||
	die "the system's linux-image-amd64 names no 6.1 kernel (run apt-get update, or set KV61=6.1.0-NN)"
out=$KCACHE/6.1/$abi
if [ -f "$out/ready" ]; then
	ln -sfn "$out" "$KCACHE/6.1/current"
	echo "$abi"
	exit 0
fi
if [ -z "$ver" ] || ! fetch; then
	# An index older than the archive names packages it no longer has:
	# read it anew once (as root, like scripts/install-deps.sh does).
	[ "$(id -u)" = 0 ] || die "cannot download linux $abi (index too old? run apt-get update)"
	log "linux $abi cannot be downloaded: reading the package index anew"
	apt-get -qq update >&2 || true
	resolve
	out=$KCACHE/6.1/$abi
	[ -n "$ver" ] || die "no linux-image-$abi-amd64 in the system's package index"
	fetch || die "cannot download linux $abi ($ver) from the system's suites"
fi
KV61=$abi

rel=$KV61-amd64
[ -f "$out/root/boot/vmlinuz-$rel" ] || die "vmlinuz-$rel missing from linux-image-$rel"
ls "$out"/root/lib/modules/"$rel"/kernel/drivers/gpu/drm/drm.ko* >/dev/null 2>&1 ||
	die "drm.ko missing from linux-image-$rel"
# As for 6.12: the headers Makefile includes the common tree by its
# absolute path under /usr/src; point it at the unpacked copy.
src=$out/root/usr/src
hd=$src/linux-headers-$rel
[ -d "$src/linux-headers-$KV61-common" ] || die "linux-headers-$KV61-common missing"
printf 'include %s/linux-headers-%s-common/Makefile\n' "$src" "$KV61" > "$hd/Makefile"
ln -sfn "$hd" "$out/headers"
echo "$ver" > "$out/ready"
ln -sfn "$out" "$KCACHE/6.1/current"
# an ABI the archive replaced is not used again
for d in "$KCACHE"/6.1/6.1.0-*; do
	[ "$d" = "$out" ] || rm -rf "$d"
done
log "ready: $out ($ver)"
echo "$KV61"
