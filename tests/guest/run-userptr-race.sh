#!/bin/sh
# Guest test, as an unprivileged user: registrations racing munmap/remap
# of their range, FREE of guessed handles, an exit with threads inside the
# driver and a SIGKILL; then nothing may stay pinned.
chmod 0666 /dev/kfd
/tests/kfd-userptr -u 65534 race 2 || exit 1
live=/sys/kernel/debug/amdkfd_mc/live
t=0
while [ $t -lt 50 ] && ! grep -q ' uptrs=0 pinned=0 leaked=0' $live; do
	sleep 0.1
	t=$((t + 1))
done
echo "userptr-race: $(cat $live)"
grep -q ' uptrs=0 pinned=0 leaked=0' $live
