#!/bin/sh
# Guest test: once every program of the tests before this one has exited,
# the driver holds no file, process share, mapping or request any more
# (its debugfs "live" counters), and the device no context.
live=/sys/kernel/debug/amdkfd_mc/live
t=0
while [ $t -lt 50 ]; do
	l=$(cat $live)
	[ "$l" = "files=0 procs=0 maps=0 reqs=0 uptrs=0 pinned=0 leaked=0" ] && break
	sleep 0.1
	t=$((t + 1))
done
echo "leaks: $l"
cat /sys/kernel/debug/amdkfd_mc/contexts /sys/kernel/debug/amdkfd_mc/procs
[ "$l" = "files=0 procs=0 maps=0 reqs=0 uptrs=0 pinned=0 leaked=0" ]
