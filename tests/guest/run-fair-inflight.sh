#!/bin/sh
# Guest test, as unprivileged users: kfd-fair inflight (see kfd-fair.c).
chmod 0666 /dev/kfd
exec /tests/kfd-fair inflight
