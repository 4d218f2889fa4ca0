// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * amdkfd-mc guest driver: KFD ioctls forwarded as OP_IOCTL
 *
 * Any 'K' request is copied into a payload: the argument structure, then,
 * each 8-byte aligned, the arrays behind its embedded pointers for the
 * requests that have them (GET_PROCESS_APERTURES_NEW,
 * MAP/UNMAP_MEMORY_TO_GPU, WAIT_EVENTS: one; GET_TILE_CONFIG: two), with
 * each pointer replaced by its array's byte offset in the payload.  The
 * reply is copied back whatever the KFD's result, as the kernel does,
 * with the caller's pointers restored; of an array the KFD fills, as many
 * elements as its count says on return.  The device is the
 * policy point (allowlist, refusals); here only sizes are bounded.
 * USERPTR allocations, and FREE/MAP/UNMAP of their handles, are made in
 * akmc_uptr.c instead.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 */

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/kfd_ioctl.h>

#include "akmc.h"

/* Largest argument structure accepted (the KFD's are far smaller) */
#define AKMC_IOCTL_MAX_ARG	4096

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
	bool clamp;	/* a larger count is cut to max, not refused */
};

/* Embedded pointers of one request at most */
#define AKMC_MAX_PTRS		2
/* Tile mode words asked for at most (the KFD has 32 and 16 on GFX9) */
#define AKMC_MAX_TILE_CONFIGS	64

/* The embedded pointers of @cmd in @d (AKMC_MAX_PTRS); how many */
static unsigned int akmc_ptrs_of(unsigned int cmd, struct akmc_ptr_desc *d)
{
	switch (cmd) {
	case AMDKFD_IOC_GET_TILE_CONFIG:
		/* The KFD fills at most as many words as it has */
		d[0] = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_get_tile_config_args,
				 tile_config_ptr),
			offsetof(struct kfd_ioctl_get_tile_config_args,
				 num_tile_configs),
			sizeof(u32), AKMC_MAX_TILE_CONFIGS, false, true, true };
		d[1] = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_get_tile_config_args,
				 macro_tile_config_ptr),
			offsetof(struct kfd_ioctl_get_tile_config_args,
				 num_macro_tile_configs),
			sizeof(u32), AKMC_MAX_TILE_CONFIGS, false, true, true };
		return 2;
	case AMDKFD_IOC_GET_PROCESS_APERTURES_NEW:
		/* The KFD fills at most as many records as nodes exist */
		*d = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_get_process_apertures_new_args,
				 kfd_process_device_apertures_ptr),
			offsetof(struct kfd_ioctl_get_process_apertures_new_args,
				 num_of_nodes),
			sizeof(struct kfd_process_device_apertures),
			AMDKFD_MC_MAX_NODES, false, true, true };
		return 1;
	case AMDKFD_IOC_MAP_MEMORY_TO_GPU:
	case AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU:
		*d = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_map_memory_to_gpu_args,
				 device_ids_array_ptr),
			offsetof(struct kfd_ioctl_map_memory_to_gpu_args,
				 n_devices),
			sizeof(u32), 64, true, false, false };
		return 1;
	case AMDKFD_IOC_WAIT_EVENTS:
		/* 24 + 4096 * 48 bytes: within AMDKFD_MC_MAX_PAYLOAD */
		*d = (struct akmc_ptr_desc) {
			offsetof(struct kfd_ioctl_wait_events_args, events_ptr),
			offsetof(struct kfd_ioctl_wait_events_args, num_events),
			sizeof(struct kfd_event_data), KFD_SIGNAL_EVENT_LIMIT,
			true, true, false };
		return 1;
	default:
		return 0;
	}
}

static_assert(ALIGN(sizeof(struct kfd_ioctl_wait_events_args), 8) +
	      KFD_SIGNAL_EVENT_LIMIT * sizeof(struct kfd_event_data) <=
	      AMDKFD_MC_MAX_PAYLOAD);

/* Where the array goes and how big the payload is */
/* One array of a request in the payload */
struct akmc_arr {
	struct akmc_ptr_desc pd;
	void __user *uptr;
	u32 count;
	u32 off;
	u32 len;
};

struct akmc_layout {
	struct akmc_arr arr[AKMC_MAX_PTRS];
	unsigned int n;
	u32 len;
};

/*
 * Lays out the payload for the argument @arg of @size bytes; a pointer
 * that a shorter argument does not reach is none (the device zero-extends
 * the argument, so it reads NULL and a count of 0)
 */
static int akmc_layout(unsigned int cmd, u8 *arg, u32 size,
		       struct akmc_layout *l)
{
	struct akmc_ptr_desc pd[AKMC_MAX_PTRS];
	unsigned int i, n = akmc_ptrs_of(cmd, pd);
	struct akmc_arr *r;
	u32 *pcount;

	memset(l, 0, sizeof(*l));
	l->len = size;
	for (i = 0; i < n; i++) {
		if (size < pd[i].ptr_off + 8 || size < pd[i].count_off + 4)
			continue;
		r = &l->arr[l->n++];
		r->pd = pd[i];
		r->uptr = u64_to_user_ptr(*(u64 *)(arg + pd[i].ptr_off));
		pcount = (u32 *)(arg + pd[i].count_off);
		if (*pcount > pd[i].max) {
			if (!pd[i].clamp)
				return -EINVAL;
			*pcount = pd[i].max;
		}
		r->count = *pcount;
		r->off = ALIGN(l->len, 8);
		r->len = r->count * pd[i].elem;
		l->len = r->off + r->len;
		if (l->len > AMDKFD_MC_MAX_PAYLOAD)
			return -EINVAL;
	}
	return 0;
}

/* What became of a command that akmc_req_run() answered with @run_ret */
enum akmc_outcome akmc_req_outcome(struct akmc_req *req, int run_ret)
{
	if (run_ret)
		return akmc_req_submitted(req) ? AKMC_UNKNOWN : AKMC_REFUSED;
	switch (akmc_req_cpl(req)->status) {
	case AMDKFD_MC_S_OK:
		return AKMC_RAN;
	case AMDKFD_MC_S_INVALID_OPCODE:
	case AMDKFD_MC_S_INVALID_ARGUMENT:
	case AMDKFD_MC_S_NO_RESOURCES:
	case AMDKFD_MC_S_NOT_SUPPORTED:
		/* refused before the backend saw anything */
		return AKMC_REFUSED;
	default:
		/* a dying context, or a payload the device could not write */
		return AKMC_UNKNOWN;
	}
}

/*
 * Forwards the KFD request @cmd with a kernel copy of its argument (@arg,
 * @size bytes) and, for a request with one embedded pointer, of its array
 * (@arr, @arr_len bytes), as akmc_ioctl() does for user space.  Returns
 * the KFD's result when the device ran it, else an errno; *@how says what
 * became of it.  @arg holds the reply (with the pointer as it was).
 */
int akmc_kfd_call(struct akmc_file *kf, unsigned int cmd, void *arg,
		  u32 size, const void *arr, u32 arr_len,
		  enum akmc_outcome *how)
{
	struct amdkfd_mc_cmd c = {
		.opcode = AMDKFD_MC_OP_IOCTL, .ctx_id = kf->ctx_id, .arg0 = cmd,
	};
	const struct amdkfd_mc_cpl *cpl;
	struct akmc_ptr_desc pds[AKMC_MAX_PTRS];
	bool has_ptr = akmc_ptrs_of(cmd, pds) == 1 &&
		       size >= pds[0].ptr_off + 8;
	u32 arr_off = ALIGN(size, 8);
	struct akmc_req *req;
	u64 uptr = 0;
	u8 *buf;
	int ret;

	*how = AKMC_REFUSED;
	if (!has_ptr)
		arr_len = 0;
	req = akmc_req_new(kf->dev, arr_off + arr_len);
	if (!req)
		return -ENOMEM;
	buf = akmc_req_payload(req);
	memcpy(buf, arg, size);
	if (has_ptr) {
		memcpy(&uptr, buf + pds[0].ptr_off, 8);
		memcpy(buf + arr_off, arr, arr_len);
		*(u64 *)(buf + pds[0].ptr_off) = arr_len ? arr_off : 0;
	}
	ret = akmc_req_run(req, kf->proc, &c, AKMC_RUN_KILLABLE);
	*how = akmc_req_outcome(req, ret);
	if (ret)
		goto out;
	cpl = akmc_req_cpl(req);
	ret = akmc_status_errno(cpl);
	if (cpl->status != AMDKFD_MC_S_OK)
		goto out;
	ret = cpl->result < 0 && cpl->result >= -MAX_ERRNO ? cpl->result : 0;
	if (has_ptr)
		*(u64 *)(buf + pds[0].ptr_off) = uptr;
	memcpy(arg, buf, size);
out:
	akmc_req_put(req);
	return ret;
}

long akmc_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	struct akmc_file *kf = filp->private_data;
	struct akmc_dev *dev = kf->dev;
	void __user *uarg = (void __user *)arg;
	struct amdkfd_mc_cmd c = {
		.opcode = AMDKFD_MC_OP_IOCTL,
		.ctx_id = kf->ctx_id,
		.arg0 = cmd,
	};
	u8 argbuf[64] __aligned(8);
	const struct amdkfd_mc_cpl *cpl;
	u32 size = _IOC_SIZE(cmd);
	struct akmc_req *req = NULL;
	struct akmc_layout l;
	u8 *a = argbuf, *buf;
	struct akmc_arr *r;
	unsigned int i;
	bool handled;
	long ret;
	u32 n;

	if (_IOC_TYPE(cmd) != AMDKFD_IOCTL_BASE)
		return -ENOTTY;
	/* As the KFD does: a child cannot use its parent's context */
	if (!akmc_same_process(kf))
		return -EBADF;
	if (size > AKMC_IOCTL_MAX_ARG)
		return -EINVAL;
	/* The device went away (its context with it) */
	if (!READ_ONCE(kf->ctx_alive))
		return -ENODEV;

	if (size > sizeof(argbuf)) {
		a = kmalloc(size, GFP_KERNEL);
		if (!a)
			return -ENOMEM;
	}
	memset(a, 0, size);
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(a, uarg, size)) {
		ret = -EFAULT;
		goto out;
	}
	if (akmc_uptr_handles(cmd)) {
		ret = akmc_uptr_ioctl(kf, cmd, a, size, uarg, &handled);
		if (handled)
			goto out;
	}
	ret = akmc_layout(cmd, a, size, &l);
	if (ret)
		goto out;

	req = akmc_req_new(dev, l.len);
	if (!req) {
		ret = -ENOMEM;
		goto out;
	}
	buf = akmc_req_payload(req);
	if (size)
		memcpy(buf, a, size);
	for (i = 0; i < l.n; i++) {
		r = &l.arr[i];
		if (r->pd.copy_in && r->len &&
		    copy_from_user(buf + r->off, r->uptr, r->len)) {
			ret = -EFAULT;
			goto out;
		}
		*(u64 *)(buf + r->pd.ptr_off) = r->count ? r->off : 0;
	}

	ret = akmc_req_run(req, kf->proc, &c, AKMC_RUN_KILLABLE |
			   (cmd == AMDKFD_IOC_WAIT_EVENTS ? AKMC_RUN_WAIT : 0));
	if (ret)
		goto out;
	cpl = akmc_req_cpl(req);
	/* S_NO_RESOURCES (a limit of the context or device): ENOSPC */
	ret = akmc_status_errno(cpl);
	if (!ret)
		ret = cpl->result < 0 && cpl->result >= -MAX_ERRNO ?
		      cpl->result : 0;
	if (cpl->status != AMDKFD_MC_S_OK)
		goto out;

	/* Copied back whatever the result, as the kernel does */
	for (i = 0; i < l.n; i++) {
		r = &l.arr[i];
		/* as many elements as the KFD says it filled, no more */
		n = min(*(u32 *)(buf + r->pd.count_off), r->count);
		*(u64 *)(buf + r->pd.ptr_off) = (u64)(uintptr_t)r->uptr;
		if (r->pd.copy_out && n &&
		    copy_to_user(r->uptr, buf + r->off, n * r->pd.elem))
			ret = -EFAULT;
	}
	if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(uarg, buf, size))
		ret = -EFAULT;
out:
	dev_dbg(&dev->pdev->dev, "ctx %#x ioctl %#x (nr %#x): %ld\n",
		kf->ctx_id, cmd, _IOC_NR(cmd), ret);
	if (req)
		akmc_req_put(req);
	if (a != argbuf)
		kfree(a);
	return ret;
}
