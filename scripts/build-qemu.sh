#!/bin/sh
# Fetch, overlay, configure (when the options changed) and build QEMU with
# the amdkfd-mc device, its qtest and its unit test.
#
#   build-qemu.sh BUILD_DIR [extra configure options...]
#
# Environment: QEMU_SRC (extracted tree), FIRMWARE_PATH, QEMU_SERIES (10,
# the default, for trixie's 10.0.x; 11 for sid's 11.x).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1
shift
src=${QEMU_SRC:?}

"$here/fetch-qemu.sh" "$src"
rc=0
"$here/qemu-overlay.sh" "$src" || rc=$?
if [ $rc = 3 ]; then
	rm -rf "$src"
	"$here/fetch-qemu.sh" "$src"
	"$here/qemu-overlay.sh" "$src"
elif [ $rc != 0 ]; then
	exit $rc
fi

# The Python packages 11.x's configure checks for (and meson, when it
# reconfigures from ninja)
if [ "${QEMU_SERIES:-10}" != 10 ]; then
	PYTHONPATH=$("$here/qemu-pydeps.sh")${PYTHONPATH:+:$PYTHONPATH}
	export PYTHONPATH
fi

opts="--python=/usr/bin/python3 --disable-download --disable-install-blobs
--target-list=x86_64-softmmu --without-default-features --disable-docs
--enable-werror --firmwarepath=${FIRMWARE_PATH:?} $*"
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
targets="qemu-system-x86_64 tests/qtest/amdkfd-mc-test
tests/unit/test-amdkfd-mc-sim tests/unit/test-amdkfd-mc-range"
# The libFuzzer binary comes from the same objects
case $opts in
*--enable-fuzzing*) targets="$targets qemu-fuzz-x86_64" ;;
esac
# shellcheck disable=SC2086
if ! ninja -C "$build" $targets >"$log" 2>&1; then
	grep -A25 -E '^FAILED:' "$log" | grep -v -E '^(cc|clang) ' | head -80
	exit 1
fi
# Run from its build tree, QEMU looks for data under qemu-bundle/; point
# the firmware directories there at Debian's.
old_ifs=$IFS
IFS=:
for d in $FIRMWARE_PATH; do
	mkdir -p "$build/qemu-bundle$(dirname "$d")"
	ln -sfn "$d" "$build/qemu-bundle$d"
done
IFS=$old_ifs
echo "build: $build done in $(($(date +%s) - start)) s"
