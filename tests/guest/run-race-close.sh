#!/bin/sh
# Guest test, as unprivileged users: render-node mmap() racing close() of the /dev/kfd file (race b).
# /dev/kfd is world-accessible as ROCm's udev rules make it.
chmod 0666 /dev/kfd
exec /tests/kfd-race close
