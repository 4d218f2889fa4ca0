#!/bin/sh
# Guest test, as unprivileged users: kfd-fair share (see kfd-fair.c).
chmod 0666 /dev/kfd
exec /tests/kfd-fair share
