#!/bin/busybox sh
# /init of the amdkfd-mc guest test initramfs.
#
# Kernel command line:
#   akmc.run=T1,T2,...   guest tests to run, each /tests/run-T.sh
#   akmc.pause=1         after the tests, print "@@AKMC-PAUSE" and wait up
#                        to 30 s (the host reads the device's counters over
#                        QMP, then quits QEMU)
# Prints one "@@AKMC-RESULT NAME PASS|FAIL rc=N t=SECONDS" line per test and
# "@@AKMC-END" at the end, then powers the VM off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
export PATH=/bin:/tests LD_LIBRARY_PATH=/lib
up() { cut -d' ' -f1 /proc/uptime; }
echo "akmc-vm: $(uname -r) up $(up)s"
# The kernel's modules the driver needs (drm and its own), in load order
while read -r m; do
	insmod "/modules/$m" || echo "akmc-vm: insmod $m failed"
done < /modules/order
insmod /amdgpu.ko $(sed -n "s/.*akmc.insmod=\([^ ]*\).*/\1/p" /proc/cmdline | tr "," " ") || echo "akmc-vm: insmod amdgpu.ko failed"
t=0
while [ ! -e /dev/kfd ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
echo "akmc-vm: driver loaded, up $(up)s"
dmesg | grep -i amdkfd_mc | tail -n 3
run=$(sed -n 's/.*akmc\.run=\([^ ]*\).*/\1/p' /proc/cmdline)
for t in $(echo "$run" | tr ',' ' '); do
	echo "@@AKMC-BEGIN $t"
	s=$(up)
	if [ -x "/tests/run-$t.sh" ]; then
		"/tests/run-$t.sh"
		rc=$?
	else
		echo "akmc-vm: no test $t"
		rc=127
	fi
	e=$(up)
	res=PASS
	[ $rc -eq 0 ] || res=FAIL
	echo "@@AKMC-RESULT $t $res rc=$rc t=$(awk "BEGIN { print $e - $s }") up=$e"
done
# Oopses, warnings, slab corruption (slub_debug), list corruption and hung
# tasks fail the run; RCU stalls (a starved host CPU under TCG) are noted.
bad='BUG:|BUG [^ ]+ \(|WARNING:|Oops|general protection|Poison overwritten|corruption|blocked for more than'
if dmesg | grep -q -E "$bad"; then
	echo "@@AKMC-RESULT kernel-log FAIL rc=1 t=0 up=$(up)"
	dmesg | grep -A 20 -E "$bad" | head -n 60
fi
if dmesg | grep -q 'rcu.*stall'; then
	echo "@@AKMC-NOTE rcu-stall $(dmesg | grep -c 'rcu.*stall')"
fi
echo "@@AKMC-END up=$(up)"
sync
# The host reads the device's counters and quits QEMU (qmp-watch.py)
if grep -q 'akmc\.pause=1' /proc/cmdline; then
	echo "@@AKMC-PAUSE"
	sleep 30
fi
poweroff -f
