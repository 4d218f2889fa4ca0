#!/bin/sh
# Build the libhsakmt client against Debian's libhsakmt-dev (bookworm,
# 5.2.3), and the render-node client against Debian's libdrm-dev (2.4.114),
# and collect the shared libraries they need in the guest (and libdrm's
# amdgpu.ids, where libdrm_amdgpu finds marketing names).
#
#   build-hsakmt-client.sh OUTDIR GUEST_CACHE
#
# Packages are downloaded once with apt-get download into
# GUEST_CACHE/debs and unpacked into GUEST_CACHE/hsakmt.  Results:
# OUTDIR/tests/hsakmt-client, OUTDIR/tests/run-hsakmt.sh,
# OUTDIR/tests/drm-client, OUTDIR/tests/run-drm.sh, OUTDIR/lib/*,
# OUTDIR/share/libdrm/amdgpu.ids.
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
pkgs="libhsakmt1 libhsakmt-dev libdrm-amdgpu1 libdrm2 libdrm-dev libdrm-common libnuma1"
if [ "$(cat "$root/.ready" 2>/dev/null)" != "$pkgs" ]; then
	for p in $pkgs; do
		fetch "$p"
	done
	rm -rf "$root"
	mkdir -p "$root"
	for f in "$debs"/*.deb; do
		dpkg-deb -x "$f" "$root"
	done
	echo "$pkgs" > "$root/.ready"
fi
lib=$root/usr/lib/x86_64-linux-gnu
bin=$out/tests/hsakmt-client
if [ ! -x "$bin" ] || [ "$here/hsakmt-client.c" -nt "$bin" ] ||
	[ "$here/../../hw/misc/amdkfd-mc/sim/sim-kfd.h" -nt "$bin" ]; then
	# a failed build must not leave an old client behind
	rm -f "$bin"
	${CC:-gcc} -O2 -g -Wall -I"$root/usr/include" \
		-I"$here/../../hw/misc/amdkfd-mc/sim" -I"$here/../../include" -o "$bin" \
		"$here/hsakmt-client.c" -L"$lib" -lhsakmt \
		-Wl,-rpath-link,"$lib"
fi
dbin=$out/tests/drm-client
if [ ! -x "$dbin" ] || [ "$here/drm-client.c" -nt "$dbin" ] ||
	[ "$here/report.h" -nt "$dbin" ]; then
	rm -f "$dbin"
	${CC:-gcc} -O2 -g -Wall -I"$root/usr/include" \
		-I"$root/usr/include/libdrm" -o "$dbin" "$here/drm-client.c" \
		-L"$lib" -ldrm_amdgpu -ldrm -Wl,-rpath-link,"$lib"
fi
# The loader, libc and everything the clients link, from the build host's
# loader view with the unpacked packages first.
for b in "$bin" "$dbin"; do
	LD_LIBRARY_PATH=$lib ldd "$b" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'
done | sort -u | while read -r so; do
	[ -f "$so" ] && cp -L "$so" "$out/lib/$(basename "$so")"
done
mkdir -p "$out/share/libdrm"
cp "$root/usr/share/libdrm/amdgpu.ids" "$out/share/libdrm/"
install -m 755 "$here/hsakmt-run.sh" "$out/tests/run-hsakmt.sh"
install -m 755 "$here/drm-run.sh" "$out/tests/run-drm.sh"
