// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: the PCI device, its rings and command submission
 *
 * Every guest program's open of /dev/kfd is one device context
 * (akmc_file.c); its KFD ioctls and mappings become commands on one
 * submission ring, whose completions arrive, in any order, on one
 * completion ring and are matched to their request by cookie.
 *
 * Device lifetime: the device is used (registers, DMA mappings, rings)
 * only under dev->lock and only while dev->dead is clear.  Removal sets
 * dead under that lock, resets the device and fails every pending
 * request, so no command, DMA mapping or register access happens once
 * remove() has started, whoever still holds a file.  Payload buffers are
 * DMA-unmapped by the completion path (or by removal), never later.
 *
 * Fairness: each process may have at most max_waits_per_process
 * WAIT_EVENTS and max_inflight_per_process other commands in flight, and
 * ordinary commands leave a reserve of ring slots to teardown commands,
 * so one program that blocks many threads in WAIT_EVENTS stalls neither
 * the others, nor its own signalling and cleanup.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/module.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "akmc.h"

unsigned int akmc_ring_entries = 512;
module_param_named(ring_entries, akmc_ring_entries, uint, 0444);
MODULE_PARM_DESC(ring_entries,
		 "Entries of each ring, 16 to 4096 (default 512); one fewer commands can be in flight");

unsigned int akmc_max_inflight_per_process = 32;
module_param_named(max_inflight_per_process, akmc_max_inflight_per_process,
		   uint, 0644);
MODULE_PARM_DESC(max_inflight_per_process,
		 "Commands other than WAIT_EVENTS one process may have in flight (default 32)");

unsigned int akmc_max_waits_per_process = 32;
module_param_named(max_waits_per_process, akmc_max_waits_per_process, uint,
		   0644);
MODULE_PARM_DESC(max_waits_per_process,
		 "WAIT_EVENTS one process may have in flight (default 32)");

unsigned int akmc_max_contexts_per_process = 64;
module_param_named(max_contexts_per_process, akmc_max_contexts_per_process,
		   uint, 0644);
MODULE_PARM_DESC(max_contexts_per_process,
		 "Device contexts (open /dev/kfd files) one process may have (default 64)");

unsigned int akmc_max_pinned_mb;
module_param_named(max_pinned_mb, akmc_max_pinned_mb, uint, 0644);
MODULE_PARM_DESC(max_pinned_mb,
		 "MiB of USERPTR memory all processes together may pin (default 0: three quarters of the guest's RAM)");

unsigned int akmc_max_pinned_mb_per_process;
module_param_named(max_pinned_mb_per_process, akmc_max_pinned_mb_per_process,
		   uint, 0644);
MODULE_PARM_DESC(max_pinned_mb_per_process,
		 "MiB of USERPTR memory one process may pin (default 0: half of the guest's RAM)");

bool akmc_userptr = true;
module_param_named(userptr, akmc_userptr, bool, 0644);
MODULE_PARM_DESC(userptr,
		 "Allow USERPTR memory (pinned program pages); 0 refuses it as a device without GUEST_MEMORY does (default 1)");

/* One command, from submission to completion */
struct akmc_req {
	struct akmc_dev *dev;		/* referenced */
	struct akmc_proc *proc;		/* holds one of its in-flight slots */
	atomic_t *share;		/* that slot: &proc->inflight or ->waits */
	struct amdkfd_mc_cmd cmd;	/* host byte order */
	struct amdkfd_mc_cpl cpl;	/* host byte order */
	void *payload;
	u32 len;
	dma_addr_t dma;
	bool mapped;
	u64 cookie;
	u32 slot;
	/* under dev->lock */
	bool submitted;
	bool finished;
	bool abandoned;
	int err;
	struct completion done;
	/* the owner, and the ring while pending */
	refcount_t ref;
	struct list_head put_node;
	/* undoes what an abandoned command created (see akmc_req_undo) */
	struct work_struct undo;
	/* or, if set, is told how an abandoned command ended */
	void (*late)(void *data, const struct amdkfd_mc_cpl *cpl, int err);
	void *late_data;
};

static struct workqueue_struct *akmc_wq;

atomic_t akmc_live[AKMC_LIVE_NR];

/* The bound device; /dev/kfd is a single node, so one device is used */
static DEFINE_MUTEX(akmc_global_lock);
static struct akmc_dev *akmc_current;

static void akmc_dev_release(struct kref *kref)
{
	struct akmc_dev *dev = container_of(kref, struct akmc_dev, kref);

	pci_dev_put(dev->pdev);
	kfree(dev->caches);
	kfree(dev->links);
	kfree(dev->pending);
	kfree(dev);
}

struct akmc_dev *akmc_dev_get(void)
{
	struct akmc_dev *dev;

	mutex_lock(&akmc_global_lock);
	dev = akmc_current;
	if (dev)
		kref_get(&dev->kref);
	mutex_unlock(&akmc_global_lock);
	return dev;
}

void akmc_dev_put(struct akmc_dev *dev)
{
	kref_put(&dev->kref, akmc_dev_release);
}

static u32 akmc_rd(struct akmc_dev *dev, u32 reg)
{
	return readl(dev->regs + reg);
}

static void akmc_wr(struct akmc_dev *dev, u32 reg, u32 val)
{
	writel(val, dev->regs + reg);
}

/* ---- requests ---- */

static void akmc_req_undo(struct work_struct *work);

struct akmc_req *akmc_req_new(struct akmc_dev *dev, u32 len)
{
	struct akmc_req *req;

	if (len > AMDKFD_MC_MAX_PAYLOAD)
		return NULL;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return NULL;
	if (len) {
		req->payload = kzalloc(len, GFP_KERNEL | __GFP_NOWARN);
		if (!req->payload) {
			kfree(req);
			return NULL;
		}
	}
	req->len = len;
	kref_get(&dev->kref);
	req->dev = dev;
	init_completion(&req->done);
	refcount_set(&req->ref, 1);
	INIT_WORK(&req->undo, akmc_req_undo);
	atomic_inc(&akmc_live[AKMC_LIVE_REQS]);
	return req;
}

void *akmc_req_payload(struct akmc_req *req)
{
	return req->payload;
}

const struct amdkfd_mc_cpl *akmc_req_cpl(struct akmc_req *req)
{
	return &req->cpl;
}

/* Whether the command reached the ring (after akmc_req_run() returned) */
bool akmc_req_submitted(struct akmc_req *req)
{
	return READ_ONCE(req->submitted);
}

/*
 * If the request is abandoned (a fatal signal, a timeout), @late is
 * called from a work item once it ends: with its completion (@err 0) or
 * with -ENODEV when the device went away before answering.  Set before
 * akmc_req_run().
 */
void akmc_req_set_late(struct akmc_req *req,
		       void (*late)(void *data, const struct amdkfd_mc_cpl *cpl,
				    int err),
		       void *data)
{
	req->late = late;
	req->late_data = data;
}

void akmc_req_put(struct akmc_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	/* Unmapped by whoever finished it; a request never submitted was not mapped */
	WARN_ON_ONCE(req->mapped);
	akmc_dev_put(req->dev);
	kfree(req->payload);
	kfree(req);
	atomic_dec(&akmc_live[AKMC_LIVE_REQS]);
}

static void akmc_proc_slot_put(struct akmc_req *req)
{
	struct akmc_proc *proc = req->proc;

	atomic_dec(req->share);
	wake_up(&proc->wq);
	req->proc = NULL;
	akmc_proc_put(proc);
}

static bool akmc_proc_slot_get(atomic_t *share, unsigned int max)
{
	return atomic_add_unless(share, 1, max(max, 1U));
}

/*
 * An abandoned OP_CREATE_CONTEXT or OP_MAP_WINDOW that succeeded made
 * something nobody will ever release: destroy the context, or unmap the
 * window range (no page table entry was ever made for it: the mmap()
 * that asked for it failed).
 */
static bool akmc_req_needs_undo(const struct akmc_req *req)
{
	if (req->abandoned && req->late)
		return true;
	return req->abandoned && !req->err &&
	       req->cpl.status == AMDKFD_MC_S_OK && req->cpl.value &&
	       (req->cmd.opcode == AMDKFD_MC_OP_CREATE_CONTEXT ||
		req->cmd.opcode == AMDKFD_MC_OP_MAP_WINDOW);
}

static void akmc_req_undo(struct work_struct *work)
{
	struct akmc_req *req = container_of(work, struct akmc_req, undo);

	if (req->late)
		req->late(req->late_data, &req->cpl, req->err);
	else if (req->cmd.opcode == AMDKFD_MC_OP_MAP_WINDOW)
		akmc_cmd(req->dev, NULL, AMDKFD_MC_OP_UNMAP_WINDOW,
			 req->cmd.ctx_id, req->cpl.value, 0, NULL, 0, NULL,
			 AKMC_RUN_TEARDOWN);
	else
		akmc_cmd(req->dev, NULL, AMDKFD_MC_OP_DESTROY_CONTEXT,
			 (u32)req->cpl.value, 0, 0, NULL, 0, NULL,
			 AKMC_RUN_TEARDOWN);
	akmc_req_put(req);
}

/*
 * Ends a pending request (dev->lock held).  The ring's reference goes on
 * @puts, to be dropped once the lock is released.
 */
static void akmc_req_finish(struct akmc_dev *dev, struct akmc_req *req,
			    int err, const struct amdkfd_mc_cpl *cpl,
			    struct list_head *puts)
{
	dev->pending[req->slot] = NULL;
	dev->busy--;
	if (req->mapped) {
		dma_unmap_single(&dev->pdev->dev, req->dma, req->len,
				 DMA_BIDIRECTIONAL);
		req->mapped = false;
	}
	if (cpl)
		req->cpl = *cpl;
	req->err = err;
	req->finished = true;
	if (req->proc)
		akmc_proc_slot_put(req);
	complete(&req->done);
	wake_up(&dev->slot_wq);
	list_add_tail(&req->put_node, puts);
}

static void akmc_req_put_list(struct list_head *puts)
{
	struct akmc_req *req, *tmp;

	list_for_each_entry_safe(req, tmp, puts, put_node) {
		list_del(&req->put_node);
		if (akmc_req_needs_undo(req))
			queue_work(akmc_wq, &req->undo);
		else
			akmc_req_put(req);
	}
}

/*
 * Puts @req on the ring if a slot is free (the condition of the slot
 * wait).  True when it was submitted or failed for good (req->err).
 */
static bool akmc_req_submit(struct akmc_req *req, bool teardown)
{
	struct akmc_dev *dev = req->dev;
	struct amdkfd_mc_cmd *sqe;
	unsigned long flags;
	u32 i, slot;

	spin_lock_irqsave(&dev->lock, flags);
	if (dev->dead) {
		req->err = -ENODEV;
		goto out;
	}
	if (dev->busy >= (teardown ? dev->entries - 1 : dev->normal_slots)) {
		spin_unlock_irqrestore(&dev->lock, flags);
		return false;
	}
	/* Checked dead first: no DMA mapping for a device that is gone */
	if (req->len) {
		req->dma = dma_map_single(&dev->pdev->dev, req->payload,
					  req->len, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(&dev->pdev->dev, req->dma)) {
			req->err = -ENOMEM;
			goto out;
		}
		req->mapped = true;
	}
	slot = dev->seq % dev->entries;
	for (i = 0; i < dev->entries && dev->pending[slot]; i++)
		slot = (slot + 1) % dev->entries;
	/* busy < entries guarantees a free entry */
	dev->seq++;
	req->slot = slot;
	req->cookie = dev->seq * dev->entries + slot;
	refcount_inc(&req->ref);
	dev->pending[slot] = req;
	dev->busy++;
	req->submitted = true;

	sqe = &dev->sq[dev->sq_tail];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = cpu_to_le16(req->cmd.opcode);
	sqe->ctx_id = cpu_to_le32(req->cmd.ctx_id);
	sqe->cookie = cpu_to_le64(req->cookie);
	sqe->payload_addr = cpu_to_le64(req->len ? req->dma : 0);
	sqe->payload_len = cpu_to_le32(req->len);
	sqe->arg0 = cpu_to_le32(req->cmd.arg0);
	sqe->arg1 = cpu_to_le64(req->cmd.arg1);
	sqe->arg2 = cpu_to_le64(req->cmd.arg2);
	dev->sq_tail = (dev->sq_tail + 1) % dev->entries;
	/* writel orders the descriptor before the doorbell */
	akmc_wr(dev, AMDKFD_MC_REG_SQ_TAIL, dev->sq_tail);
out:
	spin_unlock_irqrestore(&dev->lock, flags);
	return true;
}

/*
 * Runs @cmd with @req's payload and waits for its completion.  Returns 0
 * when a completion arrived (its status is in akmc_req_cpl(), the payload
 * holds what the device wrote), else a negative errno: -ENODEV (device
 * gone), -EINTR (fatal signal, with AKMC_RUN_KILLABLE), -ETIMEDOUT
 * (without it), -ENOMEM.  A request abandoned by a signal or a timeout
 * stays pending; its completion frees it, and undoes a context or a
 * window mapping it created.  @proc (NULL for device-level commands) is
 * charged one in-flight slot unless AKMC_RUN_TEARDOWN.
 */
int akmc_req_run(struct akmc_req *req, struct akmc_proc *proc,
		 const struct amdkfd_mc_cmd *cmd, unsigned int flags)
{
	bool killable = flags & AKMC_RUN_KILLABLE;
	bool teardown = flags & AKMC_RUN_TEARDOWN;
	struct akmc_dev *dev = req->dev;
	unsigned int max;
	atomic_t *share;
	unsigned long irqflags;
	bool abandoned = false;
	long left;
	int ret;

	req->cmd = *cmd;
	if (proc && !teardown) {
		if (flags & AKMC_RUN_WAIT) {
			share = &proc->waits;
			max = READ_ONCE(akmc_max_waits_per_process);
		} else {
			share = &proc->inflight;
			max = READ_ONCE(akmc_max_inflight_per_process);
		}
		if (killable) {
			ret = wait_event_killable(proc->wq,
						  akmc_proc_slot_get(share, max));
		} else {
			left = wait_event_timeout(proc->wq,
						  akmc_proc_slot_get(share, max),
						  AKMC_CMD_TIMEOUT);
			ret = left ? 0 : -ETIMEDOUT;
		}
		if (ret)
			return ret == -ETIMEDOUT ? ret : -EINTR;
		kref_get(&proc->kref);
		req->proc = proc;
		req->share = share;
	}

	if (killable) {
		ret = wait_event_killable(dev->slot_wq,
					  akmc_req_submit(req, teardown));
	} else {
		left = wait_event_timeout(dev->slot_wq,
					  akmc_req_submit(req, teardown),
					  AKMC_CMD_TIMEOUT);
		ret = left ? 0 : -ETIMEDOUT;
	}
	if (!ret && req->err)
		ret = req->err;
	if (ret) {
		/* Not submitted: the slot of the process is still ours */
		if (req->proc)
			akmc_proc_slot_put(req);
		return ret == -ERESTARTSYS ? -EINTR : ret;
	}

	if (killable) {
		ret = wait_for_completion_killable(&req->done);
	} else {
		left = wait_for_completion_timeout(&req->done,
						   AKMC_CMD_TIMEOUT);
		ret = left ? 0 : -ETIMEDOUT;
	}
	if (ret) {
		spin_lock_irqsave(&dev->lock, irqflags);
		if (!req->finished) {
			req->abandoned = true;
			abandoned = true;
		}
		spin_unlock_irqrestore(&dev->lock, irqflags);
		if (abandoned) {
			dev_dbg(&dev->pdev->dev,
				"ctx %#x op %#x abandoned (%d)\n",
				cmd->ctx_id, cmd->opcode, ret);
			return ret == -ETIMEDOUT ? ret : -EINTR;
		}
		/* It completed meanwhile: take the result */
	}
	return req->err;
}

int akmc_status_errno(const struct amdkfd_mc_cpl *cpl)
{
	switch (cpl->status) {
	case AMDKFD_MC_S_OK:
		return 0;
	case AMDKFD_MC_S_INVALID_CONTEXT:
		return -EBADF;
	case AMDKFD_MC_S_DMA_ERROR:
		return -EFAULT;
	case AMDKFD_MC_S_NO_RESOURCES:
		return -ENOSPC;
	case AMDKFD_MC_S_NOT_SUPPORTED:
		return -ENOTTY;
	case AMDKFD_MC_S_BACKEND_ERROR:
		return cpl->result < 0 && cpl->result >= -MAX_ERRNO ?
		       cpl->result : -EIO;
	case AMDKFD_MC_S_INVALID_OPCODE:
	case AMDKFD_MC_S_INVALID_ARGUMENT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * Runs one command with a small payload copied in and out.  Returns the
 * completion's status as an errno (0 for S_OK), or the errno of
 * akmc_req_run() when no completion arrived.
 */
int akmc_cmd(struct akmc_dev *dev, struct akmc_proc *proc, u16 op, u32 ctx,
	     u64 arg1, u64 arg2, void *payload, u32 len,
	     struct amdkfd_mc_cpl *out, unsigned int flags)
{
	struct amdkfd_mc_cmd cmd = {
		.opcode = op, .ctx_id = ctx, .arg1 = arg1, .arg2 = arg2,
	};
	struct akmc_req *req;
	int ret;

	req = akmc_req_new(dev, len);
	if (!req)
		return -ENOMEM;
	if (len)
		memcpy(req->payload, payload, len);
	ret = akmc_req_run(req, proc, &cmd, flags);
	if (!ret) {
		if (out)
			*out = req->cpl;
		if (len)
			memcpy(payload, req->payload, len);
		ret = akmc_status_errno(&req->cpl);
	}
	akmc_req_put(req);
	return ret;
}

/* ---- completions ---- */

static void akmc_drain_cq(struct akmc_dev *dev, struct list_head *puts)
{
	struct amdkfd_mc_cpl cpl;
	struct akmc_req *req;
	bool any = false;

	while (!dev->dead) {
		struct amdkfd_mc_cpl *c = &dev->cq[dev->cq_head];

		if (!!(le32_to_cpu(READ_ONCE(c->flags)) &
		       AMDKFD_MC_CPL_PHASE) != dev->phase)
			break;
		dma_rmb();
		cpl.cookie = le64_to_cpu(c->cookie);
		cpl.status = le32_to_cpu(c->status);
		cpl.result = (s32)le32_to_cpu(c->result);
		cpl.value = le64_to_cpu(c->value);
		cpl.sq_head = le32_to_cpu(c->sq_head);
		cpl.flags = le32_to_cpu(c->flags);
		dev->cq_head = (dev->cq_head + 1) % dev->entries;
		if (!dev->cq_head)
			dev->phase = !dev->phase;
		any = true;
		req = dev->pending[cpl.cookie % dev->entries];
		if (req && req->cookie == cpl.cookie)
			akmc_req_finish(dev, req, 0, &cpl, puts);
		else
			dev_warn_ratelimited(&dev->pdev->dev,
					     "completion for unknown cookie %llx\n",
					     cpl.cookie);
	}
	if (any)
		akmc_wr(dev, AMDKFD_MC_REG_CQ_HEAD, dev->cq_head);
}

static irqreturn_t akmc_irq(int irq, void *data)
{
	struct akmc_dev *dev = data;
	LIST_HEAD(puts);
	u32 st;

	spin_lock(&dev->lock);
	if (dev->dead) {
		spin_unlock(&dev->lock);
		return IRQ_NONE;
	}
	st = akmc_rd(dev, AMDKFD_MC_REG_IRQ_STATUS);
	if (st)
		akmc_wr(dev, AMDKFD_MC_REG_IRQ_STATUS, st);
	akmc_drain_cq(dev, &puts);
	spin_unlock(&dev->lock);
	akmc_req_put_list(&puts);
	return st ? IRQ_HANDLED : IRQ_NONE;
}

/*
 * Stops the device for good: no DMA, no register access after this.
 * Every pending request fails with -ENODEV and every waiter wakes.
 */
static void akmc_dev_stop(struct akmc_dev *dev)
{
	unsigned long flags;
	LIST_HEAD(puts);
	u32 slot;

	spin_lock_irqsave(&dev->lock, flags);
	if (!dev->dead) {
		/* Destroys every context and stops every DMA */
		akmc_wr(dev, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
		dev->dead = true;
	}
	for (slot = 0; slot < dev->entries; slot++)
		if (dev->pending[slot])
			akmc_req_finish(dev, dev->pending[slot], -ENODEV, NULL,
					&puts);
	spin_unlock_irqrestore(&dev->lock, flags);
	wake_up_all(&dev->slot_wq);
	akmc_req_put_list(&puts);
}

/* ---- PCI ---- */

static int akmc_rings_init(struct akmc_dev *dev)
{
	struct device *d = &dev->pdev->dev;
	size_t sq_len = dev->entries * sizeof(struct amdkfd_mc_cmd);
	size_t cq_len = dev->entries * sizeof(struct amdkfd_mc_cpl);

	/* Page aligned, so AMDKFD_MC_RING_ALIGN holds */
	dev->sq = dmam_alloc_coherent(d, sq_len, &dev->sq_dma, GFP_KERNEL);
	dev->cq = dmam_alloc_coherent(d, cq_len, &dev->cq_dma, GFP_KERNEL);
	if (!dev->sq || !dev->cq)
		return -ENOMEM;
	memset(dev->cq, 0, cq_len);
	dev->sq_tail = 0;
	dev->cq_head = 0;
	dev->phase = true;
	akmc_wr(dev, AMDKFD_MC_REG_SQ_BASE_LO, lower_32_bits(dev->sq_dma));
	akmc_wr(dev, AMDKFD_MC_REG_SQ_BASE_HI, upper_32_bits(dev->sq_dma));
	akmc_wr(dev, AMDKFD_MC_REG_CQ_BASE_LO, lower_32_bits(dev->cq_dma));
	akmc_wr(dev, AMDKFD_MC_REG_CQ_BASE_HI, upper_32_bits(dev->cq_dma));
	akmc_wr(dev, AMDKFD_MC_REG_RING_ENTRIES, dev->entries);
	akmc_wr(dev, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_ENABLE);
	if (!(akmc_rd(dev, AMDKFD_MC_REG_STATUS) & AMDKFD_MC_STATUS_READY)) {
		dev_err(d, "rings refused, error %#x\n",
			akmc_rd(dev, AMDKFD_MC_REG_ERROR));
		return -EIO;
	}
	return 0;
}

/* Keeps the caches and links that name a node the device reported */
static void akmc_query_extras(struct akmc_dev *dev,
			      const struct amdkfd_mc_topology *hdr, u32 nc,
			      u32 nl)
{
	const struct amdkfd_mc_topology_cache *c =
		(const void *)((const u8 *)(hdr + 1) +
			       dev->num_nodes * sizeof(dev->nodes[0]));
	const struct amdkfd_mc_topology_link *l = (const void *)(c + nc);
	u32 i, from, to;

	dev->caches = kcalloc(max(nc, 1U), sizeof(*c), GFP_KERNEL);
	dev->links = kcalloc(max(nl, 1U), sizeof(*l), GFP_KERNEL);
	if (!dev->caches || !dev->links)
		return;
	for (i = 0; i < nc; i++) {
		if (le32_to_cpu(c[i].node) >= dev->num_nodes ||
		    le32_to_cpu(c[i].sibling_bits) > 8 * sizeof(c[i].sibling_map))
			continue;
		dev->caches[dev->num_caches++] = c[i];
	}
	for (i = 0; i < nl; i++) {
		from = le32_to_cpu(l[i].node_from);
		to = le32_to_cpu(l[i].node_to);
		/* a link of a GPU node, to another one or to the CPU */
		if (from >= dev->num_nodes || from == to ||
		    (to >= dev->num_nodes && to != AMDKFD_MC_TOPO_CPU))
			continue;
		dev->links[dev->num_links++] = l[i];
	}
}

static int akmc_query(struct akmc_dev *dev)
{
	struct amdkfd_mc_topology *hdr;
	u32 len = sizeof(*hdr) + sizeof(dev->nodes);
	u32 i, n, nc, nl;
	int ret;

	ret = akmc_cmd(dev, NULL, AMDKFD_MC_OP_DEVICE_INFO, 0, 0, 0,
		       &dev->info, sizeof(dev->info), NULL, 0);
	if (ret)
		return ret;
	hdr = kzalloc(len, GFP_KERNEL);
	if (!hdr)
		return -ENOMEM;
	ret = akmc_cmd(dev, NULL, AMDKFD_MC_OP_QUERY_TOPOLOGY, 0, 0, 0, hdr,
		       len, NULL, 0);
	if (ret)
		goto out;
	n = le32_to_cpu(hdr->num_nodes);
	nc = le32_to_cpu(hdr->num_caches);
	nl = le32_to_cpu(hdr->num_links);
	if (n > AMDKFD_MC_MAX_NODES ||
	    le32_to_cpu(hdr->node_size) != sizeof(dev->nodes[0]) ||
	    nc > AMDKFD_MC_MAX_CACHES || nl > AMDKFD_MC_MAX_LINKS) {
		ret = -EPROTO;
		goto out;
	}
	if (nc || nl) {
		/* Again, with room for the caches and links too */
		kfree(hdr);
		len = sizeof(*hdr) + n * sizeof(dev->nodes[0]) +
		      nc * sizeof(struct amdkfd_mc_topology_cache) +
		      nl * sizeof(struct amdkfd_mc_topology_link);
		hdr = kzalloc(len, GFP_KERNEL);
		if (!hdr)
			return -ENOMEM;
		ret = akmc_cmd(dev, NULL, AMDKFD_MC_OP_QUERY_TOPOLOGY, 0, 0, 0,
			       hdr, len, NULL, 0);
		if (ret)
			goto out;
		/* The topology does not change while the device exists */
		if (le32_to_cpu(hdr->num_nodes) != n ||
		    le32_to_cpu(hdr->num_caches) != nc ||
		    le32_to_cpu(hdr->num_links) != nl) {
			ret = -EPROTO;
			goto out;
		}
	}
	memcpy(dev->nodes, hdr + 1, n * sizeof(dev->nodes[0]));
	for (i = 0; i < n; i++)
		dev->nodes[i].name[sizeof(dev->nodes[i].name) - 1] = 0;
	dev->num_nodes = n;
	akmc_query_extras(dev, hdr, nc, nl);
	if (!dev->caches || !dev->links)
		ret = -ENOMEM;
out:
	kfree(hdr);
	return ret;
}

static struct akmc_dev *akmc_dev_alloc(struct pci_dev *pdev)
{
	struct akmc_dev *dev;
	u32 reserve;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return NULL;
	dev->entries = clamp(akmc_ring_entries, 16U,
			     (unsigned int)AMDKFD_MC_RING_MAX_ENTRIES);
	dev->pending = kcalloc(dev->entries, sizeof(*dev->pending),
			       GFP_KERNEL);
	if (!dev->pending) {
		kfree(dev);
		return NULL;
	}
	kref_init(&dev->kref);
	dev->pdev = pci_dev_get(pdev);
	spin_lock_init(&dev->lock);
	init_waitqueue_head(&dev->slot_wq);
	reserve = max(dev->entries / 8, 4U);
	dev->normal_slots = dev->entries - 1 - reserve;
	mutex_init(&dev->files_lock);
	INIT_LIST_HEAD(&dev->files);
	INIT_LIST_HEAD(&dev->procs);
	init_rwsem(&dev->uptr_rwsem);
	atomic_set(&dev->destroying, 0);
	init_waitqueue_head(&dev->destroy_wq);
	return dev;
}

static int akmc_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct akmc_dev *dev;
	void __iomem *regs;
	u32 ver;
	int ret;

	mutex_lock(&akmc_global_lock);
	ret = akmc_current ? -EBUSY : 0;
	mutex_unlock(&akmc_global_lock);
	if (ret) {
		dev_warn(&pdev->dev, "only one amdkfd-mc device is used\n");
		return ret;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (pci_resource_len(pdev, AMDKFD_MC_BAR_REGS) < AMDKFD_MC_REGS_SIZE)
		return -ENODEV;
	/* Only the registers are ioremapped; window pages go to user space */
	regs = akmc_pcim_iomap_region(pdev, AMDKFD_MC_BAR_REGS, AKMC_NAME);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	ret = akmc_pcim_request_region(pdev, AMDKFD_MC_BAR_WINDOW, AKMC_NAME);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	/* A guest memory range may be of any length (USERPTR pages) */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX & PAGE_MASK);

	dev = akmc_dev_alloc(pdev);
	if (!dev)
		return -ENOMEM;
	dev->regs = regs;
	dev->win_base = pci_resource_start(pdev, AMDKFD_MC_BAR_WINDOW);
	dev->win_size = pci_resource_len(pdev, AMDKFD_MC_BAR_WINDOW);
	pci_set_drvdata(pdev, dev);

	if (akmc_rd(dev, AMDKFD_MC_REG_MAGIC) != AMDKFD_MC_MAGIC) {
		dev_err(&pdev->dev, "bad magic\n");
		ret = -ENODEV;
		goto err_put;
	}
	ver = akmc_rd(dev, AMDKFD_MC_REG_VERSION);
	if (ver >> 16 != AMDKFD_MC_ABI_MAJOR) {
		dev_err(&pdev->dev, "unsupported ABI %u.%u\n", ver >> 16,
			ver & 0xffff);
		ret = -ENODEV;
		goto err_put;
	}
	/*
	 * Whoever used the device before (a kernel we were kexec'ed from, a
	 * driver that was not unbound cleanly) may have left contexts and
	 * running DMA behind: start from a reset device, before bus
	 * mastering is on and before our rings are programmed.
	 */
	if (akmc_rd(dev, AMDKFD_MC_REG_LIVE_CONTEXTS) ||
	    (akmc_rd(dev, AMDKFD_MC_REG_STATUS) & AMDKFD_MC_STATUS_READY))
		dev_info(&pdev->dev,
			 "device left in use (%u contexts, rings %s): resetting it\n",
			 akmc_rd(dev, AMDKFD_MC_REG_LIVE_CONTEXTS),
			 akmc_rd(dev, AMDKFD_MC_REG_STATUS) &
			 AMDKFD_MC_STATUS_READY ? "enabled" : "disabled");
	akmc_wr(dev, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
	pci_set_master(pdev);

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX | PCI_IRQ_INTX);
	if (ret < 0)
		goto err_put;
	dev->irq = pci_irq_vector(pdev, AMDKFD_MC_MSIX_VEC_CQ);
	ret = akmc_rings_init(dev);
	if (ret)
		goto err_vec;
	ret = request_irq(dev->irq, akmc_irq, IRQF_SHARED, AKMC_NAME, dev);
	if (ret)
		goto err_stop;
	ret = akmc_query(dev);
	if (ret) {
		dev_err(&pdev->dev, "device/topology query failed: %d\n", ret);
		goto err_irq;
	}

	ret = akmc_files_register(dev);
	if (ret)
		goto err_irq;
	/* The render nodes first: the topology names their minors */
	ret = akmc_render_init(dev);
	if (ret)
		goto err_render;
	ret = akmc_topology_create(dev);
	if (ret)
		goto err_render;

	mutex_lock(&akmc_global_lock);
	akmc_current = dev;
	mutex_unlock(&akmc_global_lock);
	dev_info(&pdev->dev,
		 "ABI %u.%u, %s backend, KFD %u.%u, %u GPU node(s), window %llu MiB, max %u contexts, %u ring entries\n",
		 ver >> 16, ver & 0xffff,
		 le32_to_cpu(dev->info.backend) == AMDKFD_MC_BACKEND_SIM ?
		 "sim" : "host", le32_to_cpu(dev->info.kfd_major),
		 le32_to_cpu(dev->info.kfd_minor), dev->num_nodes,
		 (unsigned long long)dev->win_size >> 20,
		 le32_to_cpu(dev->info.max_contexts), dev->entries);
	return 0;

err_render:
	akmc_render_fini(dev);
	akmc_files_unregister(dev);
err_irq:
	free_irq(dev->irq, dev);
err_stop:
	akmc_dev_stop(dev);
err_vec:
	pci_free_irq_vectors(pdev);
err_put:
	akmc_dev_put(dev);
	return ret;
}

static void akmc_remove(struct pci_dev *pdev)
{
	struct akmc_dev *dev = pci_get_drvdata(pdev);

	mutex_lock(&akmc_global_lock);
	akmc_current = NULL;
	mutex_unlock(&akmc_global_lock);

	akmc_topology_destroy(dev);
	/* No new file gets a context from here on */
	akmc_files_unregister(dev);
	/*
	 * A reset ends contexts without saying when their DMA has stopped,
	 * so the contexts that hold pinned USERPTR pages are destroyed one
	 * by one first, and their pages unpinned when each is gone.
	 */
	akmc_uptr_close(dev);
	akmc_files_quiesce(dev);
	/* No command, no DMA from here on; every waiter wakes */
	akmc_dev_stop(dev);
	/*
	 * Zap and mark every user mapping of the window, so nothing reaches
	 * the BAR once it is released; later accesses get SIGBUS.
	 */
	akmc_files_revoke(dev);
	akmc_render_fini(dev);
	free_irq(dev->irq, dev);
	pci_free_irq_vectors(pdev);
	/* The rings and BARs are device-managed and go with the binding */
	akmc_dev_put(dev);
}

/* Reboot or kexec: the next kernel must find a device that does no DMA */
static void akmc_shutdown(struct pci_dev *pdev)
{
	struct akmc_dev *dev = pci_get_drvdata(pdev);

	if (dev)
		akmc_dev_stop(dev);
}

static const struct pci_device_id akmc_ids[] = {
	{ PCI_DEVICE(AMDKFD_MC_PCI_VENDOR_ID, AMDKFD_MC_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, akmc_ids);

static struct pci_driver akmc_driver = {
	.name = AKMC_NAME,
	.id_table = akmc_ids,
	.probe = akmc_probe,
	.remove = akmc_remove,
	.shutdown = akmc_shutdown,
};

static int __init akmc_init(void)
{
	int ret;

	akmc_wq = alloc_workqueue(AKMC_NAME, WQ_UNBOUND, 0);
	if (!akmc_wq)
		return -ENOMEM;
	ret = akmc_file_init();
	if (ret)
		goto err_wq;
	ret = pci_register_driver(&akmc_driver);
	if (ret)
		goto err_file;
	return 0;

err_file:
	akmc_file_exit();
err_wq:
	destroy_workqueue(akmc_wq);
	return ret;
}

static void __exit akmc_exit(void)
{
	pci_unregister_driver(&akmc_driver);
	/* Undo work of abandoned requests finishes before the code goes */
	destroy_workqueue(akmc_wq);
	akmc_file_exit();
}

module_init(akmc_init);
module_exit(akmc_exit);

MODULE_DESCRIPTION("amdkfd-mc: /dev/kfd with an isolated host KFD context per open");
MODULE_AUTHOR("The amdkfd-mc authors");
MODULE_LICENSE("GPL");
/* dkms.conf's PACKAGE_VERSION (Kbuild) */
MODULE_VERSION(AKMC_VERSION);
