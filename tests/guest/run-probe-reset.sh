#!/bin/sh
# Guest test: the driver resets the device at probe.  User space leaves
# the device enabled with every context taken (as a kernel that kexec'ed
# into this one could), then binds the driver: /dev/kfd must work.
fail=0
drv=/sys/bus/pci/drivers/amdkfd_mc
bdf=$(basename "$(ls -d $drv/0000:* | head -n 1)")
echo "$bdf" > $drv/unbind
kfd-regs leave "$bdf" || fail=1
t=0
while [ ! -e /dev/kfd ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
dmesg | grep amdkfd_mc | tail -n 2
kfd-lifetime use || fail=1
exit $fail
