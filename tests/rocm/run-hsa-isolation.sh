#!/bin/sh
# Guest test: alice and bob keep secrets in device memory; mallory, an
# HSA program on Debian's unmodified ROCr 5.2.3, copies from their GPU
# addresses by SDMA.  Isolated contexts: ROCr reports a GPU memory fault
# to mallory for each target, nothing is read, both secrets stay intact.
. /tests/rocm-guest.sh
rocm_secrets
cat /tmp/rocm-attack.err
n=$(grep -c 'ROCr reported a GPU memory fault in my own process' /tmp/rocm-attack.log)
echo "hsa-isolation: attacker exit $attack_rc (0: every copy faulted, nothing read), $n faults reported, owners $owners_rc"
[ $attack_rc -eq 0 ] && [ $owners_rc -eq 0 ] && [ "$n" -eq 2 ] &&
	[ ! -s /tmp/rocm-attack.err ]
