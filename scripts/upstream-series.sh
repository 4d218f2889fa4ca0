#!/bin/sh
# Generate the device's patch series for qemu-devel against QEMU 11.x, in
# a scratch git tree of the upstream source, and check every patch with
# that tree's scripts/checkpatch.pl (docs/devel/amdkfd-mc.rst, "Sending
# the device upstream").
#
#   upstream-series.sh [OUT_DIR]
#
# OUT_DIR (default build/upstream/patches) gets the cover letter and the
# patches as git format-patch writes them.  The scratch tree is
# build/upstream/qemu, made anew on every run.  Exits non-zero when
# checkpatch reports an error or a warning in any patch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
work=$top/build/upstream
tree=$work/qemu
out=${1:-$work/patches}
mkdir -p "$work"

# The upstream source as Debian ships it, without Debian's patches
rm -rf "$tree"
QEMU_SERIES=11 QEMU_PRISTINE=1 "$here/fetch-qemu.sh" "$tree"
rm -f "$tree/.amdkfd-mc-extracted"
version=$(cat "$tree/VERSION")

# The author of the series is whoever runs this in the project's clone
name=$(git -C "$top" config user.name || echo "amdkfd-mc maintainers")
email=$(git -C "$top" config user.email || echo "amdkfd-mc@localhost")
g() {
	git -C "$tree" -c user.name="$name" -c user.email="$email" \
		-c core.autocrlf=false "$@"
}

echo "upstream-series: recording QEMU $version in $tree"
g init -q -b master
g add -A .
g commit -q -m "QEMU $version"
g tag base

# The hooks go in with the patch they belong to; the developer notes
# describe this project's own tests and stay out of the series.
patch -d "$tree" -p1 -s --no-backup-if-mismatch <"$here/qemu-hooks-11.patch"
g checkout -q -- docs/devel/index-internals.rst

# copy PATH...: the project's files, as they are, into the tree
copy() {
	for p in "$@"; do
		(cd "$top" && git ls-files -- "$p") | while read -r f; do
			mkdir -p "$tree/$(dirname "$f")"
			cp "$top/$f" "$tree/$f"
		done
	done
}

# commit SUBJECT BODY PATH...: one patch of the series
commit() {
	subject=$1
	body=$2
	shift 2
	g add -A -- "$@"
	{
		printf '%s\n\n' "$subject"
		printf '%s\n' "$body" | fold -s -w 72 | sed 's/ *$//'
	} | g commit -q -s -F -
}

# maintain PATTERN...: add files to the MAINTAINERS entry, which the
# first call makes in the devices part of the file; each patch names the
# files it adds there
maintain() {
	awk -v name="$name" -v email="$email" -v files="$*" '
		BEGIN { n = split(files, f, " ") }
		function add() { for (i = 1; i <= n; i++) print "F: " f[i] }
		/^amdkfd-mc$/ { ours = 1 }
		ours && /^$/ { add(); ours = 0; done = 1 }
		/^EDU$/ && !done {
			print "amdkfd-mc"
			print "M: " name " <" email ">"
			print "S: Maintained"
			add()
			print ""
			done = 1
		}
		{ print }' "$tree/MAINTAINERS" >"$tree/MAINTAINERS.new"
	mv "$tree/MAINTAINERS.new" "$tree/MAINTAINERS"
}

copy hw/misc/amdkfd-mc include/hw/misc
maintain hw/misc/amdkfd-mc/ 'include/hw/misc/amdkfd-mc*.h'
commit "hw/misc: add amdkfd-mc, a paravirtual KFD device with isolated contexts" \
"amdkfd-mc gives every program in a guest a KFD (AMD GPU compute) context \
of its own on the host: the guest driver forwards each /dev/kfd ioctl over \
a command ring, the device checks it against an allowlist, rewrites its \
guest pointers and runs it in that program's context of the backend, on \
bounded worker threads.  GPU memory reaches the guest through a window BAR \
made once, with zero-copy mappings that never change the memory topology.

Two backends: 'host' opens a secondary KFD context per guest program \
(AMDKFD_IOC_CREATE_PROCESS, Linux 7.0) and refuses kernels without it; \
'sim' is a software model of KFD 1.19 (hw/misc/amdkfd-mc/sim/) with its own \
GPU VMs, events and an SDMA-style engine, so that the device is tested \
without a GPU.  Everything a guest can make the device hold is bounded; \
the device blocks migration." \
	hw/misc include/hw/misc meson.build MAINTAINERS

copy tests/unit
maintain 'tests/unit/test-amdkfd-mc-*'
commit "tests/unit: test amdkfd-mc's KFD model and window allocator" \
"The KFD software model of the sim backend and the range allocator of the \
window BAR are libraries of their own, so these tests link them without \
the device." \
	tests/unit MAINTAINERS

copy 'tests/qtest/amdkfd-mc-*'
maintain 'tests/qtest/amdkfd-mc-*'
commit "tests/qtest: add amdkfd-mc qtests" \
"A small driver of the guest ABI (amdkfd-mc-harness.c) and the tests on \
top of it: isolation between guest contexts, each also against the \
legacy-shared mode that lacks it, malformed commands and payloads, the \
limits, window and worker behaviour, guest memory, QMP, hotplug and \
reset." \
	'tests/qtest/amdkfd-mc-*' tests/qtest/meson.build MAINTAINERS

copy 'tests/qtest/fuzz/amdkfd_mc_fuzz*'
maintain 'tests/qtest/fuzz/amdkfd_mc_fuzz*'
commit "tests/qtest/fuzz: add amdkfd-mc fuzz targets" \
"amdkfd-mc-cmd builds well-formed command sequences from the input and \
checks the device's invariants after each; the generic-fuzz configurations \
cover the default, legacy-shared and small-window devices." \
	tests/qtest/fuzz MAINTAINERS

copy docs/specs/amdkfd-mc.rst 'docs/system/devices/amdkfd-mc*'
maintain docs/specs/amdkfd-mc.rst 'docs/system/devices/amdkfd-mc*'
commit "docs: describe amdkfd-mc, its guest ABI and its use on a GPU host" \
"The guest ABI specification (registers, rings, commands, the window, \
limits), the provisional PCI ID, and the user guides of the device and \
of its host backend on a real AMD GPU." \
	docs MAINTAINERS

rm -rf "$out"
g format-patch -q --cover-letter --subject-prefix=PATCH -o "$out" base..HEAD
# The cover letter's subject and blurb
sed -i -e "s/\*\*\* SUBJECT HERE \*\*\*/hw\/misc: amdkfd-mc, isolated KFD contexts for guest programs/" \
	-e "s/\*\*\* BLURB HERE \*\*\*/A paravirtual PCI device that gives every program in a guest its own\nKFD context on the host (AMDKFD_IOC_CREATE_PROCESS, Linux 7.0), and a\nsoftware model of KFD so that it is tested without a GPU.  Based on\nQEMU $version.\n\nThe guest driver, the Linux patches and the VM tests that the user\nguides name (guest\/linux\/, kernel-patches\/, tests\/vm\/) live in the\namdkfd-mc project and are not part of this series./" \
	"$out"/0000-cover-letter.patch

# checkpatch of the tree the series is for, on each patch
fail=0
for p in "$out"/[0-9]*.patch; do
	case $(basename "$p") in 0000-*) continue ;; esac
	res=$(cd "$tree" && perl scripts/checkpatch.pl "$p" 2>&1) || true
	total=$(echo "$res" | grep -E '^total: ' | tail -n 1)
	echo "checkpatch $(basename "$p"): $total"
	case $total in
	"total: 0 errors, 0 warnings"*) ;;
	*)
		echo "$res" | grep -A4 -E '^(ERROR|WARNING)' | sed 's/^/  /'
		fail=1
		;;
	esac
done
echo "upstream-series: $(find "$out" -name '*.patch' | wc -l) files in $out"
exit $fail
