#!/bin/sh
# Put this repository's QEMU files into an extracted QEMU tree: apply the
# hooks patch (meson, Kconfig, docs indexes) once and symlink every project
# file into the place it has in QEMU's layout, so edits here are built as
# they are.
#
#   qemu-overlay.sh QEMU_SRC
#
# The hooks patch is per QEMU series (QEMU_SERIES, 10 by default):
# qemu-hooks.patch for 10.0, qemu-hooks-SERIES.patch for the others.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
src=$1
case ${QEMU_SERIES:-10} in
10) patch=$here/qemu-hooks.patch ;;
*) patch=$here/qemu-hooks-$QEMU_SERIES.patch ;;
esac

applied=$src/.amdkfd-mc-hooks.patch
if [ -f "$applied" ] && ! cmp -s "$applied" "$patch"; then
	# Take the old hooks out so that only the files they touch change.
	if ! patch -d "$src" -p1 -s -R <"$applied"; then
		echo "qemu-overlay: cannot revert the old hooks; extract a fresh tree" >&2
		exit 3
	fi
	rm -f "$applied"
fi
if [ ! -f "$applied" ]; then
	if ! patch -d "$src" -p1 -s --forward <"$patch"; then
		echo "qemu-overlay: $patch does not apply to $src" >&2
		exit 1
	fi
	cp "$patch" "$applied"
fi

# The project's QEMU-side files, by path in QEMU's layout; links to files
# that have moved or gone since the last overlay go first
cd "$top"
for d in hw/misc/amdkfd-mc include/hw/misc tests/qtest tests/unit \
	docs/specs docs/system/devices docs/devel; do
	[ -d "$src/$d" ] && find "$src/$d" -xtype l -delete
done
find hw/misc/amdkfd-mc include/hw/misc tests/qtest tests/unit \
	docs/specs docs/system/devices docs/devel -type f 2>/dev/null |
	while read -r f; do
		mkdir -p "$src/$(dirname "$f")"
		ln -sfn "$top/$f" "$src/$f"
	done

# 10.0 gets the QEMU 11 names of the headers the device uses, forwarding to
# 10.0's own (compat/qemu-10.0/README); none may shadow a file of the tree
if [ "${QEMU_SERIES:-10}" = 10 ]; then
	(cd compat/qemu-10.0 && find include -type f) | while read -r f; do
		if [ -e "$src/$f" ] && [ ! -L "$src/$f" ]; then
			echo "qemu-overlay: $src/$f exists; compat/qemu-10.0/$f is obsolete" >&2
			exit 1
		fi
		mkdir -p "$src/$(dirname "$f")"
		ln -sfn "$top/compat/qemu-10.0/$f" "$src/$f"
	done
fi
