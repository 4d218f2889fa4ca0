/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * amdkfd-mc guest driver: definitions shared by its source files
 *
 *   akmc_dev.c       PCI device, rings, command submission, module init
 *   akmc_file.c      /dev/kfd files, device contexts, per-process shares
 *   akmc_map.c       window mappings and their revocation
 *   akmc_ioctl.c     marshaling of KFD ioctls into OP_IOCTL payloads
 *   akmc_topology.c  the KFD topology in sysfs
 *   akmc_render.c    the DRM render node of each GPU node
 *   akmc_uptr.c      USERPTR memory: a program's own pages for the GPU
 *
 * Locking, outermost first: mmap_lock of a process, akmc_dev.files_lock,
 * akmc_file.maps_lock, akmc_dev.lock (a spinlock, innermost).  No path
 * takes files_lock while holding maps_lock.  USERPTR memory:
 * akmc_dev.uptr_rwsem, then akmc_uptr.op_lock, then akmc_file.uptr_lock
 * (also taken under files_lock); only op_lock is held while a command
 * waits.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */
#ifndef AKMC_H
#define AKMC_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/semaphore.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/* The guest ABI: the single definition shared with the device */
#include <hw/misc/amdkfd-mc-abi.h>
/* Differences between kernel versions: only there */
#include "akmc_compat.h"

#define AKMC_NAME		"amdkfd_mc"
/* How long control and teardown commands wait for their completion */
#define AKMC_CMD_TIMEOUT	(30 * HZ)

/* Module parameters (akmc_dev.c); see README.md */
extern unsigned int akmc_ring_entries;
extern unsigned int akmc_max_inflight_per_process;
extern unsigned int akmc_max_waits_per_process;
extern unsigned int akmc_max_contexts_per_process;
extern unsigned int akmc_max_pinned_mb;
extern unsigned int akmc_max_pinned_mb_per_process;
extern bool akmc_userptr;

struct akmc_topo;
struct akmc_req;
struct drm_device;

/*
 * Live objects of the driver, shown in debugfs (live): all return to 0
 * once nothing is open, which the guest tests check.
 */
enum akmc_live {
	AKMC_LIVE_FILES,
	AKMC_LIVE_PROCS,
	AKMC_LIVE_MAPS,
	AKMC_LIVE_REQS,
	AKMC_LIVE_UPTRS,
	AKMC_LIVE_NR,
};

extern atomic_t akmc_live[AKMC_LIVE_NR];
/* Pages pinned for USERPTR memory, and of those, pages given up for lost */
extern atomic_long_t akmc_pinned_pages;
extern atomic_long_t akmc_leaked_pages;

struct akmc_dev {
	struct pci_dev *pdev;		/* referenced until the last put */
	void __iomem *regs;
	resource_size_t win_base;
	resource_size_t win_size;

	/* Rings.  lock protects them, pending[], busy and dead */
	spinlock_t lock;
	struct amdkfd_mc_cmd *sq;
	dma_addr_t sq_dma;
	struct amdkfd_mc_cpl *cq;
	dma_addr_t cq_dma;
	u32 entries;
	u32 sq_tail;
	u32 cq_head;
	bool phase;
	u64 seq;
	struct akmc_req **pending;
	/*
	 * Commands in flight.  Each holds one pending[] entry until its
	 * completion, so neither ring can overflow.  Ordinary commands may
	 * use normal_slots of them; the rest are kept for teardown (UNMAP,
	 * DESTROY), so that releasing resources never waits behind commands
	 * that may block for ever (WAIT_EVENTS).
	 */
	u32 busy;
	u32 normal_slots;
	wait_queue_head_t slot_wq;
	/*
	 * Set once, under lock, when the device goes away: from then on no
	 * command is submitted, no DMA mapping is made and the registers
	 * are not touched.
	 */
	bool dead;
	int irq;

	struct amdkfd_mc_device_info info;
	u32 num_nodes;
	struct amdkfd_mc_topology_node nodes[AMDKFD_MC_MAX_NODES];
	/* The caches and io links of the nodes (their node fields checked) */
	u32 num_caches;
	struct amdkfd_mc_topology_cache *caches;
	u32 num_links;
	struct amdkfd_mc_topology_link *links;
	struct akmc_topo *topo;
	struct device *kfd_dev;
	/* The render node of each GPU node (akmc_render.c) */
	struct drm_device *drms[AMDKFD_MC_MAX_NODES];
	u32 render_minor[AMDKFD_MC_MAX_NODES];
	struct semaphore drm_sem;	/* AMDGPU_INFO queries in flight */

	/*
	 * files_lock protects files (every akmc_file whose context is not
	 * destroyed yet), procs and removing.
	 */
	struct mutex files_lock;
	struct list_head files;
	struct list_head procs;
	bool removing;

	/*
	 * USERPTR memory: pinning and DMA-mapping pages for a new object
	 * holds uptr_rwsem for reading until the object is registered with
	 * its file; removal sets uptr_gone under it for writing, so no page
	 * is mapped for the device after that.  destroying counts contexts
	 * whose OP_DESTROY_CONTEXT has not been answered yet (removal waits
	 * for them before it resets the device).
	 */
	struct rw_semaphore uptr_rwsem;
	bool uptr_gone;
	atomic_t destroying;
	wait_queue_head_t destroy_wq;

	struct kref kref;
};

/*
 * The fair share of one process (one mm, as the KFD counts processes):
 * how many contexts it has and how many commands it has in flight, with
 * WAIT_EVENTS (which may block for ever) counted apart, so that a
 * process whose threads all wait can still signal them.
 */
struct akmc_proc {
	struct list_head node;		/* dev->procs, under files_lock */
	struct mm_struct *mm;		/* the key; its files hold the mm */
	pid_t tgid;
	unsigned int users;		/* files, under files_lock */
	unsigned int contexts;		/* live contexts, under files_lock */
	atomic_t inflight;		/* commands other than waits */
	atomic_t waits;			/* WAIT_EVENTS */
	atomic_long_t pinned;		/* USERPTR pages */
	wait_queue_head_t wq;
	struct kref kref;		/* memory: users and requests */
};

/*
 * One open of /dev/kfd: one device context.  The context lives while it
 * has users: the open file and every mapping made through a render node
 * (which is not a mapping of this file, so it would not keep the file
 * open).  Mappings of /dev/kfd itself keep the file open, so by the time
 * the last user goes, no mapping of the context is left.
 */
struct akmc_file {
	struct akmc_dev *dev;		/* referenced */
	struct akmc_proc *proc;		/* one of proc->users */
	struct list_head node;		/* dev->files */
	struct list_head quiesce;	/* akmc_files_quiesce()'s list */
	struct mm_struct *mm;		/* the opener's, grabbed */
	pid_t tgid;
	u32 ctx_id;
	struct amdkfd_mc_context_info info;
	bool open;			/* not released; under files_lock */
	struct kref kref;		/* memory of this structure */

	/*
	 * maps_lock protects maps, nmaps, ctx_users and ctx_alive, and is
	 * held from OP_MAP_WINDOW to list insertion, in the fault handler
	 * while page table entries are inserted, and while revoking.
	 */
	struct mutex maps_lock;
	struct list_head maps;		/* struct akmc_map */
	unsigned int nmaps;
	unsigned int ctx_users;
	bool ctx_alive;			/* the device context exists */

	/*
	 * USERPTR memory (akmc_uptr.c).  uptr_lock protects uptrs (every
	 * object whose pages are pinned), uptr_xa (device handle of each of
	 * their device objects to the object) and uptr_dead (no new object:
	 * the context is being destroyed or the device removed).
	 */
	struct mutex uptr_lock;
	struct list_head uptrs;
	struct xarray uptr_xa;
	bool uptr_dead;
};

/* akmc_dev.c: devices and commands */
struct akmc_dev *akmc_dev_get(void);
void akmc_dev_put(struct akmc_dev *dev);

/* Flags of akmc_req_run() */
#define AKMC_RUN_KILLABLE	BIT(0)	/* a fatal signal abandons the wait */
#define AKMC_RUN_TEARDOWN	BIT(1)	/* frees resources: reserved slots */
#define AKMC_RUN_WAIT		BIT(2)	/* may block for ever (WAIT_EVENTS) */

struct akmc_req *akmc_req_new(struct akmc_dev *dev, u32 len);
void *akmc_req_payload(struct akmc_req *req);
const struct amdkfd_mc_cpl *akmc_req_cpl(struct akmc_req *req);
int akmc_req_run(struct akmc_req *req, struct akmc_proc *proc,
		 const struct amdkfd_mc_cmd *cmd, unsigned int flags);
bool akmc_req_submitted(struct akmc_req *req);
void akmc_req_set_late(struct akmc_req *req,
		       void (*late)(void *data, const struct amdkfd_mc_cpl *cpl,
				    int err),
		       void *data);
void akmc_req_put(struct akmc_req *req);
int akmc_cmd(struct akmc_dev *dev, struct akmc_proc *proc, u16 op, u32 ctx,
	     u64 arg1, u64 arg2, void *payload, u32 len,
	     struct amdkfd_mc_cpl *out, unsigned int flags);
int akmc_status_errno(const struct amdkfd_mc_cpl *cpl);

/* akmc_file.c: files and contexts */
int akmc_file_init(void);
void akmc_file_exit(void);
int akmc_files_register(struct akmc_dev *dev);
void akmc_files_unregister(struct akmc_dev *dev);
void akmc_files_revoke(struct akmc_dev *dev);
struct akmc_file *akmc_file_of_current(struct akmc_dev *dev);
void akmc_file_put(struct akmc_file *kf);
void akmc_ctx_put(struct akmc_file *kf);
bool akmc_same_process(const struct akmc_file *kf);
void akmc_proc_put(struct akmc_proc *proc);
void akmc_files_quiesce(struct akmc_dev *dev);

/* akmc_map.c: window mappings */
int akmc_map_create(struct akmc_file *kf, struct vm_area_struct *vma,
		    bool render);
void akmc_revoke_all_locked(struct akmc_file *kf);

/* akmc_ioctl.c */
long akmc_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

/* What became of a command: see akmc_kfd_call() */
enum akmc_outcome {
	AKMC_RAN,		/* the device ran it (its result is known) */
	AKMC_REFUSED,		/* it did nothing: not sent, or refused */
	AKMC_UNKNOWN,		/* it may or may not have run */
};

int akmc_kfd_call(struct akmc_file *kf, unsigned int cmd, void *arg,
		  u32 size, const void *arr, u32 arr_len,
		  enum akmc_outcome *how);
enum akmc_outcome akmc_req_outcome(struct akmc_req *req, int run_ret);

/* akmc_uptr.c */
void akmc_uptr_file_init(struct akmc_file *kf);
bool akmc_uptr_any(struct akmc_file *kf);
bool akmc_uptr_handles(unsigned int cmd);
long akmc_uptr_ioctl(struct akmc_file *kf, unsigned int cmd, const void *karg,
		     u32 size, void __user *uarg, bool *handled);
void akmc_uptr_context_gone(struct akmc_file *kf);
void akmc_uptr_context_lost(struct akmc_file *kf);
void akmc_uptr_close(struct akmc_dev *dev);
struct seq_file;
void akmc_uptr_show(struct seq_file *s, struct akmc_file *kf);

/* akmc_topology.c */
int akmc_topology_create(struct akmc_dev *dev);
void akmc_topology_destroy(struct akmc_dev *dev);

/* akmc_render.c */
int akmc_render_init(struct akmc_dev *dev);
void akmc_render_fini(struct akmc_dev *dev);

#endif
