#!/bin/sh
# Guest test: with USERPTR refused (the driver's userptr=0, the path of a
# device without FEATURES.GUEST_MEMORY) it fails with the KFD's errno.
p=$(ls /sys/module/*/parameters/userptr)
echo 0 > "$p"
/tests/kfd-userptr nofeature
rc=$?
echo 1 > "$p"
exit $rc
