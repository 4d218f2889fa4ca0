#!/bin/sh
# Guest test, as an unprivileged user: the per-process bound on pinned
# USERPTR pages (max_pinned_mb_per_process, lowered to 8 MiB for it).
chmod 0666 /dev/kfd
p=$(ls /sys/module/*/parameters/max_pinned_mb_per_process)
old=$(cat "$p")
echo 8 > "$p"
/tests/kfd-userptr -u 65534 limit 8
rc=$?
echo "$old" > "$p"
exit $rc
