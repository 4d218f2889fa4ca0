// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: /dev/kfd backed by the amdkfd-mc PCI device
 *
 * Every open of /dev/kfd creates one device context (OP_CREATE_CONTEXT),
 * which the device backs with an isolated KFD context of its own on the
 * host.  KFD ioctls are copied into a payload (the argument structure
 * followed by the arrays its embedded pointers refer to, as byte offsets)
 * and forwarded with OP_IOCTL; mmap() maps window pages of the caller's
 * own context (OP_MAP_WINDOW).  docs/specs/amdkfd-mc.rst is the ABI.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/kfd_ioctl.h>

#include "akmc.h"

#define AKMC_NAME	"amdkfd_mc"
/* The KFD's mmap offset encoding: bits 63:62 are the type */
#define AKMC_MMAP_TYPE(off)	((off) >> 62)
#define AKMC_MMAP_TYPE_DOORBELL	3
#define AKMC_MMAP_TYPE_MMIO	0

/* One command in flight */
struct akmc_req {
	struct completion done;
	struct amdkfd_mc_cpl cpl;
	u64 cookie;
	void *payload;
	u32 len;
	dma_addr_t dma;
	struct device *dmadev;
	/* the waiter and the completion path each hold one */
	refcount_t ref;
	int err;		/* -ENODEV when the device went away */
};

static dev_t akmc_devt;
static struct cdev akmc_cdev;
static struct class *akmc_class;
static struct dentry *akmc_debugfs;

/* The bound device; /dev/kfd is a single node, so one device is used */
static DEFINE_MUTEX(akmc_global_lock);
static struct akmc_dev *akmc_current;

static void akmc_dev_release(struct kref *kref)
{
	struct akmc_dev *dev = container_of(kref, struct akmc_dev, kref);

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

static void akmc_req_put(struct akmc_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	if (req->payload) {
		dma_unmap_single(req->dmadev, req->dma, req->len,
				 DMA_BIDIRECTIONAL);
		kfree(req->payload);
	}
	kfree(req);
}

/* Called with dev->lock held */
static void akmc_req_finish(struct akmc_dev *dev, u32 slot, int err,
			    const struct amdkfd_mc_cpl *cpl)
{
	struct akmc_req *req = dev->pending[slot];

	dev->pending[slot] = NULL;
	if (cpl)
		req->cpl = *cpl;
	req->err = err;
	complete(&req->done);
	up(&dev->slots);
	akmc_req_put(req);
}

static void akmc_drain_cq(struct akmc_dev *dev)
{
	struct amdkfd_mc_cpl cpl;
	bool any = false;
	u32 slot;

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
		slot = cpl.cookie % dev->entries;
		if (dev->pending[slot] &&
		    dev->pending[slot]->cookie == cpl.cookie)
			akmc_req_finish(dev, slot, 0, &cpl);
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
	unsigned long flags;
	u32 st;

	spin_lock_irqsave(&dev->lock, flags);
	if (dev->dead) {
		spin_unlock_irqrestore(&dev->lock, flags);
		return IRQ_NONE;
	}
	st = akmc_rd(dev, AMDKFD_MC_REG_IRQ_STATUS);
	if (st)
		akmc_wr(dev, AMDKFD_MC_REG_IRQ_STATUS, st);
	akmc_drain_cq(dev);
	spin_unlock_irqrestore(&dev->lock, flags);
	return st ? IRQ_HANDLED : IRQ_NONE;
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
		return cpl->result < 0 ? cpl->result : -EIO;
	case AMDKFD_MC_S_INVALID_OPCODE:
	case AMDKFD_MC_S_INVALID_ARGUMENT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * Run one command and wait for its completion.  @payload (@len bytes,
 * kmalloc'ed, may be NULL) is handed to the device and copied back into
 * on completion; the caller keeps ownership.  Returns 0 when a completion
 * arrived (its status is in @cpl), else a negative errno.
 */
int akmc_exec(struct akmc_dev *dev, struct amdkfd_mc_cmd *cmd,
	      void *payload, u32 len, struct amdkfd_mc_cpl *cpl, bool killable)
{
	struct device *dmadev = &dev->pdev->dev;
	struct amdkfd_mc_cmd *sqe;
	struct akmc_req *req;
	unsigned long flags;
	u32 slot;
	int ret;

	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	init_completion(&req->done);
	refcount_set(&req->ref, 1);
	req->dmadev = dmadev;
	if (len) {
		/* A private copy: an abandoned request may outlive the caller */
		req->payload = kmemdup(payload, len, GFP_KERNEL);
		if (!req->payload) {
			kfree(req);
			return -ENOMEM;
		}
		req->len = len;
		req->dma = dma_map_single(dmadev, req->payload, len,
					  DMA_BIDIRECTIONAL);
		if (dma_mapping_error(dmadev, req->dma)) {
			kfree(req->payload);
			kfree(req);
			return -ENOMEM;
		}
	}

	if (killable)
		ret = down_killable(&dev->slots);
	else
		ret = down_timeout(&dev->slots, AKMC_CMD_TIMEOUT);
	if (ret) {
		akmc_req_put(req);
		return ret == -ETIME ? -ETIMEDOUT : -EINTR;
	}

	spin_lock_irqsave(&dev->lock, flags);
	if (dev->dead) {
		spin_unlock_irqrestore(&dev->lock, flags);
		up(&dev->slots);
		akmc_req_put(req);
		return -ENODEV;
	}
	for (slot = 0; slot < dev->entries; slot++)
		if (!dev->pending[slot])
			break;
	/* The semaphore guarantees a free slot */
	if (WARN_ON(slot == dev->entries)) {
		spin_unlock_irqrestore(&dev->lock, flags);
		up(&dev->slots);
		akmc_req_put(req);
		return -EIO;
	}
	dev->seq++;
	req->cookie = dev->seq * dev->entries + slot;
	refcount_inc(&req->ref);
	dev->pending[slot] = req;

	sqe = &dev->sq[dev->sq_tail];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = cpu_to_le16(cmd->opcode);
	sqe->ctx_id = cpu_to_le32(cmd->ctx_id);
	sqe->cookie = cpu_to_le64(req->cookie);
	sqe->payload_addr = cpu_to_le64(len ? req->dma : 0);
	sqe->payload_len = cpu_to_le32(len);
	sqe->arg0 = cpu_to_le32(cmd->arg0);
	sqe->arg1 = cpu_to_le64(cmd->arg1);
	sqe->arg2 = cpu_to_le64(cmd->arg2);
	dev->sq_tail = (dev->sq_tail + 1) % dev->entries;
	/* writel orders the descriptor before the doorbell */
	akmc_wr(dev, AMDKFD_MC_REG_SQ_TAIL, dev->sq_tail);
	spin_unlock_irqrestore(&dev->lock, flags);

	if (killable) {
		ret = wait_for_completion_killable(&req->done);
	} else {
		ret = wait_for_completion_timeout(&req->done,
						  AKMC_CMD_TIMEOUT) ?
		      0 : -ETIMEDOUT;
	}
	if (ret) {
		/* Abandoned: the completion path frees the request */
		akmc_req_put(req);
		return ret == -ETIMEDOUT ? ret : -EINTR;
	}
	ret = req->err;
	if (!ret) {
		*cpl = req->cpl;
		if (len) {
			dma_sync_single_for_cpu(dmadev, req->dma, len,
						DMA_BIDIRECTIONAL);
			memcpy(payload, req->payload, len);
		}
	}
	akmc_req_put(req);
	return ret;
}

/* Run a device-level or context command; 0 or the status as an errno */
static int akmc_simple(struct akmc_dev *dev, u16 op, u32 ctx, u64 arg1,
		       u64 arg2, void *payload, u32 len,
		       struct amdkfd_mc_cpl *out)
{
	struct amdkfd_mc_cmd cmd = {
		.opcode = op, .ctx_id = ctx, .arg1 = arg1, .arg2 = arg2,
	};
	struct amdkfd_mc_cpl cpl = {};
	int ret;

	ret = akmc_exec(dev, &cmd, payload, len, &cpl, false);
	if (ret)
		return ret;
	if (out)
		*out = cpl;
	return akmc_status_errno(&cpl);
}

static bool akmc_same_process(struct akmc_file *kf)
{
	return kf->mm == current->mm;
}

/* ---- mmap ---- */

/* A memory object of the context: its mmap offset, for revoking maps */
struct akmc_bo {
	struct list_head node;
	u64 handle;
	u64 offset;
	u64 size;
};

/* One window mapping in a VMA; on kf->maps under kf->maps_lock */
struct akmc_vma {
	struct list_head node;
	struct akmc_file *kf;
	struct vm_area_struct *vma;
	u64 win;
	u64 off;
	u64 len;
	/* the device no longer maps @win for us: never touch it again */
	bool revoked;
};

static void akmc_file_free(struct kref *kref)
{
	struct akmc_file *kf = container_of(kref, struct akmc_file, kref);
	struct akmc_bo *bo, *tmp;

	list_for_each_entry_safe(bo, tmp, &kf->bos, node)
		kfree(bo);
	if (kf->mm)
		mmdrop(kf->mm);
	akmc_dev_put(kf->dev);
	kfree(kf);
}

void akmc_file_put(struct akmc_file *kf)
{
	kref_put(&kf->kref, akmc_file_free);
}

/*
 * Revoke mappings (all, or those inside [@off, @off + @len)): their window
 * range may be reused by the device for someone else, so their page table
 * entries go now and later accesses fault with SIGBUS.  Zapping by file
 * range may hit other mappings of the same file too; those refault their
 * own pages through akmc_vm_fault().  Called with kf->maps_lock held.
 */
static void akmc_revoke_locked(struct akmc_file *kf, bool all, u64 off,
			       u64 len)
{
	struct akmc_vma *m;

	list_for_each_entry(m, &kf->maps, node) {
		if (!all && (m->off < off || m->off - off >= len))
			continue;
		WRITE_ONCE(m->revoked, true);
		unmap_mapping_range(m->vma->vm_file->f_mapping,
				    (loff_t)m->vma->vm_pgoff << PAGE_SHIFT,
				    m->len, 1);
	}
}

static vm_fault_t akmc_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct akmc_vma *m = vma->vm_private_data;
	unsigned long pfn;

	if (READ_ONCE(m->revoked))
		return VM_FAULT_SIGBUS;
	pfn = ((m->kf->dev->win_base + m->win) >> PAGE_SHIFT) +
	      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	return vmf_insert_pfn_prot(vma, vmf->address, pfn, vma->vm_page_prot);
}

static void akmc_vm_close(struct vm_area_struct *vma)
{
	struct akmc_vma *m = vma->vm_private_data;
	struct akmc_file *kf = m->kf;
	bool revoked;

	mutex_lock(&kf->maps_lock);
	list_del(&m->node);
	revoked = m->revoked;
	mutex_unlock(&kf->maps_lock);
	if (!revoked && kf->ctx_alive)
		akmc_simple(kf->dev, AMDKFD_MC_OP_UNMAP_WINDOW, kf->ctx_id,
			    m->win, 0, NULL, 0, NULL);
	kfree(m);
	akmc_file_put(kf);
}

static int akmc_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	/* A window mapping is one device mapping: it cannot be split */
	return -EINVAL;
}

static const struct vm_operations_struct akmc_vm_ops = {
	.fault = akmc_vm_fault,
	.close = akmc_vm_close,
	.may_split = akmc_vm_may_split,
};

int akmc_file_mmap(struct akmc_file *kf, struct vm_area_struct *vma)
{
	struct akmc_dev *dev = kf->dev;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	struct amdkfd_mc_cpl cpl = {};
	struct akmc_vma *m;
	pgprot_t prot;
	int ret;

	if (!akmc_same_process(kf))
		return -EBADF;
	if (!kf->ctx_alive)
		return -ENODEV;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	ret = akmc_simple(dev, AMDKFD_MC_OP_MAP_WINDOW, kf->ctx_id, off, len,
			  NULL, 0, &cpl);
	if (ret)
		goto err_free;
	if (cpl.value >= dev->win_size || len > dev->win_size - cpl.value ||
	    cpl.value % PAGE_SIZE) {
		ret = -EIO;
		goto err_unmap;
	}
	m->kf = kf;
	m->vma = vma;
	m->win = cpl.value;
	m->off = off;
	m->len = len;

	/* Doorbells and MMIO (types 3 and 0 of the KFD encoding): uncached */
	if (AKMC_MMAP_TYPE(off) == AKMC_MMAP_TYPE_DOORBELL ||
	    AKMC_MMAP_TYPE(off) == AKMC_MMAP_TYPE_MMIO)
		prot = pgprot_noncached(vma->vm_page_prot);
	else
		prot = pgprot_writecombine(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	vma->vm_page_prot = prot;
	ret = io_remap_pfn_range(vma, vma->vm_start,
				 (dev->win_base + m->win) >> PAGE_SHIFT, len,
				 prot);
	if (ret)
		goto err_unmap;
	kref_get(&kf->kref);
	mutex_lock(&kf->maps_lock);
	list_add_tail(&m->node, &kf->maps);
	mutex_unlock(&kf->maps_lock);
	vma->vm_private_data = m;
	vma->vm_ops = &akmc_vm_ops;
	return 0;

err_unmap:
	akmc_simple(dev, AMDKFD_MC_OP_UNMAP_WINDOW, kf->ctx_id, cpl.value, 0,
		    NULL, 0, NULL);
err_free:
	dev_dbg(&dev->pdev->dev, "ctx %#x mmap %#llx+%#llx: %d\n", kf->ctx_id,
		off, len, ret);
	kfree(m);
	return ret;
}

/* The /dev/kfd file of the calling process (its newest), with a ref */
struct akmc_file *akmc_file_of_current(struct akmc_dev *dev)
{
	struct akmc_file *kf, *found = NULL;

	mutex_lock(&dev->files_lock);
	list_for_each_entry_reverse(kf, &dev->files, node) {
		if (kf->mm == current->mm && kf->ctx_alive) {
			kref_get(&kf->kref);
			found = kf;
			break;
		}
	}
	mutex_unlock(&dev->files_lock);
	return found;
}

/* Track memory objects so that freeing one revokes its CPU mappings */
static void akmc_track_bo(struct akmc_file *kf, unsigned int cmd, void *arg)
{
	struct kfd_ioctl_alloc_memory_of_gpu_args *a = arg;
	struct kfd_ioctl_free_memory_of_gpu_args *f = arg;
	struct akmc_bo *bo;

	if (cmd == AMDKFD_IOC_ALLOC_MEMORY_OF_GPU) {
		/* Tiny, and a lost record would leave a stale mapping */
		bo = kzalloc(sizeof(*bo), GFP_KERNEL | __GFP_NOFAIL);
		bo->handle = a->handle;
		bo->offset = a->mmap_offset;
		bo->size = PAGE_ALIGN(a->size);
		mutex_lock(&kf->maps_lock);
		list_add_tail(&bo->node, &kf->bos);
		mutex_unlock(&kf->maps_lock);
	} else if (cmd == AMDKFD_IOC_FREE_MEMORY_OF_GPU) {
		mutex_lock(&kf->maps_lock);
		list_for_each_entry(bo, &kf->bos, node) {
			if (bo->handle != f->handle)
				continue;
			akmc_revoke_locked(kf, false, bo->offset, bo->size);
			list_del(&bo->node);
			kfree(bo);
			break;
		}
		mutex_unlock(&kf->maps_lock);
	}
}

/* ---- ioctls ---- */

/*
 * The embedded pointer of a request: where it is in the argument
 * structure, the count that sizes its array and the element size.
 */
struct akmc_ptr_desc {
	u32 ptr_off;
	u32 count_off;
	u32 elem;
	u32 max;
	bool copy_in;
	bool copy_out;
};

static bool akmc_ptr_of(unsigned int cmd, struct akmc_ptr_desc *d)
{
	switch (cmd) {
	case AMDKFD_IOC_GET_PROCESS_APERTURES_NEW:
		*d = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_get_process_apertures_new_args,
				 kfd_process_device_apertures_ptr),
			offsetof(struct kfd_ioctl_get_process_apertures_new_args,
				 num_of_nodes),
			sizeof(struct kfd_process_device_apertures),
			AMDKFD_MC_MAX_NODES, false, true };
		return true;
	case AMDKFD_IOC_MAP_MEMORY_TO_GPU:
	case AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU:
		*d = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_map_memory_to_gpu_args,
				 device_ids_array_ptr),
			offsetof(struct kfd_ioctl_map_memory_to_gpu_args,
				 n_devices),
			sizeof(u32), 64, true, false };
		return true;
	case AMDKFD_IOC_WAIT_EVENTS:
		*d = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_wait_events_args, events_ptr),
			offsetof(struct kfd_ioctl_wait_events_args, num_events),
			sizeof(struct kfd_event_data), KFD_SIGNAL_EVENT_LIMIT,
			true, true };
		return true;
	default:
		return false;
	}
}

static long akmc_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct akmc_file *kf = filp->private_data;
	void __user *uarg = (void __user *)arg;
	struct amdkfd_mc_cmd c = {
		.opcode = AMDKFD_MC_OP_IOCTL,
		.ctx_id = kf->ctx_id,
		.arg0 = cmd,
	};
	struct amdkfd_mc_cpl cpl = {};
	struct akmc_ptr_desc pd;
	u32 size = _IOC_SIZE(cmd);
	u32 count = 0, arr_off = 0, arr_len = 0, len;
	bool has_ptr = false;
	void __user *uptr = NULL;
	u64 *pfield;
	u32 *pcount;
	u8 *buf;
	long ret;

	if (_IOC_TYPE(cmd) != AMDKFD_IOCTL_BASE)
		return -ENOTTY;
	/* As the KFD does: a child cannot use its parent's context */
	if (!akmc_same_process(kf))
		return -EBADF;
	if (size > 4096)
		return -EINVAL;

	len = size;
	buf = kzalloc(size ? size : 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(buf, uarg, size)) {
		ret = -EFAULT;
		goto out;
	}

	if (akmc_ptr_of(cmd, &pd) && size >= pd.ptr_off + 8 &&
	    size >= pd.count_off + 4) {
		u8 *nbuf;

		has_ptr = true;
		pfield = (u64 *)(buf + pd.ptr_off);
		pcount = (u32 *)(buf + pd.count_off);
		uptr = u64_to_user_ptr(*pfield);
		count = *pcount;
		if (cmd == AMDKFD_IOC_GET_PROCESS_APERTURES_NEW &&
		    count > pd.max) {
			/* The KFD fills at most as many records as exist */
			count = pd.max;
			*pcount = count;
		}
		if (count > pd.max) {
			ret = -EINVAL;
			goto out;
		}
		arr_off = ALIGN(size, 8);
		arr_len = count * pd.elem;
		len = arr_off + arr_len;
		if (len > AMDKFD_MC_MAX_PAYLOAD) {
			ret = -EINVAL;
			goto out;
		}
		nbuf = krealloc(buf, len, GFP_KERNEL);
		if (!nbuf) {
			ret = -ENOMEM;
			goto out;
		}
		buf = nbuf;
		memset(buf + size, 0, len - size);
		pfield = (u64 *)(buf + pd.ptr_off);
		if (pd.copy_in && arr_len &&
		    copy_from_user(buf + arr_off, uptr, arr_len)) {
			ret = -EFAULT;
			goto out;
		}
		*pfield = count ? arr_off : 0;
	}

	ret = akmc_exec(kf->dev, &c, buf, len, &cpl, true);
	if (ret)
		goto out;
	ret = akmc_status_errno(&cpl);
	if (!ret)
		ret = cpl.result;
	if (cpl.status != AMDKFD_MC_S_OK)
		goto out;

	/* Copied back whatever the result, as the kernel does */
	if (has_ptr) {
		pfield = (u64 *)(buf + pd.ptr_off);
		*pfield = (u64)(uintptr_t)uptr;
		if (pd.copy_out && arr_len &&
		    copy_to_user(uptr, buf + arr_off, arr_len))
			ret = -EFAULT;
	}
	if (!ret)
		akmc_track_bo(kf, cmd, buf);
	if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, buf, size))
		ret = -EFAULT;
out:
	dev_dbg(&kf->dev->pdev->dev, "ctx %#x ioctl %#x (nr %#x): %ld\n",
		kf->ctx_id, cmd, _IOC_NR(cmd), ret);
	kfree(buf);
	return ret;
}

static int akmc_mmap(struct file *filp, struct vm_area_struct *vma)
{
	return akmc_file_mmap(filp->private_data, vma);
}

/* ---- open / release ---- */

static int akmc_open(struct inode *inode, struct file *filp)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct amdkfd_mc_context_info info = {};
	struct amdkfd_mc_cpl cpl = {};
	struct akmc_file *kf;
	int ret;

	if (!dev)
		return -ENODEV;
	kf = kzalloc(sizeof(*kf), GFP_KERNEL);
	if (!kf) {
		ret = -ENOMEM;
		goto err_put;
	}
	ret = akmc_simple(dev, AMDKFD_MC_OP_CREATE_CONTEXT, 0, 0, 0, &info,
			  sizeof(info), &cpl);
	if (ret)
		goto err_free;
	kf->dev = dev;
	kf->filp = filp;
	kf->ctx_id = cpl.value;
	kf->info.ctx_id = le32_to_cpu(info.ctx_id);
	kf->info.host_ctx_id = le32_to_cpu(info.host_ctx_id);
	kf->info.pasid = le32_to_cpu(info.pasid);
	kf->info.flags = le32_to_cpu(info.flags);
	kf->mm = current->mm;
	if (kf->mm)
		mmgrab(kf->mm);
	kf->tgid = current->tgid;
	kf->ctx_alive = true;
	kref_init(&kf->kref);
	mutex_init(&kf->maps_lock);
	INIT_LIST_HEAD(&kf->maps);
	INIT_LIST_HEAD(&kf->bos);
	filp->private_data = kf;

	mutex_lock(&dev->files_lock);
	list_add_tail(&kf->node, &dev->files);
	mutex_unlock(&dev->files_lock);
	dev_dbg(&dev->pdev->dev,
		"pid %d: context %#x, host context %#x, pasid %u, flags %#x\n",
		kf->tgid, kf->ctx_id, kf->info.host_ctx_id, kf->info.pasid,
		kf->info.flags);
	return 0;

err_free:
	kfree(kf);
err_put:
	akmc_dev_put(dev);
	return ret;
}

static int akmc_release(struct inode *inode, struct file *filp)
{
	struct akmc_file *kf = filp->private_data;
	struct akmc_dev *dev = kf->dev;

	mutex_lock(&dev->files_lock);
	list_del(&kf->node);
	mutex_unlock(&dev->files_lock);
	/* Mappings through a render node may outlive the file */
	mutex_lock(&kf->maps_lock);
	akmc_revoke_locked(kf, true, 0, 0);
	mutex_unlock(&kf->maps_lock);
	if (kf->ctx_alive) {
		kf->ctx_alive = false;
		akmc_simple(dev, AMDKFD_MC_OP_DESTROY_CONTEXT, kf->ctx_id, 0, 0,
			    NULL, 0, NULL);
	}
	akmc_file_put(kf);
	return 0;
}

static const struct file_operations akmc_fops = {
	.owner = THIS_MODULE,
	.open = akmc_open,
	.release = akmc_release,
	.unlocked_ioctl = akmc_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = akmc_mmap,
};

/* ---- debugfs: which host context backs which guest program ---- */

static int akmc_contexts_show(struct seq_file *s, void *unused)
{
	struct akmc_dev *dev = akmc_dev_get();
	struct akmc_file *kf;

	if (!dev)
		return 0;
	mutex_lock(&dev->files_lock);
	list_for_each_entry(kf, &dev->files, node)
		seq_printf(s, "pid=%d ctx=%#x host_ctx=%#x pasid=%u flags=%#x%s%s\n",
			   kf->tgid, kf->ctx_id, kf->info.host_ctx_id,
			   kf->info.pasid, kf->info.flags,
			   kf->info.flags & AMDKFD_MC_CTX_SECONDARY ?
			   " secondary" : "",
			   kf->info.flags & AMDKFD_MC_CTX_SHARED ?
			   " shared" : "");
	mutex_unlock(&dev->files_lock);
	akmc_dev_put(dev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(akmc_contexts);

/* ---- PCI ---- */

static int akmc_rings_init(struct akmc_dev *dev)
{
	struct device *d = &dev->pdev->dev;
	size_t sq_len = dev->entries * sizeof(struct amdkfd_mc_cmd);
	size_t cq_len = dev->entries * sizeof(struct amdkfd_mc_cpl);

	dev->sq = dmam_alloc_coherent(d, sq_len, &dev->sq_dma, GFP_KERNEL);
	dev->cq = dmam_alloc_coherent(d, cq_len, &dev->cq_dma, GFP_KERNEL);
	if (!dev->sq || !dev->cq)
		return -ENOMEM;
	memset(dev->cq, 0, cq_len);
	dev->sq_tail = 0;
	dev->cq_head = 0;
	dev->phase = true;
	akmc_wr(dev, AMDKFD_MC_REG_CONTROL, 0);
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

static int akmc_query(struct akmc_dev *dev)
{
	struct amdkfd_mc_topology *hdr;
	u32 len = sizeof(*hdr) + sizeof(dev->nodes);
	u32 i, n;
	int ret;

	ret = akmc_simple(dev, AMDKFD_MC_OP_DEVICE_INFO, 0, 0, 0, &dev->info,
			  sizeof(dev->info), NULL);
	if (ret)
		return ret;
	hdr = kzalloc(len, GFP_KERNEL);
	if (!hdr)
		return -ENOMEM;
	ret = akmc_simple(dev, AMDKFD_MC_OP_QUERY_TOPOLOGY, 0, 0, 0, hdr, len,
			  NULL);
	if (ret)
		goto out;
	n = le32_to_cpu(hdr->num_nodes);
	if (n > AMDKFD_MC_MAX_NODES ||
	    le32_to_cpu(hdr->node_size) != sizeof(dev->nodes[0])) {
		ret = -EPROTO;
		goto out;
	}
	memcpy(dev->nodes, hdr + 1, n * sizeof(dev->nodes[0]));
	for (i = 0; i < n; i++)
		dev->nodes[i].name[sizeof(dev->nodes[i].name) - 1] = 0;
	dev->num_nodes = n;
out:
	kfree(hdr);
	return ret;
}

static int akmc_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct akmc_dev *dev;
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
	ret = pcim_iomap_regions(pdev, BIT(AMDKFD_MC_BAR_REGS) |
				 BIT(AMDKFD_MC_BAR_WINDOW), AKMC_NAME);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	kref_init(&dev->kref);
	dev->pdev = pdev;
	dev->regs = pcim_iomap_table(pdev)[AMDKFD_MC_BAR_REGS];
	dev->win_base = pci_resource_start(pdev, AMDKFD_MC_BAR_WINDOW);
	dev->win_size = pci_resource_len(pdev, AMDKFD_MC_BAR_WINDOW);
	spin_lock_init(&dev->lock);
	mutex_init(&dev->files_lock);
	INIT_LIST_HEAD(&dev->files);
	dev->entries = AKMC_RING_ENTRIES;
	sema_init(&dev->slots, dev->entries - 1);
	dev->pending = kcalloc(dev->entries, sizeof(*dev->pending), GFP_KERNEL);
	if (!dev->pending) {
		ret = -ENOMEM;
		goto err_put;
	}
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

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX | PCI_IRQ_INTX);
	if (ret < 0)
		goto err_put;
	dev->irq = pci_irq_vector(pdev, AMDKFD_MC_MSIX_VEC_CQ);
	ret = akmc_rings_init(dev);
	if (ret)
		goto err_vec;
	ret = request_irq(dev->irq, akmc_irq, IRQF_SHARED, AKMC_NAME, dev);
	if (ret)
		goto err_rings;
	ret = akmc_query(dev);
	if (ret) {
		dev_err(&pdev->dev, "device/topology query failed: %d\n", ret);
		goto err_irq;
	}

	dev->kfd_dev = device_create(akmc_class, NULL, akmc_devt, NULL, "kfd");
	if (IS_ERR(dev->kfd_dev)) {
		ret = PTR_ERR(dev->kfd_dev);
		goto err_irq;
	}
	ret = akmc_topology_create(dev);
	if (ret)
		goto err_kfd;
	ret = akmc_render_init(dev);
	if (ret)
		goto err_topo;

	mutex_lock(&akmc_global_lock);
	akmc_current = dev;
	mutex_unlock(&akmc_global_lock);
	dev_info(&pdev->dev,
		 "ABI %u.%u, %s backend, KFD %u.%u, %u GPU node(s), window %llu MiB, max %u contexts\n",
		 ver >> 16, ver & 0xffff,
		 le32_to_cpu(dev->info.backend) == AMDKFD_MC_BACKEND_SIM ?
		 "sim" : "host", le32_to_cpu(dev->info.kfd_major),
		 le32_to_cpu(dev->info.kfd_minor), dev->num_nodes,
		 (unsigned long long)dev->win_size >> 20,
		 le32_to_cpu(dev->info.max_contexts));
	return 0;

err_topo:
	akmc_topology_destroy(dev);
err_kfd:
	device_destroy(akmc_class, akmc_devt);
err_irq:
	akmc_wr(dev, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
	free_irq(dev->irq, dev);
err_rings:
	akmc_wr(dev, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
err_vec:
	pci_free_irq_vectors(pdev);
err_put:
	akmc_dev_put(dev);
	return ret;
}

static void akmc_remove(struct pci_dev *pdev)
{
	struct akmc_dev *dev = pci_get_drvdata(pdev);
	struct akmc_file *kf;
	unsigned long flags;
	u32 slot;

	mutex_lock(&akmc_global_lock);
	akmc_current = NULL;
	mutex_unlock(&akmc_global_lock);

	akmc_topology_destroy(dev);
	device_destroy(akmc_class, akmc_devt);

	/*
	 * Revoke every user mapping of the window, so that nothing reaches
	 * the BAR once it is released; later faults get SIGBUS.
	 */
	mutex_lock(&dev->files_lock);
	list_for_each_entry(kf, &dev->files, node) {
		kf->ctx_alive = false;
		mutex_lock(&kf->maps_lock);
		akmc_revoke_locked(kf, true, 0, 0);
		mutex_unlock(&kf->maps_lock);
	}
	mutex_unlock(&dev->files_lock);
	akmc_render_fini(dev);

	/* The reset destroys every context and cancels running commands */
	spin_lock_irqsave(&dev->lock, flags);
	akmc_wr(dev, AMDKFD_MC_REG_CONTROL, AMDKFD_MC_CONTROL_RESET);
	dev->dead = true;
	for (slot = 0; slot < dev->entries; slot++)
		if (dev->pending[slot])
			akmc_req_finish(dev, slot, -ENODEV, NULL);
	spin_unlock_irqrestore(&dev->lock, flags);
	free_irq(dev->irq, dev);
	pci_free_irq_vectors(pdev);
	/* The rings and BARs are device-managed and go with the binding */
	akmc_dev_put(dev);
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
};

static int __init akmc_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&akmc_devt, 0, 1, "kfd");
	if (ret)
		return ret;
	cdev_init(&akmc_cdev, &akmc_fops);
	akmc_cdev.owner = THIS_MODULE;
	ret = cdev_add(&akmc_cdev, akmc_devt, 1);
	if (ret)
		goto err_region;
	akmc_class = class_create("kfd");
	if (IS_ERR(akmc_class)) {
		ret = PTR_ERR(akmc_class);
		goto err_cdev;
	}
	akmc_debugfs = debugfs_create_dir(AKMC_NAME, NULL);
	debugfs_create_file("contexts", 0444, akmc_debugfs, NULL,
			    &akmc_contexts_fops);
	ret = pci_register_driver(&akmc_driver);
	if (ret)
		goto err_class;
	return 0;

err_class:
	debugfs_remove_recursive(akmc_debugfs);
	class_destroy(akmc_class);
err_cdev:
	cdev_del(&akmc_cdev);
err_region:
	unregister_chrdev_region(akmc_devt, 1);
	return ret;
}

static void __exit akmc_exit(void)
{
	pci_unregister_driver(&akmc_driver);
	debugfs_remove_recursive(akmc_debugfs);
	class_destroy(akmc_class);
	cdev_del(&akmc_cdev);
	unregister_chrdev_region(akmc_devt, 1);
}

module_init(akmc_init);
module_exit(akmc_exit);

MODULE_DESCRIPTION("amdkfd-mc: /dev/kfd with an isolated host KFD context per open");
MODULE_AUTHOR("The amdkfd-mc authors");
MODULE_LICENSE("GPL");
