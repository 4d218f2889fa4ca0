#!/bin/sh
# Guest test: the libhsakmt client (installed as /tests/run-hsakmt.sh)
mkdir -p /dev/shm
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
LD_LIBRARY_PATH=/lib /tests/hsakmt-client
rc=$?
if [ $rc -ne 0 ] || grep -q dyndbg /proc/cmdline; then
	dmesg | grep amdkfd_mc | tail -n 60
fi
exit $rc
