#!/bin/sh
# Guest test: module unload and device removal with files still open.
fail=0
ok() { echo "lifetime: $*: ok"; }
bad() { echo "lifetime: $*: FAIL"; fail=1; }
rm -f /tmp/lt.*
kfd-lifetime hold &
h=$!
t=0
while [ ! -e /tmp/lt.ready ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
if rmmod amdgpu 2>/dev/null; then
	bad "rmmod refused while /dev/kfd is open"
else
	ok "rmmod refused while /dev/kfd is open"
fi
bdf=$(basename "$(ls -d /sys/bus/pci/drivers/amdkfd_mc/0000:* | head -n 1)")
echo 1 > "/sys/bus/pci/devices/$bdf/remove" && ok "device $bdf removed with a file and a mapping open"
touch /tmp/lt.go
wait $h || bad "the holder saw what it expected"
if [ -e /dev/kfd ]; then
	bad "/dev/kfd gone after removal"
else
	ok "/dev/kfd gone after removal"
fi
rmmod amdgpu && ok "rmmod after the last close" || bad "rmmod after the last close"
echo 1 > /sys/bus/pci/rescan
insmod /amdgpu.ko && ok "insmod again" || bad "insmod again"
t=0
while [ ! -e /dev/kfd ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
kfd-lifetime use || fail=1

# Removal while threads keep the driver busy (ioctls with DMA payloads,
# mmap cycles, an endless wait, opens): every thread must end, no oops.
kfd-lifetime storm &
s=$!
t=0
while [ ! -e /tmp/lt.storm ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
bdf=$(basename "$(ls -d /sys/bus/pci/drivers/amdkfd_mc/0000:* | head -n 1)")
echo 1 > "/sys/bus/pci/devices/$bdf/remove" && ok "device removed under load"
wait $s && ok "every thread ended after the removal" || bad "every thread ended after the removal"
echo 1 > /sys/bus/pci/rescan
t=0
while [ ! -e /dev/kfd ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
kfd-lifetime use || fail=1
/tests/run-leaks.sh || bad "nothing left behind"
exit $fail
