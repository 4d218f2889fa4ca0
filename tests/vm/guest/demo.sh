#!/bin/sh
# make demo: boot the guest (sim backend) and run three guest programs:
# alice and bob keep a secret in GPU memory, mallory tries to read both
# through GPU DMA.  First with isolated contexts (the attack faults), then
# with legacy-shared=on, which behaves like a pre-7.0 host kernel (one KFD
# process for the whole VM): there the attack reads the secrets.
set -eu
. "$(dirname "$0")/common.sh"

t0=$(now)
build_guest
fail=0
for mode in isolated legacy; do
	opts=
	[ "$mode" = legacy ] && opts=",legacy-shared=on"
	log=$GUEST_BUILD/demo-$mode.log
	echo
	echo "=== -device amdkfd-mc,backend=sim$opts ==="
	t1=$(now)
	if ! boot "$log" "$opts" demo 120; then
		echo "demo: the VM did not finish; see $log"
		fail=1
		continue
	fi
	tr -d '\r' < "$log" | sed -n 's/^demo: //p' | grep -v '^RESULT' | sed 's/^/  /'
	res=$(tr -d '\r' < "$log" | sed -n 's/^demo: RESULT //p')
	echo "  => $res   (VM boot to result: $(elapsed "$t1") s)"
	case "$mode:$res" in
	isolated:"attack faulted"*) ;;
	legacy:*STOLEN*) ;;
	*) echo "  (unexpected for $mode mode)"; fail=1 ;;
	esac
done
echo
if [ "$fail" -eq 0 ]; then
	echo "demo: each program got its own host KFD context and mallory's DMA faulted;"
	echo "demo: with one shared context (legacy-shared=on) the same DMA read both secrets."
fi
echo "demo: done in $(elapsed "$t0") s"
exit "$fail"
