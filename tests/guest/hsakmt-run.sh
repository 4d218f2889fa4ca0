#!/bin/sh
# Guest test: the libhsakmt client (installed as /tests/run-hsakmt.sh),
# with Debian's libhsakmt defaults (no HSA_* variable); libhsakmt and
# libdrm must print nothing on stderr (amdgpu_device_initialize succeeds).
mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
LD_LIBRARY_PATH=/lib /tests/hsakmt-client 2> /tmp/hsakmt.err
rc=$?
if [ -s /tmp/hsakmt.err ]; then
	echo "hsakmt: stderr (must be empty):"
	sed 's/^/    /' /tmp/hsakmt.err
	rc=1
fi
if [ $rc -ne 0 ] || grep -q dyndbg /proc/cmdline; then
	dmesg | grep amdkfd_mc | tail -n 60
fi
exit $rc
