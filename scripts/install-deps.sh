#!/bin/sh
# Install the Debian packages the build and the tests need.  As root this
# installs them with apt; otherwise it prints what to install and fails.
#
#   install-deps.sh [extra-package...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${AMDKFD_MC_CACHE:-$HOME/.cache/amdkfd-mc}

# From the machine's own suite: QEMU's builds (clang and its libFuzzer and
# sanitizer runtimes for the sanitizer build), the x86 firmware, and the
# tools of the VM tests (initramfs, out-of-tree kernel modules, the guest
# driver's DKMS package).
base="gcc make pkg-config git dpkg-dev xz-utils python3 python3-venv
ninja-build flex bison ccache libglib2.0-dev libpixman-1-dev libfdt-dev
libdrm-dev seabios ipxe-qemu qemu-system-data
clang libclang-rt-14-dev llvm-14 lld-14
cpio patch perl binutils dwarves bc libelf-dev libssl-dev dkms $*"
# From bookworm-backports: QEMU 10.0 needs meson >= 1.5, and the KFD uapi
# header of Linux 6.12 (KFD 1.17, with drm/drm.h) replaces bookworm's 6.1 one.
backports=""

missing=""
for p in $base; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
at_least() {
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) &&
		dpkg --compare-versions "$v" ge "$2"
}
at_least meson 1.5 || backports="$backports meson"
at_least linux-libc-dev 6.12 || backports="$backports linux-libc-dev"

if [ -z "$missing" ] && [ -z "$backports" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "Missing build dependencies. As root, run:" >&2
	[ -n "$missing" ] && echo "  apt-get install$missing" >&2
	[ -z "$backports" ] ||
		echo "  apt-get install -t bookworm-backports$backports" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "install-deps: installing$missing"
	apt-get -qq update || true
	# shellcheck disable=SC2086
	apt-get -qq install -y --no-install-recommends $missing >/dev/null
fi
if [ -n "$backports" ]; then
	echo "install-deps: installing$backports from bookworm-backports"
	d=$cache/debs
	mkdir -p "$d"
	# shellcheck disable=SC2086
	(cd "$d" && "$here/apt-private.sh" bookworm-backports -qq download $backports)
	for p in $backports; do
		deb=$(ls -1 "$d/${p}_"*.deb | sort -V | tail -n 1)
		apt-get -qq install -y --no-install-recommends "$deb" >/dev/null
	done
fi
