#!/bin/sh
# Build the libFuzzer binary of QEMU (qemu-fuzz-x86_64) with the amdkfd-mc
# device, AddressSanitizer and UBSan, in a build directory of its own.
#
#   tests/fuzz/build.sh BUILD_DIR
#
# Lean on purpose: the x86_64 target only, no TCG (the fuzzers use the
# qtest accelerator), no tools, no docs, and only the fuzz binary is
# built.  Environment: QEMU_SRC (extracted tree), FIRMWARE_PATH; ccache
# comes from the Makefile's PATH and CCACHE_* settings.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$1
src=${QEMU_SRC:?}

"$top/scripts/fetch-qemu.sh" "$src"
rc=0
"$top/scripts/qemu-overlay.sh" "$src" || rc=$?
if [ $rc = 3 ]; then
	rm -rf "$src"
	"$top/scripts/fetch-qemu.sh" "$src"
	"$top/scripts/qemu-overlay.sh" "$src"
elif [ $rc != 0 ]; then
	exit $rc
fi

# clang: libFuzzer is clang's (Debian's libclang-rt-14-dev)
opts="--python=/usr/bin/python3 --disable-download --disable-install-blobs
--target-list=x86_64-softmmu --without-default-features --disable-docs
--enable-werror --firmwarepath=${FIRMWARE_PATH:?} --cc=clang --cxx=clang++
--host-cc=clang --enable-fuzzing --enable-asan --enable-ubsan --disable-tcg
--enable-kvm"
mkdir -p "$build"
if [ ! -f "$build/build.ninja" ] ||
	[ "$(cat "$build/amdkfd-mc.options" 2>/dev/null)" != "$opts" ]; then
	echo "configure: $build"
	# shellcheck disable=SC2086
	if ! (cd "$build" && "$src/configure" $opts >configure.log 2>&1); then
		tail -30 "$build/configure.log"
		exit 1
	fi
	echo "$opts" >"$build/amdkfd-mc.options"
fi

echo "build: $build"
log=$build/amdkfd-mc-build.log
start=$(date +%s)
if ! ninja -C "$build" qemu-fuzz-x86_64 >"$log" 2>&1; then
	grep -A25 -E '^FAILED:' "$log" | grep -v '^clang ' | head -80
	exit 1
fi
echo "build: $build done in $(($(date +%s) - start)) s"
