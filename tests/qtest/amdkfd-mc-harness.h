/*
 * QTest harness for amdkfd-mc: a minimal guest driver that programs the
 * rings and submits commands the way the guest ABI describes them.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef AMDKFD_MC_HARNESS_H
#define AMDKFD_MC_HARNESS_H

#include "qemu/bswap.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci.h"
#include "hw/misc/amdkfd-mc-abi.h"
#include "hw/misc/amdkfd-mc-kfd.h"
#include "hw/misc/amdkfd-mc/sim/sim-kfd.h"

#define AKMC_DEFAULT_ENTRIES 64

typedef struct AkmcDev {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *pdev;
    QPCIBar regs;
    QPCIBar window;
    uint64_t window_size;
    uint64_t sq;
    uint64_t cq;
    uint64_t payload;           /* AMDKFD_MC_MAX_PAYLOAD bytes of scratch */
    uint64_t reply;             /* 64 bytes for OP_MAP_WINDOW replies */
    uint32_t entries;
    uint32_t sq_tail;
    uint32_t cq_head;
    bool phase;
    uint64_t next_cookie;
} AkmcDev;

/* Boot q35 with "-device amdkfd-mc,id=kfd,backend=sim<opts>" and attach */
AkmcDev *akmc_start(const char *opts);
/* Boot a machine with these arguments; attach to a device later */
AkmcDev *akmc_boot(const char *args);
/* Find the device on the bus, map its BARs, enable MSI-X */
void akmc_attach(AkmcDev *d);
/* Forget the device (after it was unplugged) */
void akmc_detach(AkmcDev *d);
void akmc_stop(AkmcDev *d);

/* akmc_start() with rings of the default size enabled */
AkmcDev *akmc_start_ready(const char *opts);
/* The device must still answer after whatever a test did to it */
void akmc_assert_alive(AkmcDev *d);
/* Create @n contexts, asserting success */
void akmc_create_some(AkmcDev *d, uint32_t *id, int n);

uint32_t akmc_readl(AkmcDev *d, uint32_t reg);
void akmc_writel(AkmcDev *d, uint32_t reg, uint32_t val);

/* Program and enable rings of @entries; returns the STATUS register */
uint32_t akmc_ring_setup(AkmcDev *d, uint32_t entries);

/* Submit one command and wait for its completion */
uint32_t akmc_exec(AkmcDev *d, struct amdkfd_mc_cmd *cmd,
                   struct amdkfd_mc_cpl *cpl);

uint32_t akmc_device_info(AkmcDev *d, struct amdkfd_mc_device_info *info);
uint32_t akmc_ctx_create(AkmcDev *d, uint32_t *id,
                         struct amdkfd_mc_context_info *info);
uint32_t akmc_ctx_destroy(AkmcDev *d, uint32_t id);
/* Forward a KFD ioctl; @arg is copied in and back out through the payload */
uint32_t akmc_ioctl(AkmcDev *d, uint32_t ctx, uint32_t request, void *arg,
                    uint32_t size, int32_t *result);
/* The same with a payload longer than the argument (embedded arrays) */
uint32_t akmc_ioctl_buf(AkmcDev *d, uint32_t ctx, uint32_t request,
                        void *buf, uint32_t len, int32_t *result);

/* Submit without waiting; returns the cookie.  Poll with akmc_next_cpl. */
uint64_t akmc_submit_cmd(AkmcDev *d, struct amdkfd_mc_cmd *cmd);
bool akmc_next_cpl(AkmcDev *d, struct amdkfd_mc_cpl *cpl, int64_t timeout_us);
/* @n (< entries) commands with one doorbell; cookies are filled in */
void akmc_submit_batch(AkmcDev *d, struct amdkfd_mc_cmd *cmds, uint32_t n);
/* The next @n completions, in the order the device posted them */
bool akmc_next_cpls(AkmcDev *d, struct amdkfd_mc_cpl *cpls, uint32_t n,
                    int64_t timeout_us);

/* OP_MAP_WINDOW; @map_id may be NULL */
uint32_t akmc_map_window(AkmcDev *d, uint32_t ctx, uint64_t mmap_offset,
                         uint64_t size, uint64_t *win_offset,
                         uint64_t *map_id, int32_t *result);
uint32_t akmc_unmap_window(AkmcDev *d, uint32_t ctx, uint64_t map_id);
uint32_t akmc_topology(AkmcDev *d, struct amdkfd_mc_topology_node *nodes,
                       uint32_t max, uint32_t *n);

/* Read-only QOM properties of the device (its id is "kfd") */
/* A numeric QOM property of the object at @path */
uint64_t akmc_qom_path_get_uint(AkmcDev *d, const char *path,
                                const char *prop);
uint64_t akmc_qom_get_uint(AkmcDev *d, const char *prop);
/* Open fds of QEMU, and its mappings of the sim's memory */
int akmc_count_fds(QTestState *qts);
int akmc_count_sim_maps(QTestState *qts);
/* Wait (up to 5 s) until at most @baseline such mappings are left */
bool akmc_sim_maps_back_to(QTestState *qts, int baseline);
/* Wait until the backend holds @n contexts; false on timeout */
bool akmc_wait_backend_contexts(AkmcDev *d, uint64_t n);

/*
 * A guest program's view: one context with its GPU acquired, and helpers
 * that assert success, for the isolation tests.
 */
typedef struct AkmcProc {
    AkmcDev *d;
    uint32_t ctx;
    uint32_t gpu_id;
} AkmcProc;

typedef struct AkmcBuf {
    uint64_t va;
    uint64_t size;
    uint64_t handle;
    uint64_t mmap_offset;
    uint64_t win;               /* window offset, if mapped */
    uint64_t map_id;            /* and its mapping */
} AkmcBuf;

/* AQL rings of the harness: packets */
#define AKMC_AQL_SLOTS      64

typedef struct AkmcQueue {
    AkmcBuf ring;
    AkmcBuf ptrs;               /* rptr at 0, wptr at 8 */
    uint32_t id;
    uint64_t doorbell;
    uint64_t doorbell_win;      /* window offset of the doorbell's page */
    uint64_t doorbell_map_id;
    uint64_t wptr;
} AkmcQueue;

/* An AQL queue as ROCr makes one: ring at va, amd_queue_t at va + 64 KiB */
typedef struct AkmcAqlQueue {
    AkmcBuf ring;
    AkmcBuf amdq;
    uint32_t id;
    uint64_t doorbell;
    uint64_t doorbell_win;
    uint64_t doorbell_map_id;
    uint64_t widx;              /* the next packet's index */
} AkmcAqlQueue;

void akmc_proc_open(AkmcDev *d, AkmcProc *p);
/* Allocate GTT memory at @va, map it to the GPU and into the window */
void akmc_buf_new(AkmcProc *p, uint64_t va, uint64_t size, AkmcBuf *b);
/* The same without the window mapping (win is UINT64_MAX) */
void akmc_buf_new_unmapped(AkmcProc *p, uint64_t va, uint64_t size,
                           AkmcBuf *b);
/* Unmap from the GPU and free; returns FREE_MEMORY_OF_GPU's result */
int32_t akmc_buf_free(AkmcProc *p, AkmcBuf *b);
int32_t akmc_handle_free(AkmcProc *p, uint64_t handle);
void akmc_buf_write(AkmcProc *p, AkmcBuf *b, uint64_t off, const void *data,
                    size_t len);
void akmc_buf_read(AkmcProc *p, AkmcBuf *b, uint64_t off, void *data,
                   size_t len);
/* An SDMA queue with its ring and pointers at @va and @va + 64 KiB */
void akmc_queue_new(AkmcProc *p, uint64_t va, AkmcQueue *q);
/* The same with a ring of @ring_size (at most 64 KiB) */
void akmc_queue_new_sized(AkmcProc *p, uint64_t va, uint32_t ring_size,
                          AkmcQueue *q);
/*
 * A queue at @va (and 48 MiB after it) whose 1 MiB ring is full of 4 MiB
 * copies: 37448 of them, many seconds of work for the sim's engine once
 * rung (it stops between two when the context is destroyed)
 */
void akmc_queue_busy(AkmcProc *p, uint64_t va, AkmcQueue *q);
/* SDMA v4 packets (formats: sim-kfd.h) */
void akmc_queue_emit(AkmcProc *p, AkmcQueue *q, const uint32_t *dw,
                     unsigned n);
/* COPY_LINEAR packets of at most 4 MiB each */
void akmc_queue_copy(AkmcProc *p, AkmcQueue *q, uint64_t src, uint64_t dst,
                     uint64_t len);
void akmc_queue_fence(AkmcProc *p, AkmcQueue *q, uint64_t va, uint32_t val);
void akmc_queue_trap(AkmcProc *p, AkmcQueue *q, uint32_t int_context);
void akmc_queue_hdp_flush(AkmcProc *p, AkmcQueue *q);
/* POLL_REGMEM of the 32 bits at @va until they equal @ref */
void akmc_queue_poll_eq(AkmcProc *p, AkmcQueue *q, uint64_t va, uint32_t ref);
/* ATOMIC ADD_RTN_64 (ROCr's signal decrement with @add = -1) */
void akmc_queue_atomic_add64(AkmcProc *p, AkmcQueue *q, uint64_t va,
                             int64_t add);
/*
 * Write the new write pointer to the doorbell through the window, then
 * wait until the engine, which runs in a worker, is done with it
 */
void akmc_queue_kick(AkmcProc *p, AkmcQueue *q);
/* Only the doorbell write */
void akmc_queue_ring(AkmcProc *p, AkmcQueue *q);
uint64_t akmc_queue_rptr(AkmcProc *p, AkmcQueue *q);

/* AQL queues of AKMC_AQL_SLOTS packets; the doorbell goes through the window */
void akmc_aql_new(AkmcProc *p, uint64_t va, AkmcAqlQueue *q);
/* The next packet, header last; @deps (5 handles) may be NULL */
void akmc_aql_packet(AkmcProc *p, AkmcAqlQueue *q, uint16_t header,
                     const uint64_t *deps, uint64_t completion);
/* Doorbell with the last packet's index; kick also waits for the engine */
void akmc_aql_ring(AkmcProc *p, AkmcAqlQueue *q);
void akmc_aql_kick(AkmcProc *p, AkmcAqlQueue *q);
uint64_t akmc_aql_rptr(AkmcProc *p, AkmcAqlQueue *q);
uint16_t akmc_aql_header(AkmcProc *p, AkmcAqlQueue *q, uint64_t idx);
/* An amd_signal_t at @off of @b */
void akmc_signal_init(AkmcProc *p, AkmcBuf *b, uint64_t off, int64_t value,
                      uint64_t mailbox, uint32_t event_id);
int64_t akmc_signal_value(AkmcProc *p, AkmcBuf *b, uint64_t off);

int32_t akmc_event_create(AkmcProc *p, uint32_t type, uint32_t *id);
/*
 * A signal event whose event page is a new GTT buffer at @va (mapped to
 * the GPU and the window), as ROCr makes its first event on a dGPU
 */
int32_t akmc_event_create_on_page(AkmcProc *p, uint64_t va, AkmcBuf *page,
                                  uint32_t *id);
int32_t akmc_event_op(AkmcProc *p, uint32_t request, uint32_t id);
/*
 * The argument of a WAIT_EVENTS on one event, as the device expects it:
 * the event record follows the argument, events_ptr is its offset.
 */
typedef struct AkmcWait {
    struct kfd_ioctl_wait_events_args a;
    struct kfd_event_data ev;
} AkmcWait;

/*
 * Submit a WAIT_EVENTS of @ctx on @id in the background, its payload at
 * @payload_offset of the harness's scratch; returns the cookie.
 */
uint64_t akmc_wait_async(AkmcDev *d, uint32_t ctx, uint32_t id,
                         uint32_t timeout_ms, uint32_t payload_offset);
/* Read back that payload after its completion */
void akmc_wait_result(AkmcDev *d, uint32_t payload_offset, AkmcWait *w);

/*
 * OP_ALLOC_GUEST_MEMORY of @size bytes at GPU address @va made of the @n
 * guest-physical @ranges; returns the status, the KFD's result in
 * *result and the handle in *handle
 */
uint32_t akmc_guest_alloc(AkmcProc *p, uint64_t va, uint64_t size,
                          const struct amdkfd_mc_guest_range *ranges,
                          uint32_t n, uint64_t *handle, int32_t *result);

/* MAP_MEMORY_TO_GPU of @handle on the process's GPU; the KFD's result */
int32_t akmc_handle_map_gpu(AkmcProc *p, uint64_t handle);

/* WAIT_EVENTS on one event; returns the result, *wait_result the KFD's */
int32_t akmc_event_wait(AkmcProc *p, uint32_t id, uint32_t timeout_ms,
                        uint32_t *wait_result, struct kfd_event_data *ev);

/*
 * Benchmarks: commands placed at SQ[sq_tail...] (wrapping) without ringing;
 * then ring for the @n after sq_tail, busy-poll until the last of their
 * completions is visible (synchronous commands complete in order) and
 * consume them, copied to @cpls if not NULL.  akmc_ring_run() returns the
 * nanoseconds from the doorbell to the last completion seen.
 */
void akmc_ring_put(AkmcDev *d, const struct amdkfd_mc_cmd *cmds, uint32_t n);
bool akmc_cpl_ready(AkmcDev *d, uint32_t i);
int64_t akmc_ring_run(AkmcDev *d, uint32_t n, struct amdkfd_mc_cpl *cpls);

/* QEMU's resident memory; whether it runs with AddressSanitizer */
uint64_t akmc_qemu_rss(AkmcDev *d);
bool akmc_qemu_has_asan(AkmcDev *d);

#endif
