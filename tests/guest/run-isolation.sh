#!/bin/sh
# Guest test: isolation of 4 concurrent /dev/kfd programs (isolated mode)
exec /tests/kfd-isolation -n 4
