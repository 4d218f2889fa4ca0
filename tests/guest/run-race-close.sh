#!/bin/sh
# Guest test, as unprivileged users: render-node mmap() racing close() of the /dev/kfd file (race b).
# /dev/kfd and the render nodes are world-accessible as ROCm's udev rules
# make them.
chmod 0666 /dev/kfd /dev/dri/renderD*
exec /tests/kfd-race close
