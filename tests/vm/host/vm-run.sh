#!/bin/sh
# Runs inside the TCG VM of check-host.sh (packed as /kfd-conformance by
# tests/vm/kernel/mkinitramfs.py, whose /init prints our output between its
# markers).  /akmc/ holds QEMU, the qtest client and the mode file.
#
#   patched: tests/kfd on the KFD first (sanity and the direct figure), then
#            akmc-host-qtest patched and akmc-host-qtest bench
#   stock:   akmc-host-qtest stock (negative control)
up() { cut -d' ' -f1 /proc/uptime; }
mode=$(cat /akmc/mode)
export QTEST_QEMU_BINARY=/akmc/qemu-system-x86_64
export TMPDIR=/tmp
cd /tmp || exit 1
echo "akmc-vm: mode $mode, $(uname -r), up $(up)s"
rc=0
if [ "$mode" = patched ]; then
	/akmc/kfd-conformance --keep-loaded > /tmp/conf.out 2>&1
	crc=$?
	sed 's/^/CONF /' /tmp/conf.out
	echo "CONF-RC $crc"
	echo "akmc-vm: conformance done, up $(up)s"
	/akmc/akmc-host-qtest patched || rc=1
	echo "akmc-vm: host checks done, up $(up)s"
	/akmc/akmc-host-qtest bench "${AKMC_BENCH_CYCLES:-200}" || rc=1
	echo "akmc-vm: bench done, up $(up)s"
elif [ "$mode" = stock ]; then
	/akmc/akmc-host-qtest stock || rc=1
	echo "akmc-vm: control done, up $(up)s"
else	# development: any other mode of the client
	/akmc/akmc-host-qtest $mode || rc=1
fi
exit $rc
