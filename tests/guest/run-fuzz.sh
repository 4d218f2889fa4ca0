#!/bin/sh
# Guest test, as an unprivileged user: kfd-fuzz, random ioctls, sizes,
# counts and mmap offsets on /dev/kfd for at most 60 s (see kfd-fuzz.c);
# then the driver must have let go of everything and the kernel log must
# hold no warning (the VM's init checks the log again at the end).
# /dev/kfd is world-accessible as ROCm's udev rules make it.
chmod 0666 /dev/kfd
bad='BUG:|BUG [^ ]+ \(|WARNING:|Oops|general protection|amdkfd_mc.*(error|invalid)'
before=$(dmesg | grep -c -E "$bad")
/tests/kfd-fuzz -n 20000 -t 60 || exit 1
live=/sys/kernel/debug/amdkfd_mc/live
# every counter of the driver's live line is 0
idle() {
	case " $1" in
	*=[1-9]* | *=-*) return 1 ;;
	esac
	[ -n "$1" ]
}
t=0
while [ $t -lt 50 ]; do
	l=$(cat $live)
	idle "$l" && break
	sleep 0.1
	t=$((t + 1))
done
echo "fuzz: $l"
after=$(dmesg | grep -c -E "$bad")
if [ "$after" != "$before" ]; then
	dmesg | grep -A 20 -E "$bad" | tail -n 40
	exit 1
fi
idle "$l"
