#!/bin/sh
# Print a directory of the Python packages that QEMU 11's configure needs
# beyond Meson (pycotap, qemu.qmp), for PYTHONPATH.  Debian's source
# package drops the wheels QEMU ships in python/wheels, and bookworm has
# neither package, so sid's (pure Python) are fetched once and unpacked
# into the cache, where Debian's own build would have them installed.
#
#   qemu-pydeps.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}
debs=$cache/debs-sid
dir=$cache/qemu-pydeps
pkgs="python3-pycotap python3-qemu-qmp"

if [ ! -f "$dir/.amdkfd-mc-unpacked" ]; then
	mkdir -p "$debs"
	for p in $pkgs; do
		[ -n "$(find "$debs" -maxdepth 1 -name "${p}_*.deb")" ] && continue
		(cd "$debs" && "$here/apt-private.sh" sid -qq download "$p") >&2 || {
			echo "qemu-pydeps: cannot fetch $p from sid" >&2
			exit 1
		}
	done
	rm -rf "$dir"
	for p in $pkgs; do
		deb=$(find "$debs" -maxdepth 1 -name "${p}_*.deb" | sort -V |
			tail -n 1)
		dpkg-deb -x "$deb" "$dir"
	done
	touch "$dir/.amdkfd-mc-unpacked"
fi
echo "$dir/usr/lib/python3/dist-packages"
