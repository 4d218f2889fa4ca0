/*
 * kfd-fuzz: a bounded fuzzer of the guest driver's /dev/kfd entry points
 *
 * Random ioctl numbers (KFD's type with any number, direction and size,
 * and other types), random argument bytes with counts and embedded
 * pointers that point into a scratch buffer, just past it, at NULL or at
 * kernel addresses, random mmap offsets and lengths on the file, and
 * random munmaps, mremaps and closes, interleaved with a few well-formed
 * calls (acquire, allocate, map) so that the random ones meet real
 * objects.  Several files at once, each with its own device context.
 *
 * It checks only that nothing breaks: every call returns (the program is
 * bounded by -n calls and -t seconds), the program survives (a fault in
 * it means the driver wrote where it must not), and the kernel log stays
 * clean (run-fuzz.sh and the VM's init check that).  Runs as an
 * unprivileged user: root drops to -u (default 65534) first.
 *
 *   kfd-fuzz [-s SEED] [-n CALLS] [-t SECONDS] [-u UID]
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>
#include "kfdt.h"

#define FILES       4
#define SCRATCH     (64 * 1024)
#define GUARD       (1024 * 1024)
#define MAPS        32
/* the largest argument an ioctl number can name */
#define ARG_MAX     (1u << _IOC_SIZEBITS)

static uint64_t rng;
static uint8_t *scratch;
static uint32_t gpu_id;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible from the printed seed */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

/* A value for a field: counts, sizes, ids, offsets, pointers or noise */
static uint64_t field(void)
{
    switch (below(10)) {
    case 0:
        return 0;
    case 1:
        return below(8);
    case 2:
        return 1ULL << below(64);
    case 3:
        return (1ULL << below(64)) - 1;
    case 4:
        return (uint64_t)(uintptr_t)scratch + below(SCRATCH);
    case 5:
        return (uint64_t)(uintptr_t)scratch + SCRATCH - below(64);
    case 6:
        return 0xffff800000000000ULL + below(1ULL << 40);
    case 7:
        return below(4096) * 8;
    case 8:
        return gpu_id;
    default:
        return rnd();
    }
}

static unsigned long request(void)
{
    static const unsigned dirs[] = {
        _IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
    };
    unsigned type = below(8) ? AMDKFD_IOCTL_BASE : below(256);
    unsigned nr = below(4) ? below(0x30) : below(256);
    unsigned size = below(3) ? below(128) : below(1u << _IOC_SIZEBITS);

    return _IOC(dirs[below(4)], type, nr, size);
}

typedef struct {
    void *addr;
    size_t len;
} Map;

static Map maps[MAPS];
static sigjmp_buf touch_env;
static volatile sig_atomic_t touching;   /* read by the signal handler */
static unsigned long sigbus_seen;

/*
 * A mapping the driver cannot back faults with SIGBUS (as a mapping of a
 * file past its end does): expected, counted, survived.  A fault signal
 * cannot be ignored (the kernel kills the program instead), so it is
 * caught around the touch only; anywhere else it stays fatal.
 */
static void on_sigbus(int sig)
{
    if (touching) {
        siglongjmp(touch_env, 1);
    }
    sigaction(sig, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL);
    raise(sig);
}

static void fuzz_mmap(int fd)
{
    static const uint64_t kinds[] = {
        0, 1ULL << 62, 2ULL << 62, 3ULL << 62,
    };
    uint64_t off = kinds[below(4)] | (field() & ((1ULL << 62) - 1));
    size_t len = (below(4) ? 1 + below(16) : 1 + below(4096)) * KFDT_PAGE;
    int prot = (below(2) ? PROT_READ : 0) | (below(2) ? PROT_WRITE : 0);
    Map *m = &maps[below(MAPS)];
    void *p;

    if (below(2)) {
        off &= ~(KFDT_PAGE - 1);
        off &= 0xc000ffffffffffffULL;
        off |= (uint64_t)gpu_id << 46;
    }
    p = mmap(NULL, len, prot, MAP_SHARED, fd, off & ~(KFDT_PAGE - 1));
    if (p == MAP_FAILED) {
        return;
    }
    if (m->addr) {
        munmap(m->addr, m->len);
    }
    m->addr = p;
    m->len = len;
    /* touch it: a fault here must be SIGBUS at worst, never a kernel bug */
    if (prot & PROT_READ && below(2)) {
        if (sigsetjmp(touch_env, 1) == 0) {
            touching = 1;
            (void)*(volatile uint8_t *)p;   /* a real load, kept */
        } else {
            sigbus_seen++;
        }
        touching = 0;
    }
}

static void fuzz_maps(void)
{
    Map *m = &maps[below(MAPS)];
    void *p;

    if (!m->addr) {
        return;
    }
    switch (below(3)) {
    case 0:
        munmap(m->addr, m->len);
        m->addr = NULL;
        break;
    case 1:
        p = mremap(m->addr, m->len, m->len + KFDT_PAGE, MREMAP_MAYMOVE);
        if (p != MAP_FAILED) {
            m->addr = p;
            m->len += KFDT_PAGE;
        }
        break;
    default:
        /*
         * One page out of the middle: the driver's mapping is split and
         * a part of it goes.  The hole is filled at once, so that no
         * later mmap lands in it and dies with this slot's munmap.
         */
        mmap((uint8_t *)m->addr + KFDT_PAGE * below(m->len / KFDT_PAGE),
             KFDT_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0);
        break;
    }
}

/* A few well-formed calls, so that the random ones meet real objects */
static void fuzz_real(KfdProc *p)
{
    KfdBuf b;
    uint32_t id;

    switch (below(4)) {
    case 0:
        kfdt_buf_new(p, 0x1000000 + below(64) * 0x100000,
                     (1 + below(16)) * KFDT_PAGE, &b);
        break;
    case 1:
        kfdt_event_new(p, KFD_IOC_EVENT_SIGNAL, &id);
        break;
    case 2:
        kfdt_handle_free(p, (uint64_t)p->gpu_id << 32 | below(16));
        break;
    default: {
        struct kfd_ioctl_acquire_vm_args vm = { .gpu_id = p->gpu_id };

        kfdt_ioctl(p, AMDKFD_IOC_ACQUIRE_VM, &vm);
        break;
    }
    }
}

/*
 * The driver copies back as many bytes as the number names (as the KFD
 * does), so the argument has room for the largest; 512 bytes on the stack
 * let a random size smash this program's own stack.
 */
static uint64_t arg[ARG_MAX / sizeof(uint64_t)];

static void fuzz_ioctl(int fd)
{
    unsigned long req = request();
    unsigned i;
    void *argp;

    for (i = 0; i < 64; i++) {
        arg[i] = below(2) ? field() : 0;
    }
    memset(&arg[64], 0, sizeof(arg) - 64 * sizeof(*arg));
    /* some arguments are in the scratch, some nowhere */
    switch (below(8)) {
    case 0:
        argp = NULL;
        break;
    case 1:
        argp = (void *)(uintptr_t)field();
        break;
    case 2:
        memcpy(scratch + SCRATCH - 64 * sizeof(*arg), arg, 64 * sizeof(*arg));
        argp = scratch + SCRATCH - below(64);
        break;
    default:
        argp = arg;
        break;
    }
    ioctl(fd, req, argp);
}

/*
 * Open /dev/kfd as a program does (kfdt_open() also reads the driver's
 * debugfs, which an unprivileged user cannot)
 */
static int kfd_open(KfdProc *p)
{
    struct kfd_ioctl_get_version_args v = { 0 };
    struct kfd_ioctl_acquire_vm_args vm = { .gpu_id = gpu_id };

    memset(p, 0, sizeof(*p));
    p->pid = getpid();
    p->gpu_id = gpu_id;
    p->fd = open("/dev/kfd", O_RDWR | O_CLOEXEC);
    if (p->fd < 0) {
        return -errno;
    }
    if (kfdt_ioctl(p, AMDKFD_IOC_GET_VERSION, &v)) {
        return -errno;
    }
    return kfdt_ioctl(p, AMDKFD_IOC_ACQUIRE_VM, &vm);
}

static void drop_to(uid_t uid)
{
    if (getuid() == 0 &&
        (setgroups(0, NULL) || setgid(uid) || setuid(uid))) {
        perror("dropping privileges");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t)time(NULL) ^ getpid();
    unsigned long calls = 20000, n;
    unsigned seconds = 60;
    uid_t uid = 65534;
    KfdProc p[FILES];
    time_t end;
    int opt, i;

    while ((opt = getopt(argc, argv, "s:n:t:u:")) != -1) {
        switch (opt) {
        case 's':
            seed = strtoull(optarg, NULL, 0);
            break;
        case 'n':
            calls = strtoul(optarg, NULL, 0);
            break;
        case 't':
            seconds = strtoul(optarg, NULL, 0);
            break;
        case 'u':
            uid = strtoul(optarg, NULL, 0);
            break;
        default:
            fprintf(stderr, "usage: kfd-fuzz [-s SEED] [-n CALLS] "
                    "[-t SECONDS] [-u UID]\n");
            return 2;
        }
    }
    drop_to(uid);
    rng = seed ? seed : 1;
    printf("kfd-fuzz: seed 0x%llx, %lu calls, at most %u s, uid %u\n",
           (unsigned long long)seed, calls, seconds, (unsigned)getuid());
    fflush(stdout);
    /* a bad mapping faults in this program, not in the kernel */
    sigaction(SIGBUS, &(struct sigaction){ .sa_handler = on_sigbus }, NULL);
    /*
     * Pointers in arguments point into the scratch or just past its end,
     * and the driver writes there: inaccessible guards on both sides make
     * an overrun an EFAULT instead of a write into this program's memory
     */
    scratch = mmap(NULL, GUARD + SCRATCH + GUARD, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (scratch == MAP_FAILED) {
        perror("scratch");
        return 1;
    }
    scratch += GUARD;
    if (mprotect(scratch, SCRATCH, PROT_READ | PROT_WRITE)) {
        perror("scratch");
        return 1;
    }
    gpu_id = kfdt_first_gpu_id();
    for (i = 0; i < FILES; i++) {
        if (kfd_open(&p[i])) {
            fprintf(stderr, "kfd-fuzz: cannot open /dev/kfd\n");
            return 1;
        }
    }

    end = time(NULL) + seconds;
    for (n = 0; n < calls && time(NULL) < end; n++) {
        KfdProc *f = &p[below(FILES)];

        switch (below(16)) {
        case 0:
            fuzz_real(f);
            break;
        case 1:
        case 2:
            fuzz_mmap(f->fd);
            break;
        case 3:
            fuzz_maps();
            break;
        case 4:
            if (!below(64)) {
                /* a file goes and comes back: its context is new */
                close(f->fd);
                if (kfd_open(f)) {
                    fprintf(stderr, "kfd-fuzz: cannot reopen /dev/kfd\n");
                    return 1;
                }
            }
            break;
        default:
            fuzz_ioctl(f->fd);
            break;
        }
    }
    for (i = 0; i < MAPS; i++) {
        if (maps[i].addr) {
            munmap(maps[i].addr, maps[i].len);
        }
    }
    for (i = 0; i < FILES; i++) {
        close(p[i].fd);
    }
    printf("kfd-fuzz: %lu calls done, %lu SIGBUS on touching a mapping\n",
           n, sigbus_seen);
    return 0;
}
