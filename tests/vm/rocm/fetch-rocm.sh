#!/bin/sh
# Fetch Debian's unmodified ROCm packages for the guest and unpack them
# into two root trees that the guest enters with chroot:
#
#   $ROCM_CACHE/root-bookworm   bookworm: rocminfo 5.2.3, libhsa-runtime64-1
#                               and libhsakmt1 5.2.3, libamdhip64-5 5.2.3
#                               with libamd-comgr2 and libllvm15, and every
#                               library they load, libc6 included
#   $ROCM_CACHE/root-sid        sid: rocminfo 7.x, libhsa-runtime64-1 6.4.x
#                               (which has libhsakmt inside) and its
#                               libraries, sid's own libc6 and loader
#   $ROCM_CACHE/dev-bookworm    bookworm's -dev packages (headers and link
#                               symlinks), to build tests/rocm against
#
# bookworm packages come from the system's sources (this machine is
# bookworm), sid's through scripts/apt-private.sh.  The .deb files stay in
# $ROCM_CACHE/debs-SUITE, so a warm run downloads nothing; a root is
# unpacked again only when its package list changes.  Each root must be
# closed: every DT_NEEDED of every ELF file in it resolves inside it
# (checked; the script fails otherwise).  Prints nothing on success but
# the versions it unpacked (to stderr).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
AMDKFD_MC_CACHE=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
ROCM_CACHE=${ROCM_CACHE:-$AMDKFD_MC_CACHE/rocm}

die() {
	echo "fetch-rocm: error: $*" >&2
	exit 1
}

# The runtime packages of each root, by name.  Versions are checked below
# for the ROCm ones; the rest are whatever the suite has.
bookworm_pkgs="rocminfo libhsa-runtime64-1 libhsakmt1 libamdhip64-5
libamd-comgr2 libllvm15 libdrm-amdgpu1 libdrm2 libdrm-common libnuma1
libelf1 zlib1g libstdc++6 libgcc-s1 libc6 libffi8 libedit2 libtinfo6
libxml2 libz3-4 libzstd1 libicu72 liblzma5 libbsd0 libmd0"
bookworm_dev="libhsa-runtime-dev libamdhip64-dev libhsakmt-dev"
sid_pkgs="rocminfo libhsa-runtime64-1 libdrm-amdgpu1 libdrm2 libdrm-common
libnuma1 libelf1t64 zlib1g libzstd1 libstdc++6 libgcc-s1 libc6"

# fetch SUITE PKG: the .deb of PKG in $ROCM_CACHE/debs-SUITE (downloaded
# once); prints its path
fetch() {
	d=$ROCM_CACHE/debs-$1
	mkdir -p "$d"
	f=$(ls "$d/$2"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$f" ]; then
		echo "fetch-rocm: downloading $2 ($1)" >&2
		if [ "$1" = bookworm ]; then
			(cd "$d" && apt-get -qq download "$2") >/dev/null 2>&1 ||
				die "cannot download $2 from the system's (bookworm) sources"
		else
			(cd "$d" && "$top/scripts/apt-private.sh" "$1" -qq download "$2") \
				>/dev/null 2>&1 || die "cannot download $2 from $1"
		fi
		f=$(ls "$d/$2"_*.deb 2>/dev/null | head -n1 || true)
	fi
	[ -n "$f" ] && [ "$(dpkg-deb -f "$f" Package)" = "$2" ] ||
		die "the download of $2 ($1) is not a package named $2"
	echo "$f"
}

# version SUITE PKG PATTERN: fail unless the cached PKG's version matches
version() {
	v=$(dpkg-deb -f "$(fetch "$1" "$2")" Version)
	case "$v" in
	$3) echo "$v" ;;
	*) die "$2 ($1) is version $v, expected $3" ;;
	esac
}

# closed ROOT: every DT_NEEDED of every ELF file resolves in ROOT's
# multiarch library directories
closed() {
	dirs="$1/lib/x86_64-linux-gnu $1/usr/lib/x86_64-linux-gnu $1/lib64"
	missing=
	# (glibc's gconv modules find their helpers by their own path)
	for f in $(find "$1" -type f \( -name '*.so*' -o -path '*/bin/*' \) \
		! -path '*/gconv/*'); do
		head -c4 "$f" | grep -q ELF || continue
		for n in $(readelf -d "$f" 2>/dev/null |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			ok=
			for dir in $dirs; do
				[ -e "$dir/$n" ] && ok=1 && break
			done
			[ -n "$ok" ] || missing="$missing ${f#"$1"}:$n"
		done
	done
	[ -z "$missing" ] || die "$1 is not closed, missing:$missing"
}

# unpack NAME SUITE PKGS: unpack PKGS into $ROCM_CACHE/NAME unless the
# same package files are there already
unpack() {
	name=$1 suite=$2
	shift 2
	key=
	for p in "$@"; do
		key="$key $(basename "$(fetch "$suite" "$p")")"
	done
	out=$ROCM_CACHE/$name
	[ "$(cat "$out/.ready" 2>/dev/null)" = "$key" ] && return 0
	rm -rf "$out"
	mkdir -p "$out"
	for p in "$@"; do
		dpkg-deb -x "$(fetch "$suite" "$p")" "$out"
	done
	echo "$key" > "$out/.ready"
}

mkdir -p "$ROCM_CACHE"
# shellcheck disable=SC2086
{
	unpack root-bookworm bookworm $bookworm_pkgs
	unpack dev-bookworm bookworm $bookworm_dev
	unpack root-sid sid $sid_pkgs
}
for p in rocminfo libhsa-runtime64-1 libhsakmt1 libamdhip64-5; do
	echo "fetch-rocm: bookworm $p $(version bookworm $p '5.2.3*')" >&2
done
echo "fetch-rocm: sid rocminfo $(version sid rocminfo '7.*')" >&2
echo "fetch-rocm: sid libhsa-runtime64-1 $(version sid libhsa-runtime64-1 '6.4.*')" >&2
for r in root-bookworm root-sid; do
	[ -f "$ROCM_CACHE/$r/.closed" ] && continue
	closed "$ROCM_CACHE/$r"
	touch "$ROCM_CACHE/$r/.closed"
done
