#!/bin/sh
# Guest test: the same attack with no fault handler of mallory's own, so
# ROCr's default VM-fault path runs in mallory's process: its
# "Memory access fault by GPU node-N ... on address ..." message on
# stderr for the target's page, then abort().
. /tests/rocm-guest.sh
rocm_secrets --rocr-abort
sed 's/^/  stderr: /' /tmp/rocm-attack.err
bad=0
[ $attack_rc -eq 0 ] && [ $owners_rc -eq 0 ] || bad=1
for n in alice bob; do
	va=$(cat /bookworm/tmp/rocm-$n.addr)
	page=$(printf '%x' $((va & ~0xfff)))
	if grep -q "^Memory access fault by GPU node-[0-9]* (Agent handle: 0x[0-9a-f]*) on address 0x$page" /tmp/rocm-attack.err; then
		echo "hsa-rocr-abort: ROCr reported the fault at $n's page 0x$page"
	else
		echo "hsa-rocr-abort: no ROCr fault message for $n's page 0x$page"
		bad=1
	fi
done
echo "hsa-rocr-abort: attacker exit $attack_rc, owners $owners_rc"
exit $bad
