/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * amdkfd-mc guest driver: shared definitions
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */
#ifndef AKMC_H
#define AKMC_H

#include <linux/types.h>
#include <linux/cdev.h>
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/semaphore.h>
#include <linux/spinlock.h>

/* The guest ABI: the single definition shared with the device */
#include <hw/misc/amdkfd-mc-abi.h>

#define AKMC_RING_ENTRIES	256
/* Completions we wait for before calling the device dead (control path) */
#define AKMC_CMD_TIMEOUT	(30 * HZ)

struct akmc_topo;

struct akmc_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	resource_size_t win_base;
	resource_size_t win_size;

	/* rings */
	struct amdkfd_mc_cmd *sq;
	dma_addr_t sq_dma;
	struct amdkfd_mc_cpl *cq;
	dma_addr_t cq_dma;
	u32 entries;
	u32 sq_tail;
	u32 cq_head;
	bool phase;
	u64 seq;
	/* protects the rings, pending[] and dead */
	spinlock_t lock;
	struct akmc_req **pending;
	/* one slot per command in flight: the SQ never overflows */
	struct semaphore slots;
	bool dead;
	int irq;

	struct amdkfd_mc_device_info info;
	u32 num_nodes;
	struct amdkfd_mc_topology_node nodes[AMDKFD_MC_MAX_NODES];
	struct akmc_topo *topo;
	struct device *kfd_dev;

	/* open files, for device removal and the render-node lookup */
	struct mutex files_lock;
	struct list_head files;

	struct kref kref;
};

/*
 * One open of /dev/kfd: one device context.  Freed when the file is
 * released and the last mapping of it (also through a render node) is
 * gone.
 */
struct akmc_file {
	struct akmc_dev *dev;
	struct list_head node;
	struct file *filp;
	struct mm_struct *mm;	/* the opener's, compared only */
	pid_t tgid;
	struct amdkfd_mc_context_info info;
	u32 ctx_id;
	bool ctx_alive;
	struct kref kref;
	/* window mappings (struct akmc_vma) and memory objects (akmc_bo) */
	struct mutex maps_lock;
	struct list_head maps;
	struct list_head bos;
};

struct akmc_file *akmc_file_of_current(struct akmc_dev *dev);
void akmc_file_put(struct akmc_file *kf);

int akmc_exec(struct akmc_dev *dev, struct amdkfd_mc_cmd *cmd,
	      void *payload, u32 len, struct amdkfd_mc_cpl *cpl, bool killable);
int akmc_status_errno(const struct amdkfd_mc_cpl *cpl);
struct akmc_dev *akmc_dev_get(void);
void akmc_dev_put(struct akmc_dev *dev);
int akmc_file_mmap(struct akmc_file *kf, struct vm_area_struct *vma);

int akmc_topology_create(struct akmc_dev *dev);
void akmc_topology_destroy(struct akmc_dev *dev);

int akmc_render_init(struct akmc_dev *dev);
void akmc_render_fini(struct akmc_dev *dev);

#endif
