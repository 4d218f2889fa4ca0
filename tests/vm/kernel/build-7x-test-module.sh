#!/bin/sh
# Build the TEST-ONLY module test-only-kfd-fake-gpu for Debian's Linux 7.x
# (reference runs only; see the module's header comment).
#
# linux-kbuild-7.x's host tools need a newer libc than bookworm's, so the
# module is built against linux-source-7.x prepared with Debian's .config
# and Module.symvers (from linux-headers-KVER-amd64) and the release string
# of the Debian image. pahole (dwarves) must be installed, otherwise
# Kconfig drops BTF and struct module would not match the running kernel.
# Prints the path of the .ko; cached by the module source and KVER (the
# release kernel-patches/linux-7.x/DEBIAN-VERSION names unless KV7 is set).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
# fetched and prepared for external modules by prepare-7.x.sh
KV7=$("$here/prepare-7.x.sh")
base=$KCACHE/7.x/$KV7
rel=$KV7-amd64
command -v pahole >/dev/null || die "pahole missing: install dwarves"
msrc=$here/test-only-kfd-fake-gpu
key=$(cat "$msrc"/* "$0" | sha256sum | cut -c1-16)
out=$base/test-module-$key
if [ -f "$out/test_only_kfd_fake_gpu.ko" ]; then
	echo "$out/test_only_kfd_fake_gpu.ko"
	exit 0
fi
src=$base/source
work=$base/test-module-work
rm -rf "$work"
cp -a "$msrc" "$work"
make -s -C "$src" CC=gcc KERNELRELEASE="$rel" M="$work" modules
ko=$work/test_only_kfd_fake_gpu.ko
[ -f "$ko" ] || die "test module did not build"
strings "$ko" | grep -q "vermagic=$rel " || die "vermagic of $ko is not $rel"
mkdir -p "$out"
strip --strip-debug -o "$out/test_only_kfd_fake_gpu.ko" "$ko"
echo "$out/test_only_kfd_fake_gpu.ko"
