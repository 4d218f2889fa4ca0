#!/bin/sh
# Build the libhsakmt client against Debian's libhsakmt-dev (bookworm,
# 5.2.3) and collect the shared libraries it needs in the guest.
#
#   build-hsakmt-client.sh OUTDIR GUEST_CACHE
#
# Packages are downloaded once with apt-get download into
# GUEST_CACHE/debs and unpacked into GUEST_CACHE/hsakmt.  Results:
# OUTDIR/tests/hsakmt-client, OUTDIR/tests/run-hsakmt.sh, OUTDIR/lib/*.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1 cache=${2:-$HOME/.cache/amdkfd-mc/guest}
debs=$cache/debs root=$cache/hsakmt
mkdir -p "$debs" "$out/tests" "$out/lib"
fetch() {
	ls "$debs/$1"_*.deb >/dev/null 2>&1 && return 0
	(cd "$debs" && apt-get -qq download "$1" >/dev/null 2>&1) ||
		{ echo "build-hsakmt-client: cannot download $1" >&2; return 1; }
}
if [ ! -f "$root/.ready" ]; then
	for p in libhsakmt1 libhsakmt-dev libdrm-amdgpu1 libdrm2 libnuma1; do
		fetch "$p"
	done
	rm -rf "$root"
	mkdir -p "$root"
	for f in "$debs"/*.deb; do
		dpkg-deb -x "$f" "$root"
	done
	touch "$root/.ready"
fi
lib=$root/usr/lib/x86_64-linux-gnu
bin=$out/tests/hsakmt-client
if [ ! -x "$bin" ] || [ "$here/hsakmt-client.c" -nt "$bin" ] ||
	[ "$here/../../hw/misc/amdkfd-mc/sim-kfd.h" -nt "$bin" ]; then
	${CC:-gcc} -O2 -g -Wall -I"$root/usr/include" \
		-I"$here/../../hw/misc/amdkfd-mc" -I"$here/../../include" -o "$bin" \
		"$here/hsakmt-client.c" -L"$lib" -lhsakmt \
		-Wl,-rpath-link,"$lib"
fi
# The loader, libc and everything the client links, from the build host's
# loader view with the unpacked packages first.
LD_LIBRARY_PATH=$lib ldd "$bin" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' |
	while read -r so; do
		[ -f "$so" ] && cp -L "$so" "$out/lib/$(basename "$so")"
	done
install -m 755 "$here/hsakmt-run.sh" "$out/tests/run-hsakmt.sh"
