#!/bin/sh
# Guest test: device removal while a program holds mapped USERPTR memory
# and keeps registering more: removal destroys its context first and
# unpins its pages while the program still runs; nothing is leaked.
fail=0
live=/sys/kernel/debug/amdkfd_mc/live
rm -f /tmp/up.ready /tmp/up.go
/tests/kfd-userptr hold &
h=$!
t=0
while [ ! -e /tmp/up.ready ] && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
echo "userptr-remove: before: $(cat $live)"
bdf=$(basename "$(ls -d /sys/bus/pci/drivers/amdkfd_mc/0000:* | head -n 1)")
echo 1 > "/sys/bus/pci/devices/$bdf/remove"
# (a registration that was being pinned when it happened unpins itself)
t=0
while [ $t -lt 20 ]; do
	l=$(cat $live)
	case $l in *" pinned=0 leaked=0"*) break ;; esac
	sleep 0.1
	t=$((t + 1))
done
echo "userptr-remove: removed, program still running: $l"
case $l in
*" pinned=0 leaked=0"*) echo "userptr-remove: unpinned at removal: ok" ;;
*) echo "userptr-remove: unpinned at removal: FAIL"; fail=1 ;;
esac
touch /tmp/up.go
wait $h || fail=1
echo 1 > /sys/bus/pci/rescan
t=0
while [ ! -e /dev/kfd ] && [ $t -lt 50 ]; do sleep 0.1; t=$((t + 1)); done
/tests/run-leaks.sh || fail=1
exit $fail
