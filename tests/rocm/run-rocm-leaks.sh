#!/bin/sh
# Guest test: once the ROCm programs of the tests before this one have
# exited, every counter of the driver's debugfs "live" is 0 (files,
# process shares, mappings, requests, and the USERPTR allocations and
# pinned pages that ROCm's system memory made) and the device has no
# context left.
live=/sys/kernel/debug/amdkfd_mc/live
nonzero() {
	tr ' ' '\n' < $live | grep -v '=0$'
}
t=0
while [ $t -lt 100 ] && [ -n "$(nonzero)" ]; do
	sleep 0.1
	t=$((t + 1))
done
echo "rocm-leaks: $(cat $live)"
cat /sys/kernel/debug/amdkfd_mc/contexts /sys/kernel/debug/amdkfd_mc/procs
[ -n "$(cat $live)" ] && [ -z "$(nonzero)" ]
