#!/bin/sh
# Guest test: GPU DMA into and out of a program's malloc'd memory
# registered as USERPTR, pinning and its accounting (kfd-userptr dma).
# check-guest runs the device with obj-max-guest-ranges=16, so that a
# fragmented buffer becomes at least 2 device objects behind one handle.
exec /tests/kfd-userptr dma 2
