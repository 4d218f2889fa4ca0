#!/bin/sh
# Build a qtest client program (one C file using the qtest harness
# tests/qtest/amdkfd-mc-harness.c and the sim model) against a built QEMU
# tree, with the compiler flags and objects QEMU's own build uses for
# amdkfd-mc-test.  Used by make bench and make check-host.
#
#   build-qtest-client.sh QEMU_BUILD OUT_DIR SOURCE.c
#
# Needs a tree where `make qemu` has built tests/qtest/amdkfd-mc-test and
# tests/unit/test-amdkfd-mc-sim (it builds both).  Prints the program's
# path.  Rebuilds only when a source is newer than the program.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
qb=$(cd "$1" && pwd)
out=$2
src=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
name=$(basename "$src" .c)
mkdir -p "$out"
out=$(cd "$out" && pwd)
prog=$out/$name

for f in "$qb/compile_commands.json" "$qb/build.ninja" \
	"$qb/hw/misc/amdkfd-mc/libamdkfd-mc-sim.a" \
	"$qb/tests/qtest/amdkfd-mc-test"; do
	[ -e "$f" ] || {
		echo "build-qtest-client: $f is missing (run make qemu)" >&2
		exit 1
	}
done

srcs="$src $top/tests/qtest/amdkfd-mc-harness.c
$top/tests/qtest/amdkfd-mc-harness.h $top/hw/misc/amdkfd-mc/sim/sim-kfd.h
$top/include/hw/misc/amdkfd-mc-abi.h $qb/hw/misc/amdkfd-mc/libamdkfd-mc-sim.a
$qb/tests/qtest/amdkfd-mc-test $here/build-qtest-client.sh"
stale=0
[ -x "$prog" ] || stale=1
for s in $srcs; do
	[ "$s" -nt "$prog" ] && stale=1
done
if [ $stale = 0 ]; then
	echo "$prog"
	exit 0
fi

python3 - "$qb" "$top" "$out" "$src" "$name" <<'EOF'
import json, os, shlex, subprocess, sys

qb, top, out, src, name = sys.argv[1:6]

def strip(args):
    """Drop output, dependency and source arguments of a compile command"""
    res, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ('-o', '-MQ', '-MF', '-c'):
            skip = True
            continue
        if a in ('-MD',):
            continue
        res.append(a)
    return res

cc = json.load(open(os.path.join(qb, 'compile_commands.json')))
cmd = next(e for e in cc if e['file'].endswith('amdkfd-mc-harness.c'))
args = shlex.split(cmd['command'])
base = strip(args[:-1]) + ['-I' + os.path.join(top, 'hw/misc/amdkfd-mc'),
                           '-I' + os.path.join(top, 'hw/misc/amdkfd-mc/sim')]

objs = []
for obj, c in ((name + '.o', src),
               ('harness.o', os.path.join(top, 'tests/qtest/amdkfd-mc-harness.c'))):
    o = os.path.join(out, obj)
    subprocess.run(base + ['-o', o, '-c', c], cwd=qb, check=True)
    objs.append(o)

# The link line of amdkfd-mc-test, without its own objects
lines = open(os.path.join(qb, 'build.ninja')).read().split('\n')
for i, l in enumerate(lines):
    if l.startswith('build tests/qtest/amdkfd-mc-test: c_LINKER '):
        inputs = l.split(' c_LINKER ', 1)[1].split(' | ')[0].split()
        link_args = None
        for l2 in lines[i + 1:i + 6]:
            if l2.strip().startswith('LINK_ARGS = '):
                link_args = shlex.split(l2.split('=', 1)[1])
        break
else:
    sys.exit('build-qtest-client: no link rule for amdkfd-mc-test')
inputs = [x for x in inputs if not x.startswith('tests/qtest/amdkfd-mc-test.p/')]
sim = 'hw/misc/amdkfd-mc/libamdkfd-mc-sim.a'
idx = link_args.index('-Wl,--start-group') + 1
link_args[idx:idx] = [sim]
subprocess.run(['cc', '-m64', '-o', os.path.join(out, name)] +
               objs + inputs + link_args, cwd=qb, check=True)
EOF
echo "$prog"
