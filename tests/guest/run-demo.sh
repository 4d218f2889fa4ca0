#!/bin/sh
# Guest side of `make demo`: two programs keep a secret in GPU memory, a
# third tries to read both through GPU DMA.
rm -f /tmp/demo-*
kfd-demo owner alice 0x10000000 "alice: launch code 0451-7734" &
a=$!
kfd-demo owner bob 0x20000000 "bob: db password hunter2" &
b=$!
t=0
while { [ ! -e /tmp/demo-alice.ready ] || [ ! -e /tmp/demo-bob.ready ]; } &&
	[ $t -lt 300 ]; do
	sleep 0.1
	t=$((t + 1))
done
kfd-demo attack alice:0x10000000 bob:0x20000000
rc=$?
touch /tmp/demo-done
wait $a || rc=1
wait $b || rc=1
# 0: secrets safe, 3: secrets stolen; the host script judges per mode
[ $rc -eq 0 ] || [ $rc -eq 3 ]
