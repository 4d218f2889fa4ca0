#!/usr/bin/env python3
"""Build a small initramfs that loads amdgpu (and its dependencies) into a
Debian kernel and runs the KFD conformance program once.

    mkinitramfs.py --moddir ROOT/lib/modules/KVER --busybox BUSYBOX
                   --prog kfd-conformance --out image.cpio.gz
                   [--amdgpu PATCHED.ko] [--extra TEST-ONLY.ko ...]
                   [--args "ARGUMENTS"]

Dependencies come from the "depends=" field of each module's .modinfo
(no depmod needed); Debian's modules are xz-compressed and are stored
decompressed, in load order. Without --amdgpu the distribution's own
amdgpu.ko is used (stock kernel: the negative control). --extra modules
are loaded after amdgpu (test-only helpers). --args are passed to the
program (e.g. --long).

The /init prints the program's output between the markers
@@KFD-CONFORMANCE-BEGIN@@ and @@KFD-CONFORMANCE-END rc=N@@ on the
serial console and powers the VM off.
"""
import argparse
import gzip
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "kfd-vm: $(uname -r) up $(cut -d' ' -f1 /proc/uptime)s, loading modules"
while read -r m args; do
	insmod "/modules/$m" $args || echo "kfd-vm: insmod $m failed"
done < /modules/order
t=0
while [ ! -e /dev/kfd ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
echo "kfd-vm: modules loaded, up $(cut -d' ' -f1 /proc/uptime)s"
echo "@@KFD-CONFORMANCE-BEGIN@@"
/kfd-conformance @ARGS@
rc=$?
echo "@@KFD-CONFORMANCE-END rc=$rc@@"
echo "kfd-vm: done, up $(cut -d' ' -f1 /proc/uptime)s"
dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection'
dmesg | grep -i -E 'kfd|amdgpu|taint' | tail -n 20
sync
poweroff -f
"""


def norm(name):
    return name.replace('-', '_')


def module_index(moddir):
    idx = {}
    for root, _, files in os.walk(os.path.join(moddir, 'kernel')):
        for f in files:
            m = re.match(r'(.+)\.ko(\.xz|\.zst|\.gz)?$', f)
            if m:
                idx[norm(m.group(1))] = os.path.join(root, f)
    return idx


def load_ko(path):
    with open(path, 'rb') as fh:
        data = fh.read()
    if path.endswith('.xz'):
        data = lzma.decompress(data)
    elif path.endswith('.gz'):
        data = gzip.decompress(data)
    elif path.endswith('.zst'):
        data = subprocess.run(['zstd', '-dc', path], check=True,
                              capture_output=True).stdout
    return data


def depends(data):
    m = re.search(rb'(?:^|\x00)depends=([^\x00]*)\x00', data)
    if not m or not m.group(1):
        return []
    return [norm(d) for d in m.group(1).decode().split(',') if d]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--moddir', required=True)
    ap.add_argument('--busybox', required=True)
    ap.add_argument('--prog', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--amdgpu')
    ap.add_argument('--extra', action='append', default=[])
    ap.add_argument('--args', default='')
    a = ap.parse_args()

    idx = module_index(a.moddir)
    if 'amdgpu' not in idx:
        sys.exit('mkinitramfs: no amdgpu module in %s' % a.moddir)
    blobs = {}
    order = []

    def visit(name, data=None, stack=()):
        if name in blobs or name in stack:
            return
        if data is None:
            if name not in idx:
                sys.exit('mkinitramfs: module %s (needed by %s) not found'
                         % (name, stack[-1] if stack else '?'))
            data = load_ko(idx[name])
        for d in depends(data):
            visit(d, None, stack + (name,))
        blobs[name] = data
        order.append(name)

    amdgpu = None
    if a.amdgpu:
        with open(a.amdgpu, 'rb') as fh:
            amdgpu = fh.read()
    visit('amdgpu', amdgpu)
    for e in a.extra:
        with open(e, 'rb') as fh:
            data = fh.read()
        n = norm(os.path.basename(e)[:-3])
        visit(n, data)

    tmp = tempfile.mkdtemp(prefix='kfd-initramfs-')
    try:
        for d in ('bin', 'proc', 'sys', 'dev', 'modules', 'tmp'):
            os.makedirs(os.path.join(tmp, d))
        shutil.copy(a.busybox, os.path.join(tmp, 'bin/busybox'))
        shutil.copy(a.prog, os.path.join(tmp, 'kfd-conformance'))
        with open(os.path.join(tmp, 'init'), 'w') as fh:
            fh.write(INIT.replace('@ARGS@', a.args))
        for p in ('init', 'bin/busybox', 'kfd-conformance'):
            os.chmod(os.path.join(tmp, p), 0o755)
        with open(os.path.join(tmp, 'modules/order'), 'w') as fh:
            for n in order:
                with open(os.path.join(tmp, 'modules', n + '.ko'), 'wb') as mf:
                    mf.write(blobs[n])
                fh.write(n + '.ko\n')
        files = subprocess.run('find . | sort', shell=True, cwd=tmp,
                               check=True, capture_output=True).stdout
        cpio = subprocess.run(['cpio', '--quiet', '-o', '-H', 'newc',
                               '-R', '0:0'], cwd=tmp, input=files,
                              check=True, capture_output=True).stdout
        with open(a.out + '.tmp', 'wb') as fh:
            fh.write(gzip.compress(cpio, 6))
        os.rename(a.out + '.tmp', a.out)
        print('mkinitramfs: %s (%d modules: %s)' % (a.out, len(order),
                                                   ' '.join(order)),
              file=sys.stderr)
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    main()
