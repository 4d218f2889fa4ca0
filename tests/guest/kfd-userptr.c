/*
 * amdkfd-mc guest test: USERPTR memory (a program's own pages for the GPU)
 *
 *   kfd-userptr dma [MIN_OBJECTS]   GPU DMA into and out of malloc'd memory
 *                                   registered as USERPTR; a fragmented
 *                                   buffer must become at least
 *                                   MIN_OBJECTS device objects
 *   kfd-userptr attack [--legacy]   B's DMA to A's USERPTR addresses must
 *                                   fault, A's data intact (--legacy: the
 *                                   same attack must succeed)
 *   kfd-userptr bad                 hostile arguments, as an unprivileged
 *                                   program
 *   kfd-userptr limit MIB           the per-process pin bound (the caller
 *                                   set max_pinned_mb_per_process to MIB)
 *   kfd-userptr race SECONDS        munmap, remap, FREE and exit racing
 *                                   registrations from other threads
 *   kfd-userptr nofeature           USERPTR refused (userptr=0): the errno
 *                                   the KFD gives where it cannot do it
 *   kfd-userptr hold                registers memory and keeps registering
 *                                   until /tmp/up.go exists (the device is
 *                                   removed meanwhile), then expects ENODEV
 *
 * -u UID before the mode: root drops to UID first (an unprivileged
 * program; the checks then read the process's own VmPin, since debugfs
 * is root's).
 *
 * Prints one line per check and "kfd-userptr: PASS" or "FAIL"; exits 0 on
 * PASS.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include "kfdt.h"
#include "report.h"

#define UP_FLAGS (KFD_IOC_ALLOC_MEM_FLAGS_USERPTR | \
                  KFD_IOC_ALLOC_MEM_FLAGS_WRITABLE | \
                  KFD_IOC_ALLOC_MEM_FLAGS_EXECUTABLE | \
                  KFD_IOC_ALLOC_MEM_FLAGS_NO_SUBSTITUTE)

/* ---- USERPTR ioctls ---- */

/*
 * kfdt_open() without the driver's debugfs, which only root may read:
 * open, version, the first GPU, ACQUIRE_VM
 */
static int up_open(KfdProc *p)
{
    struct kfd_ioctl_acquire_vm_args vm = { 0 };
    int ret = kfdt_open(p);

    if (ret != -EACCES && ret != -ENOENT) {
        return ret;
    }
    if (p->fd < 0 || !p->gpu_id) {
        return -ENODEV;
    }
    vm.gpu_id = p->gpu_id;
    return kfdt_ioctl(p, AMDKFD_IOC_ACQUIRE_VM, &vm);
}

static int up_alloc_flags(KfdProc *p, const void *cpu, uint64_t size,
                          uint64_t va, uint32_t flags, uint64_t *handle)
{
    struct kfd_ioctl_alloc_memory_of_gpu_args a = {
        .va_addr = va, .size = size, .gpu_id = p->gpu_id, .flags = flags,
        .mmap_offset = (uintptr_t)cpu,
    };
    int ret = kfdt_ioctl(p, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a);

    *handle = ret ? 0 : a.handle;
    return ret;
}

static int up_alloc(KfdProc *p, const void *cpu, uint64_t size, uint64_t va,
                    uint64_t *handle)
{
    return up_alloc_flags(p, cpu, size, va, UP_FLAGS, handle);
}

static int up_map(KfdProc *p, uint64_t handle, bool map)
{
    uint32_t ids[1] = { p->gpu_id };
    struct kfd_ioctl_map_memory_to_gpu_args m = {
        .handle = handle, .device_ids_array_ptr = (uintptr_t)ids,
        .n_devices = 1,
    };
    int ret = kfdt_ioctl(p, map ? AMDKFD_IOC_MAP_MEMORY_TO_GPU :
                         AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, &m);

    if (!ret && m.n_success != 1) {
        return -EPROTO;
    }
    return ret;
}

static int up_free(KfdProc *p, uint64_t handle)
{
    struct kfd_ioctl_free_memory_of_gpu_args a = { .handle = handle };

    return kfdt_ioctl(p, AMDKFD_IOC_FREE_MEMORY_OF_GPU, &a);
}

/* ---- what the driver and the kernel say ---- */

static long vm_pin_kb(void);

/*
 * This process's pinned pages as the driver counts them (debugfs procs),
 * or, for an unprivileged program, as its mm counts them (VmPin)
 */
static long drv_pinned(pid_t pid)
{
    FILE *f = fopen("/sys/kernel/debug/amdkfd_mc/procs", "r");
    char line[256];
    long pinned = 0;

    if (!f) {
        return vm_pin_kb() / (KFDT_PAGE / 1024);
    }
    while (fgets(line, sizeof(line), f)) {
        int p;
        char *s = strstr(line, "pinned=");

        if (sscanf(line, "pid=%d", &p) == 1 && p == pid && s) {
            pinned = atol(s + 7);
        }
    }
    fclose(f);
    return pinned;
}

/* VmPin of this process in kB (the mm's pinned_vm) */
static long vm_pin_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmPin: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}

/* Device objects of the allocation whose first handle is @handle */
static int drv_objects(pid_t pid, uint64_t handle, uint64_t *second)
{
    FILE *f = fopen("/sys/kernel/debug/amdkfd_mc/uptrs", "r");
    char line[256];
    int objects = -1;

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        int p, n;
        unsigned long long h0, h1;

        if (sscanf(line, "pid=%d objects=%d handles=%llx,%llx", &p, &n,
                   &h0, &h1) >= 3 && p == pid && h0 == handle) {
            objects = n;
            if (second) {
                *second = n > 1 ? h1 : 0;
            }
        }
    }
    fclose(f);
    return objects;
}

/* ---- GPU DMA through an SDMA queue ---- */

typedef struct {
    KfdProc p;
    KfdQueue q;
    uint32_t mem_ev;
    uint32_t seq;
} Gpu;

static int gpu_open(Gpu *g, uint64_t base)
{
    int ret;

    memset(g, 0, sizeof(*g));
    ret = up_open(&g->p);
    if (!ret) {
        ret = kfdt_event_new(&g->p, KFD_IOC_EVENT_MEMORY, &g->mem_ev);
    }
    if (!ret) {
        ret = kfdt_queue_new(&g->p, base, &g->q);
    }
    return ret;
}

/*
 * Runs the copies queued since the last run (at most a ring's worth) and
 * waits for their fence: 0 when it landed, 1 on a VM fault, -errno.
 */
static int gpu_run(Gpu *g)
{
    /* volatile: the GPU writes the fence behind the compiler's back */
    volatile uint8_t *fence = g->q.ptrs.cpu + 256;
    uint32_t wr;

    g->seq++;
    kfdt_fence(&g->q, g->q.ptrs.va + 256, g->seq);
    kfdt_kick(&g->q);
    return kfdt_settle(&g->p, fence, g->seq, g->mem_ev, 10000, &wr);
}

/*
 * Copies @len bytes in pages: a copy never spans two pages, so it never
 * spans two device objects of a split allocation either (the sim's DMA
 * engine translates one object per copy).
 */
static int gpu_copy(Gpu *g, uint64_t src, uint64_t dst, uint64_t len)
{
    uint64_t off;
    unsigned n = 0;
    int ret;

    for (off = 0; off < len; off += KFDT_PAGE) {
        kfdt_copy(&g->q, src + off, dst + off,
                  len - off < KFDT_PAGE ? len - off : KFDT_PAGE);
        /* a 4 KiB ring holds 146 copies; leave room for the fence */
        if (++n == 100) {
            ret = gpu_run(g);
            if (ret) {
                return ret;
            }
            n = 0;
        }
    }
    return gpu_run(g);
}

/* volatile: the memory is the GPU's too, every byte is really written */
static void fill(volatile uint8_t *p, uint64_t len, uint32_t seed)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed + i * 7 + (i >> 12));
    }
}

/* volatile: read what the GPU wrote, not what the compiler remembers */
static bool filled(const volatile uint8_t *p, uint64_t len, uint32_t seed)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != (uint8_t)(seed + i * 7 + (i >> 12))) {
            return false;
        }
    }
    return true;
}

/*
 * Anonymous memory whose pages are not physically contiguous: each page
 * is faulted right after a page of a decoy mapping, so the allocator's
 * consecutive pages alternate between the two (a buffer faulted alone
 * can come out contiguous, and then nothing needs splitting)
 */
static void *fragmented(size_t len)
{
    uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *decoy = mmap(NULL, len, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    size_t off;

    if (m == MAP_FAILED || decoy == MAP_FAILED) {
        return NULL;
    }
    madvise(m, len, MADV_NOHUGEPAGE);
    madvise(decoy, len, MADV_NOHUGEPAGE);
    /* last page first too: descending virtual, ascending physical */
    for (off = len; off; off -= KFDT_PAGE) {
        decoy[off - KFDT_PAGE] = 1;
        m[off - KFDT_PAGE] = 1;
    }
    /* the decoy's pages stay allocated, and between m's, until exit */
    return m;
}

#define VA_QUEUE  0x100000000ULL
#define VA_GTT    0x110000000ULL
#define VA_UP     0x200000000ULL
#define VA_UP2    0x300000000ULL

static int mode_dma(int min_objects)
{
    const uint64_t len = 1 << 20, flen = 512 << 10;
    uint64_t h, h2, second = 0;
    long pin0, kb0, kb;
    uint8_t *buf, *frag;
    KfdBuf gtt;
    Gpu g;
    int ret, n;

    ret = gpu_open(&g, VA_QUEUE);
    check(!ret, "open, memory event and SDMA queue: %s", strerror(-ret));
    if (ret) {
        return report_finish("kfd-userptr");
    }
    ret = kfdt_buf_new(&g.p, VA_GTT, len, &gtt);
    check(!ret, "GTT buffer: %s", strerror(-ret));
    if (ret) {
        return report_finish("kfd-userptr");
    }
    pin0 = drv_pinned(g.p.pid);
    kb0 = vm_pin_kb();

    /* malloc'd memory, registered as libhsakmt registers it */
    buf = malloc(len + KFDT_PAGE);
    buf = (uint8_t *)(((uintptr_t)buf + KFDT_PAGE - 1) & ~(KFDT_PAGE - 1));
    memset(buf, 0x11, len);
    ret = up_alloc(&g.p, buf, len, VA_UP, &h);
    check(!ret, "USERPTR of 1 MiB of malloc'd memory: handle 0x%llx (%s)",
          (unsigned long long)h, strerror(-ret));
    if (ret) {
        return report_finish("kfd-userptr");
    }
    kb = vm_pin_kb();
    check(drv_pinned(g.p.pid) - pin0 == (long)(len / KFDT_PAGE) &&
          kb - kb0 == (long)(len >> 10),
          "pinned: driver %ld pages, VmPin %ld kB more",
          drv_pinned(g.p.pid) - pin0, kb - kb0);
    ret = up_map(&g.p, h, true);
    check(!ret, "MAP_MEMORY_TO_GPU: %s", strerror(-ret));

    /* GPU -> program: the data appears in the program's own pages */
    fill(gtt.cpu, len, 3);
    ret = gpu_copy(&g, VA_GTT, VA_UP, len);
    check(!ret && filled(buf, len, 3),
          "GPU DMA GTT -> USERPTR: the malloc'd buffer holds it (%d)", ret);
    /* program -> GPU */
    fill(buf, len, 5);
    memset((void *)gtt.cpu, 0, len);
    ret = gpu_copy(&g, VA_UP, VA_GTT, len);
    check(!ret && filled(gtt.cpu, len, 5),
          "GPU DMA USERPTR -> GTT: the GPU read the program's writes (%d)",
          ret);
    /* the same pages registered again in the same context: allowed */
    ret = up_alloc(&g.p, buf, KFDT_PAGE, VA_UP + 0x8000000, &h2);
    check(!ret, "the same page registered twice in one context: %s",
          strerror(-ret));
    if (!ret) {
        check(!up_free(&g.p, h2), "FREE of the second registration");
    }
    ret = up_free(&g.p, h);
    check(ret == -EBUSY, "FREE while mapped: %s (the KFD's EBUSY)",
          strerror(-ret));
    check(!up_map(&g.p, h, false) && !up_free(&g.p, h),
          "UNMAP and FREE");
    check(up_free(&g.p, h) == -EINVAL, "FREE again: EINVAL");
    check(drv_pinned(g.p.pid) == pin0 && vm_pin_kb() == kb0,
          "unpinned after FREE: driver %ld, VmPin %ld kB",
          drv_pinned(g.p.pid), vm_pin_kb());

    /* a fragmented buffer: several device objects behind one handle */
    frag = fragmented(flen);
    ret = frag ? up_alloc(&g.p, frag, flen, VA_UP2, &h) : -ENOMEM;
    n = ret ? -1 : drv_objects(g.p.pid, h, &second);
    check(!ret && n >= min_objects,
          "fragmented 512 KiB: %d device objects behind handle 0x%llx (at "
          "least %d expected; %s)", n, (unsigned long long)h, min_objects,
          strerror(-ret));
    if (!ret) {
        check(!up_map(&g.p, h, true), "MAP fans out to every object");
        fill(gtt.cpu, flen, 9);
        ret = gpu_copy(&g, VA_GTT, VA_UP2, flen);
        check(!ret && filled(frag, flen, 9),
              "GPU DMA into every object of the split buffer (%d)", ret);
        if (second) {
            check(up_free(&g.p, second) == -EINVAL &&
                  up_map(&g.p, second, false) == -EINVAL,
                  "FREE/UNMAP of the second object's own handle 0x%llx: "
                  "EINVAL", (unsigned long long)second);
        }
        check(!up_map(&g.p, h, false) && !up_free(&g.p, h),
              "UNMAP and FREE fan out");
    }
    /* AQL queue memory: the KFD maps its pages twice in a row */
    {
        uint8_t *aq = aligned_alloc(KFDT_PAGE, KFDT_PAGE);

        memset(aq, 0, KFDT_PAGE);
        ret = up_alloc_flags(&g.p, aq, 2 * KFDT_PAGE, VA_UP2, UP_FLAGS |
                             KFD_IOC_ALLOC_MEM_FLAGS_AQL_QUEUE_MEM, &h);
        check(!ret && drv_pinned(g.p.pid) == pin0 + 1,
              "AQL queue memory of 2 pages: 1 page pinned (%s)",
              strerror(-ret));
        if (!ret && !up_map(&g.p, h, true)) {
            fill(gtt.cpu, 64, 21);
            ret = gpu_copy(&g, VA_GTT, VA_UP2 + KFDT_PAGE + 64, 64);
            check(!ret && filled(aq + 64, 64, 21),
                  "DMA to its second GPU page lands in its one page (%d)",
                  ret);
            up_map(&g.p, h, false);
        }
        check(!ret && !up_free(&g.p, h) && drv_pinned(g.p.pid) == pin0,
              "FREE unpins it");
    }
    /* hold a registration for the host's QMP poller to see */
    ret = up_alloc(&g.p, buf, len, VA_UP, &h);
    check(!ret, "USERPTR held for 2 s (guest-memory-bytes > 0 on the host)");
    usleep(2000000);
    check(drv_pinned(g.p.pid) == pin0 + (long)(len / KFDT_PAGE),
          "still pinned before exit");
    /* exit with it registered: the context's destruction unpins it */
    return report_finish("kfd-userptr");
}

/* ---- B attacks A's USERPTR memory ---- */

#define SECRET "the secret of A in its own malloc'd pages"

static int mode_attack(bool legacy)
{
    int to_b[2], to_a[2];
    char c;
    pid_t b;
    int st;

    if (pipe(to_b) || pipe(to_a)) {
        return 1;
    }
    b = fork();
    if (b == 0) {
        /* B: its own /dev/kfd; GPU DMA from and to A's GPU addresses */
        uint32_t wr;
        KfdBuf dst;
        Gpu g;
        int ret, fault;

        close(to_b[1]);
        close(to_a[0]);
        if (read(to_b[0], &c, 1) != 1) {
            _exit(2);
        }
        ret = gpu_open(&g, VA_QUEUE + 0x1000000000ULL);
        if (!ret) {
            ret = kfdt_buf_new(&g.p, VA_GTT + 0x1000000000ULL, KFDT_PAGE,
                               &dst);
        }
        check(!ret, "B: open, queue and buffer: %s", strerror(-ret));
        if (ret) {
            /* A's read sees the pipe close */
            _exit(report_finish("kfd-userptr"));
        }
        memset((void *)dst.cpu, 0xAA, KFDT_PAGE);
        /* read A's secret */
        kfdt_copy(&g.q, VA_UP, dst.va, sizeof(SECRET));
        fault = gpu_run(&g);
        if (legacy) {
            check(!memcmp((void *)dst.cpu, SECRET, sizeof(SECRET)),
                  "B read A's USERPTR secret (legacy-shared: breach seen): "
                  "\"%.42s\"", (char *)dst.cpu);
        } else {
            check(fault == 1 && dst.cpu[0] == 0xAA,
                  "B's DMA from A's USERPTR address faulted (%d), nothing "
                  "read", fault);
        }
        /* overwrite A's pages; a faulted queue is halted, so a new one */
        if (fault == 1) {
            kfdt_event_wait(&g.p, g.mem_ev, 0, &wr);
            ret = kfdt_queue_new(&g.p, VA_QUEUE + 0x1100000000ULL, &g.q);
        }
        memcpy((void *)dst.cpu, "B WAS HERE", 11);
        kfdt_copy(&g.q, dst.va, VA_UP, 11);
        fault = gpu_run(&g);
        check(legacy ? fault == 0 : fault == 1,
              "B's DMA to A's USERPTR address: %s (%d)",
              fault == 1 ? "faulted" : fault == 0 ? "ran" : "error", fault);
        if (write(to_a[1], "x", 1) != 1) {
            _exit(2);
        }
        _exit(report_finish("kfd-userptr"));
    }

    /* A: registers a malloc'd secret and keeps it mapped */
    close(to_b[0]);
    close(to_a[1]);
    {
        uint8_t *buf = aligned_alloc(KFDT_PAGE, KFDT_PAGE);
        uint64_t h;
        KfdProc p;
        int ret = up_open(&p);

        memset(buf, 0, KFDT_PAGE);
        memcpy(buf, SECRET, sizeof(SECRET));
        if (!ret) {
            ret = up_alloc(&p, buf, KFDT_PAGE, VA_UP, &h);
        }
        if (!ret) {
            ret = up_map(&p, h, true);
        }
        check(!ret, "A: USERPTR secret at GPU VA 0x%llx: %s",
              (unsigned long long)VA_UP, strerror(-ret));
        if (write(to_b[1], "x", 1) != 1 || read(to_a[0], &c, 1) != 1) {
            check(false, "A: B went away");
        }
        if (legacy) {
            check(!memcmp(buf, "B WAS HERE", 11),
                  "A's pages were overwritten by B (legacy-shared: breach "
                  "seen)");
        } else {
            check(!memcmp(buf, SECRET, sizeof(SECRET)),
                  "A's data intact: \"%.42s\"", (char *)buf);
        }
        waitpid(b, &st, 0);
        check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "B's checks passed");
        /*
         * The attack is over in milliseconds: keep the registration for
         * the host's QMP poller to see (on the legacy boot nothing else
         * holds guest memory that long)
         */
        usleep(2000000);
        return report_finish("kfd-userptr");
    }
}

/* ---- hostile arguments ---- */

static void *race_region;
/* volatile: set by the main thread, polled by the racing threads */
static volatile int race_stop;

static int mode_bad(void)
{
    uint8_t *buf = aligned_alloc(KFDT_PAGE, 4 * KFDT_PAGE);
    uint8_t *ro, *sh, *hole;
    uint64_t h;
    KfdProc p, p2;
    KfdBuf gtt;
    int ret, pipefd[2];
    pid_t child;
    long pin0;

    ret = up_open(&p);
    check(!ret, "open as uid %d: %s", (int)getuid(), strerror(-ret));
    if (ret) {
        return report_finish("kfd-userptr");
    }
    pin0 = drv_pinned(p.pid);
    memset(buf, 1, 4 * KFDT_PAGE);
    check(up_alloc(&p, buf + 8, KFDT_PAGE, VA_UP, &h) == -EINVAL,
          "unaligned user address: EINVAL");
    check(up_alloc(&p, buf, 0, VA_UP, &h) == -EINVAL, "size 0: EINVAL");
    check(up_alloc(&p, NULL, KFDT_PAGE, VA_UP, &h) == -EINVAL,
          "user address 0: EINVAL");
    check(up_alloc(&p, (void *)-KFDT_PAGE, 2 * KFDT_PAGE, VA_UP, &h) ==
          -EINVAL, "wrapping user range: EINVAL");
    check(up_alloc(&p, buf, KFDT_PAGE, -KFDT_PAGE, &h) == -EINVAL ||
          up_alloc(&p, buf, 2 * KFDT_PAGE, -KFDT_PAGE, &h) == -EINVAL,
          "wrapping GPU range: EINVAL");
    check(up_alloc(&p, (void *)0xffff888000000000ULL, KFDT_PAGE, VA_UP,
                   &h) == -EFAULT, "kernel address: EFAULT");
    check(up_alloc(&p, buf, 1ULL << 46, VA_UP, &h) == -EFAULT ||
          up_alloc(&p, buf, 1ULL << 46, VA_UP, &h) == -ENOMEM,
          "huge (64 TiB): refused (%s)",
          strerror(-up_alloc(&p, buf, 1ULL << 46, VA_UP, &h)));
    hole = mmap(NULL, 3 * KFDT_PAGE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole + KFDT_PAGE, KFDT_PAGE);
    check(up_alloc(&p, hole, 3 * KFDT_PAGE, VA_UP, &h) == -EFAULT,
          "range with an unmapped page: EFAULT");
    ro = mmap(NULL, KFDT_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(up_alloc(&p, ro, KFDT_PAGE, VA_UP, &h) == -EPERM,
          "read-only mapping: EPERM");
    sh = mmap(NULL, KFDT_PAGE, PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    check(up_alloc(&p, sh, KFDT_PAGE, VA_UP, &h) == -EPERM,
          "shared mapping (pages another program may map): EPERM");
    ret = kfdt_buf_new(&p, VA_GTT, KFDT_PAGE, &gtt);
    check(!ret && up_alloc(&p, (void *)gtt.cpu, KFDT_PAGE, VA_UP, &h) ==
          -EFAULT, "a window mapping of /dev/kfd: EFAULT");
    check(up_alloc_flags(&p, buf, KFDT_PAGE, VA_UP, UP_FLAGS, &h) == 0 &&
          up_free(&p, h) == 0, "a valid one still works");
    {
        struct kfd_ioctl_alloc_memory_of_gpu_args a = {
            .va_addr = VA_UP, .size = KFDT_PAGE, .gpu_id = 0xdead,
            .flags = UP_FLAGS, .mmap_offset = (uintptr_t)buf,
        };

        check(kfdt_ioctl(&p, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, &a) == -EINVAL,
              "unknown gpu_id: EINVAL");
    }
    /* another context of the same process: pages are never shared */
    ret = up_alloc(&p, buf, KFDT_PAGE, VA_UP, &h);
    p2.fd = open("/dev/kfd", O_RDWR);
    p2.gpu_id = p.gpu_id;
    {
        struct kfd_ioctl_acquire_vm_args vm = { .gpu_id = p.gpu_id };
        uint64_t h2;

        kfdt_ioctl(&p2, AMDKFD_IOC_ACQUIRE_VM, &vm);
        check(!ret && up_alloc(&p2, buf, KFDT_PAGE, VA_UP, &h2) == -EINVAL,
              "a page registered in another context: EINVAL");
    }
    close(p2.fd);
    up_free(&p, h);
    /* another process's address: mapped there, not in the caller */
    if (pipe(pipefd)) {
        return 1;
    }
    {
        uint8_t *there = mmap(NULL, KFDT_PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char c;

        munmap(there, KFDT_PAGE);
        child = fork();
        if (child == 0) {
            uint8_t *mine = mmap(there, KFDT_PAGE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS |
                                 MAP_FIXED_NOREPLACE, -1, 0);

            memset(mine, 7, KFDT_PAGE);
            if (write(pipefd[1], "x", 1) != 1) {
                _exit(1);
            }
            pause();
            _exit(0);
        }
        if (read(pipefd[0], &c, 1) != 1) {
            c = 0;
        }
        ret = up_alloc(&p, there, KFDT_PAGE, VA_UP, &h);
        check(c == 'x' && ret == -EFAULT,
              "another process's address (%p, its page, not mapped here): "
              "%s", (void *)there, strerror(-ret));
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    /* the parent's fd in a forked child: the KFD's EBADF */
    child = fork();
    if (child == 0) {
        _exit(up_alloc(&p, buf, KFDT_PAGE, VA_UP, &h) == -EBADF ? 0 : 1);
    } else {
        int st;

        waitpid(child, &st, 0);
        check(WIFEXITED(st) && !WEXITSTATUS(st),
              "USERPTR on the parent's /dev/kfd from a child: EBADF");
    }
    /* unmapped after registration: stays pinned until the FREE */
    {
        uint8_t *m = mmap(NULL, 2 * KFDT_PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        memset(m, 3, 2 * KFDT_PAGE);
        ret = up_alloc(&p, m, 2 * KFDT_PAGE, VA_UP, &h);
        munmap(m, 2 * KFDT_PAGE);
        check(!ret && drv_pinned(p.pid) == pin0 + 2,
              "munmap'ed while registered: still pinned (%ld)",
              drv_pinned(p.pid) - pin0);
        check(!up_free(&p, h) && drv_pinned(p.pid) == pin0,
              "FREE unpins it");
    }
    kfdt_buf_free(&p, &gtt);
    check(drv_pinned(p.pid) == pin0, "nothing pinned at the end (%ld)",
          drv_pinned(p.pid));
    return report_finish("kfd-userptr");
}

/* ---- the per-process bound ---- */

static int mode_limit(long mib)
{
    uint64_t len = (uint64_t)mib << 20, h, h2;
    uint8_t *m = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    KfdProc p;
    int ret = up_open(&p);

    check(!ret, "open: %s", strerror(-ret));
    memset(m, 1, 2 * len);
    check(up_alloc(&p, m, len + KFDT_PAGE, VA_UP, &h) == -ENOMEM,
          "more than max_pinned_mb_per_process (%ld MiB): ENOMEM", mib);
    ret = up_alloc(&p, m, len / 2, VA_UP, &h);
    check(!ret, "half of it: %s", strerror(-ret));
    check(up_alloc(&p, m + len / 2, len / 2 + KFDT_PAGE, VA_UP2, &h2) ==
          -ENOMEM, "the rest and a page more: ENOMEM");
    ret = up_alloc(&p, m + len / 2, len / 2, VA_UP2, &h2);
    check(!ret, "exactly the rest: %s", strerror(-ret));
    check(!up_free(&p, h) && !up_free(&p, h2), "FREE both");
    check(drv_pinned(p.pid) == 0, "nothing pinned");
    return report_finish("kfd-userptr");
}

/* ---- races ---- */

struct race {
    KfdProc *p;
    int id;
    long ok, refused;
};

#define RACE_LEN (64 * KFDT_PAGE)

static void *race_register(void *arg)
{
    struct race *r = arg;
    uint64_t h;

    while (!race_stop) {
        int ret = up_alloc(r->p, race_region, RACE_LEN,
                           VA_UP + r->id * 0x10000000ULL, &h);

        if (!ret) {
            r->ok++;
            if (r->id & 1) {
                up_map(r->p, h, true);
            }
            if (rand() & 1) {
                up_map(r->p, h, false);
                up_free(r->p, h);
            }
        } else {
            r->refused++;
        }
    }
    return NULL;
}

static void *race_unmap(void *arg)
{
    (void)arg;
    while (!race_stop) {
        /* the region vanishes and comes back under the registrations */
        munmap(race_region, RACE_LEN);
        usleep(rand() % 200);
        mmap(race_region, RACE_LEN, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        usleep(rand() % 200);
    }
    return NULL;
}

/* Frees handles it guesses: its own process's, all of them */
static void *race_free(void *arg)
{
    struct race *r = arg;
    uint64_t h;

    while (!race_stop) {
        for (h = 1; h < 64 && !race_stop; h++) {
            up_free(r->p, ((uint64_t)r->p->gpu_id << 32) | h);
        }
    }
    return NULL;
}

static int race_child(int seconds, bool die_inside)
{
    struct race r[4];
    pthread_t t[6];
    KfdProc p;
    int i, ret = up_open(&p);

    if (ret) {
        return 1;
    }
    race_region = mmap(NULL, RACE_LEN, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (i = 0; i < 4; i++) {
        r[i] = (struct race) { .p = &p, .id = i };
        pthread_create(&t[i], NULL, race_register, &r[i]);
    }
    pthread_create(&t[4], NULL, race_unmap, NULL);
    pthread_create(&t[5], NULL, race_free, &r[0]);
    usleep(seconds * 1000000);
    if (die_inside) {
        /* exit with every thread inside the driver, registrations live */
        _exit(0);
    }
    race_stop = 1;
    for (i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
    }
    printf("race: %ld registrations, %ld refused\n",
           r[0].ok + r[1].ok + r[2].ok + r[3].ok,
           r[0].refused + r[1].refused + r[2].refused + r[3].refused);
    return 0;
}

static int mode_race(int seconds)
{
    int round;

    for (round = 0; round < 3; round++) {
        pid_t c = fork();
        int st;

        if (c == 0) {
            _exit(race_child(seconds, round == 1));
        }
        if (round == 2) {
            /* SIGKILL in the middle of it */
            usleep(seconds * 500000);
            kill(c, SIGKILL);
        }
        waitpid(c, &st, 0);
        check(round == 2 ? WIFSIGNALED(st) : WIFEXITED(st) &&
              !WEXITSTATUS(st), "round %d (%s) ended", round,
              round == 0 ? "threads joined" : round == 1 ?
              "exit with threads inside" : "SIGKILL");
    }
    return report_finish("kfd-userptr");
}

static int mode_nofeature(void)
{
    uint8_t *buf = aligned_alloc(KFDT_PAGE, KFDT_PAGE);
    uint64_t h;
    KfdProc p;
    int ret = up_open(&p);

    check(!ret, "open: %s", strerror(-ret));
    memset(buf, 0, KFDT_PAGE);
    ret = up_alloc(&p, buf, KFDT_PAGE, VA_UP, &h);
    check(ret == -EOPNOTSUPP, "USERPTR refused: %s (the KFD's EOPNOTSUPP "
          "on a context that cannot own USERPTR memory)", strerror(-ret));
    check(drv_pinned(p.pid) == 0, "nothing pinned");
    return report_finish("kfd-userptr");
}

/* volatile: set by the main thread, polled by the holding thread */
static volatile int hold_stop;

static void *hold_loop(void *arg)
{
    KfdProc *p = arg;
    uint8_t *m = mmap(NULL, 16 * KFDT_PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t h;

    memset(m, 2, 16 * KFDT_PAGE);
    while (!hold_stop) {
        if (!up_alloc(p, m, 16 * KFDT_PAGE, VA_UP2, &h)) {
            up_free(p, h);
        }
    }
    return NULL;
}

static int mode_hold(void)
{
    const uint64_t len = 4 << 20;
    uint8_t *buf = aligned_alloc(KFDT_PAGE, len);
    pthread_t t;
    uint64_t h;
    KfdProc p;
    int ret = up_open(&p), i;

    memset(buf, 4, len);
    if (!ret) {
        ret = up_alloc(&p, buf, len, VA_UP, &h);
    }
    if (!ret) {
        ret = up_map(&p, h, true);
    }
    check(!ret, "hold: 4 MiB USERPTR registered and mapped: %s",
          strerror(-ret));
    pthread_create(&t, NULL, hold_loop, &p);
    close(open("/tmp/up.ready", O_CREAT | O_WRONLY, 0644));
    for (i = 0; i < 600 && access("/tmp/up.go", F_OK); i++) {
        usleep(100000);
    }
    hold_stop = 1;
    pthread_join(t, NULL);
    ret = up_free(&p, h);
    check(ret == -ENODEV, "FREE after the removal: %s", strerror(-ret));
    check(buf[len - 1] == 4, "the program's pages are still its own");
    return report_finish("kfd-userptr");
}

int main(int argc, char **argv)
{
    const char *mode;

    if (argc > 2 && !strcmp(argv[1], "-u")) {
        uid_t uid = (uid_t)atoi(argv[2]);

        if (getuid() == 0 && (setgid(uid) || setuid(uid))) {
            perror("setuid");
            return 2;
        }
        argc -= 2;
        argv += 2;
    }
    mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(240);
    srand(getpid());
    if (!strcmp(mode, "dma")) {
        return mode_dma(argc > 2 ? atoi(argv[2]) : 1);
    }
    if (!strcmp(mode, "attack")) {
        return mode_attack(argc > 2 && !strcmp(argv[2], "--legacy"));
    }
    if (!strcmp(mode, "bad")) {
        return mode_bad();
    }
    if (!strcmp(mode, "limit") && argc > 2) {
        return mode_limit(atol(argv[2]));
    }
    if (!strcmp(mode, "race")) {
        return mode_race(argc > 2 ? atoi(argv[2]) : 3);
    }
    if (!strcmp(mode, "nofeature")) {
        return mode_nofeature();
    }
    if (!strcmp(mode, "hold")) {
        return mode_hold();
    }
    fprintf(stderr, "usage: kfd-userptr dma [MIN_OBJECTS] | attack "
            "[--legacy] | bad | limit MIB | race [SECONDS] | nofeature\n");
    return 2;
}
