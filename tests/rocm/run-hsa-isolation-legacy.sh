#!/bin/sh
# Guest test, on legacy-shared=on (one KFD context for every program, as
# a hypervisor on a pre-7.0 host kernel): the same unmodified-ROCr attack
# must read both secrets.  Passes when the breach is seen.
. /tests/rocm-guest.sh
rocm_secrets
cat /tmp/rocm-attack.err
echo "hsa-isolation-legacy: attacker exit $attack_rc (3: secrets read), owners $owners_rc"
[ $attack_rc -eq 3 ] || exit 1
for n in alice bob; do
	grep -q "READ $n's secret" /tmp/rocm-attack.log || exit 1
done
