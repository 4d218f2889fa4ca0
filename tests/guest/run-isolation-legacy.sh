#!/bin/sh
# Guest test, negative control: the same attacks on legacy-shared=on must
# be observed to succeed (kfd-isolation --legacy exits 0 when they do).
exec /tests/kfd-isolation -n 4 --legacy
