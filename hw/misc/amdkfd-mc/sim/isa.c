/*
 * amdkfd-mc "sim" backend: a gfx9 (gfx906, wave64) shader interpreter
 *
 * Runs the KERNEL_DISPATCH packets of AQL queues for the subset of the
 * Vega instruction set that sim-kfd.h lists, decoded from the real
 * encodings (AMD's "Vega Instruction Set Architecture" reference guide),
 * with the code object's kernel descriptor (LLVM's AMDGPU usage notes)
 * setting up the registers.  Guest input throughout: every register index
 * is bounded, every memory access goes through the queue's GPUVM, and a
 * dispatch has a budget of wave instructions.
 *
 * Copyright (c) 2026 The amdkfd-mc authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/host-utils.h"
#include "qemu/atomic.h"
#include "qemu/bitops.h"
#include <math.h>
#include "internal.h"

#define ISA_LANES           64
#define ISA_SREGS           128         /* by operand code: s0.. exec_hi */
#define ISA_SGPRS           102
#define ISA_MAX_VGPRS       256
#define ISA_MAX_WAVES       (SIM_ISA_MAX_WORKGROUP / ISA_LANES)
#define SIM_ISA_ATOMIC_TRIES 1000

/* Scalar operand codes */
#define OP_FLAT_SCR_LO      102
#define OP_VCC_LO           106
#define OP_VCC_HI           107
#define OP_TTMP0            108
#define OP_TTMP15           123
#define OP_M0               124
#define OP_EXEC_LO          126
#define OP_EXEC_HI          127
#define OP_ZERO             128
#define OP_INT_MAX          192
#define OP_INT_NEG_MAX      208
#define OP_SHARED_BASE      235
#define OP_SHARED_LIMIT     236
#define OP_PRIVATE_BASE     237
#define OP_PRIVATE_LIMIT    238
#define OP_FLOAT_FIRST      240
#define OP_FLOAT_LAST       248
#define OP_VCCZ             251
#define OP_EXECZ            252
#define OP_SCC              253
#define OP_LITERAL          255
#define OP_VGPR0            256

/* Kernel descriptor (code object v3+; amd_kernel_code_t agrees on these) */
#define KD_GROUP_SIZE       0
#define KD_PRIVATE_SIZE     4
#define KD_ENTRY_OFFSET     16
#define KD_RSRC1            48
#define KD_RSRC2            52
#define KD_PROPERTIES       56
#define KD_SIZE             64

/* compute_pgm_rsrc2 */
#define RSRC2_SCRATCH_EN            (1U << 0)
#define RSRC2_TGID_X                (1U << 7)
#define RSRC2_TGID_Y                (1U << 8)
#define RSRC2_TGID_Z                (1U << 9)
#define RSRC2_TG_INFO               (1U << 10)
#define RSRC2_TIDIG_SHIFT           11

/* kernel_code_properties */
#define KCP_PRIVATE_BUFFER          (1U << 0)
#define KCP_DISPATCH_PTR            (1U << 1)
#define KCP_QUEUE_PTR               (1U << 2)
#define KCP_KERNARG_PTR             (1U << 3)
#define KCP_DISPATCH_ID             (1U << 4)
#define KCP_FLAT_SCRATCH_INIT       (1U << 5)
#define KCP_PRIVATE_SIZE            (1U << 6)
#define KCP_WAVE32                  (1U << 10)

enum { WAVE_RUN, WAVE_BARRIER, WAVE_DONE };

typedef struct IsaWave {
    uint32_t s[ISA_SREGS];
    uint32_t (*v)[ISA_LANES];
    uint64_t pc;
    bool scc;
    int state;
} IsaWave;

/* One dispatch */
typedef struct Isa {
    SimCtx *ctx;
    SimQueue *q;
    SimRing *ring;
    uint64_t left;              /* wave instructions the budget allows */
    uint64_t executed;
    unsigned since_yield;
    uint32_t ec;                /* a wave's exception: the dispatch stops */
    bool stop;                  /* halted (VM fault) or the context closes */
    uint32_t nvgpr;
    uint8_t *lds;
    uint32_t lds_size;
    IsaWave waves[ISA_MAX_WAVES];
} Isa;

/* A decoded source operand: per lane from VGPRs, or one value */
typedef struct Src {
    const uint32_t *lo, *hi;
    uint32_t klo, khi;
} Src;

static inline uint32_t src_lo(const Src *s, unsigned l)
{
    return s->lo ? s->lo[l] : s->klo;
}

static inline uint64_t src_64(const Src *s, unsigned l)
{
    if (s->lo) {
        return s->lo[l] | (s->hi ? (uint64_t)s->hi[l] << 32 : 0);
    }
    return s->klo | (uint64_t)s->khi << 32;
}

static bool isa_illegal(Isa *x)
{
    if (!x->ec) {
        x->ec = EC_QUEUE_WAVE_ILLEGAL_INSTRUCTION;
    }
    return false;
}

/*
 * A memory instruction costs the budget one unit per active lane: a
 * 64-lane 16-byte load loop would otherwise take seconds before the
 * budget ends it.  The next isa_tick() yields sooner, too.
 */
static bool isa_charge_lanes(Isa *x, uint64_t exec)
{
    unsigned extra = ctpop64(exec);

    extra = extra ? extra - 1 : 0;
    if (x->left < extra) {
        x->left = 0;
        x->ec = EC_QUEUE_WAVE_ABORT;
        return false;
    }
    x->left -= extra;
    x->since_yield += extra;
    return true;
}

static inline uint64_t w_exec(const IsaWave *w)
{
    return w->s[OP_EXEC_LO] | (uint64_t)w->s[OP_EXEC_HI] << 32;
}

static inline uint64_t w_vcc(const IsaWave *w)
{
    return w->s[OP_VCC_LO] | (uint64_t)w->s[OP_VCC_HI] << 32;
}

/* ---- memory: always the queue's GPUVM; a fault halts the queue ---- */

static bool isa_read(Isa *x, uint64_t va, void *buf, uint32_t len)
{
    if (!sim_queue_read(x->ctx, x->q, va, buf, len)) {
        x->stop = true;
        return false;
    }
    return true;
}

static bool isa_write(Isa *x, uint64_t va, const void *buf, uint32_t len)
{
    if (!sim_queue_write(x->ctx, x->q, va, buf, len)) {
        x->stop = true;
        return false;
    }
    return true;
}

/* ---- operands ---- */

static const uint32_t isa_f32_consts[] = {
    0x3f000000, 0xbf000000, 0x3f800000, 0xbf800000,
    0x40000000, 0xc0000000, 0x40800000, 0xc0800000, 0x3e22f983,
};
static const uint64_t isa_f64_consts[] = {
    0x3fe0000000000000ULL, 0xbfe0000000000000ULL, 0x3ff0000000000000ULL,
    0xbff0000000000000ULL, 0x4000000000000000ULL, 0xc000000000000000ULL,
    0x4010000000000000ULL, 0xc010000000000000ULL, 0x3fc45f306dc9c882ULL,
};

/* Scalar source @code (not a VGPR): 32 or 64 bits */
static bool isa_sval(Isa *x, IsaWave *w, unsigned code, uint32_t lit,
                     bool wide, uint64_t *out)
{
    uint64_t v;

    if (code <= OP_TTMP15 || code == OP_M0 || code == OP_EXEC_LO ||
        code == OP_EXEC_HI) {
        if (wide && (code == OP_M0 || code == OP_EXEC_HI ||
                     code == ISA_SGPRS - 1 || code == OP_TTMP15)) {
            return isa_illegal(x);
        }
        v = w->s[code];
        if (wide) {
            v |= (uint64_t)w->s[code + 1] << 32;
        }
        *out = v;
        return true;
    }
    if (code >= OP_ZERO && code <= OP_INT_MAX) {
        *out = code - OP_ZERO;
    } else if (code > OP_INT_MAX && code <= OP_INT_NEG_MAX) {
        v = -(int64_t)(code - OP_INT_MAX);
        *out = wide ? v : (uint32_t)v;
    } else if (code >= OP_FLOAT_FIRST && code <= OP_FLOAT_LAST) {
        *out = wide ? isa_f64_consts[code - OP_FLOAT_FIRST] :
                      isa_f32_consts[code - OP_FLOAT_FIRST];
    } else if (code == OP_LITERAL) {
        *out = lit;
    } else if (code == OP_SHARED_BASE || code == OP_PRIVATE_BASE) {
        v = code == OP_SHARED_BASE ? SIM_KFD_LDS_BASE : SIM_KFD_SCRATCH_BASE;
        *out = wide ? v : v >> 32;
    } else if (code == OP_SHARED_LIMIT || code == OP_PRIVATE_LIMIT) {
        v = (code == OP_SHARED_LIMIT ? SIM_KFD_LDS_BASE :
             SIM_KFD_SCRATCH_BASE) | SIM_KFD_APERTURE_SPAN;
        *out = wide ? v : v >> 32;
    } else if (code == OP_VCCZ) {
        *out = w_vcc(w) == 0;
    } else if (code == OP_EXECZ) {
        *out = w_exec(w) == 0;
    } else if (code == OP_SCC) {
        *out = w->scc;
    } else {
        return isa_illegal(x);
    }
    return true;
}

/* Scalar destination @code */
static bool isa_sdst(Isa *x, IsaWave *w, unsigned code, uint64_t v,
                     bool wide)
{
    bool ok = code <= OP_TTMP15 || code == OP_M0 || code == OP_EXEC_LO ||
              code == OP_EXEC_HI;

    if (!ok || (wide && (code == OP_M0 || code == OP_EXEC_HI ||
                         code == ISA_SGPRS - 1 || code == OP_TTMP15))) {
        return isa_illegal(x);
    }
    w->s[code] = v;
    if (wide) {
        w->s[code + 1] = v >> 32;
    }
    return true;
}

/* Vector source @code (9 bits) */
static bool isa_vsrc(Isa *x, IsaWave *w, unsigned code, uint32_t lit,
                     bool wide, Src *s)
{
    uint64_t v;

    if (code >= OP_VGPR0) {
        code -= OP_VGPR0;
        if (code + wide >= x->nvgpr) {
            return isa_illegal(x);
        }
        s->lo = w->v[code];
        s->hi = wide ? w->v[code + 1] : NULL;
        return true;
    }
    if (!isa_sval(x, w, code, lit, wide, &v)) {
        return false;
    }
    s->lo = s->hi = NULL;
    s->klo = v;
    s->khi = v >> 32;
    return true;
}

static bool isa_vdst_ok(Isa *x, unsigned vdst, unsigned n)
{
    return vdst + n <= x->nvgpr ? true : isa_illegal(x);
}

static inline float f32_of(uint32_t v)
{
    float f;

    memcpy(&f, &v, 4);
    return f;
}

/* No libm: the model links without it */
static inline float isa_fabs(float f)
{
    return f < 0.0f ? -f : f == 0.0f ? 0.0f : f;
}

static inline float isa_fmin(float a, float b)
{
    return isnan(a) ? b : isnan(b) ? a : a < b ? a : b;
}

static inline float isa_fmax(float a, float b)
{
    return isnan(a) ? b : isnan(b) ? a : a > b ? a : b;
}

static inline uint32_t of_f32(float f)
{
    uint32_t v;

    memcpy(&v, &f, 4);
    return v;
}

/* ---- scalar ALU ---- */

static bool isa_sop2(Isa *x, IsaWave *w, uint32_t d, uint32_t lit)
{
    unsigned op = (d >> 23) & 0x7f, sdst = (d >> 16) & 0x7f;
    unsigned s0c = d & 0xff, s1c = (d >> 8) & 0xff;
    bool wide = false, sc = w->scc, setscc = true;
    uint64_t a, b, r = 0;

    switch (op) {
    case 11: case 13: case 15: case 17: case 19: case 21: case 23: case 25:
    case 27: case 29: case 31: case 33: case 35: case 39: case 40:
        wide = true;
        break;
    }
    /* the shift count and the field of 64-bit shifts/BFE are 32 bits */
    if (!isa_sval(x, w, s0c, lit, wide, &a) ||
        !isa_sval(x, w, s1c, lit, wide && !(op == 29 || op == 31 ||
                                            op == 33 || op == 39 ||
                                            op == 40), &b)) {
        return false;
    }
    switch (op) {
    case 0: /* s_add_u32 */
        r = (uint32_t)a + (uint64_t)(uint32_t)b;
        sc = r >> 32;
        break;
    case 1: /* s_sub_u32 */
        r = (uint32_t)((uint32_t)a - (uint32_t)b);
        sc = (uint32_t)b > (uint32_t)a;
        break;
    case 2: /* s_add_i32 */
        r = (uint32_t)((uint32_t)a + (uint32_t)b);
        sc = ((~(a ^ b) & (a ^ r)) >> 31) & 1;
        break;
    case 3: /* s_sub_i32 */
        r = (uint32_t)((uint32_t)a - (uint32_t)b);
        sc = (((a ^ b) & (a ^ r)) >> 31) & 1;
        break;
    case 4: /* s_addc_u32 */
        r = (uint32_t)a + (uint64_t)(uint32_t)b + w->scc;
        sc = r >> 32;
        break;
    case 5: /* s_subb_u32 */
        r = (uint32_t)((uint32_t)a - (uint32_t)b - w->scc);
        sc = (uint64_t)(uint32_t)b + w->scc > (uint32_t)a;
        break;
    case 6: /* s_min_i32 */
        sc = (int32_t)a < (int32_t)b;
        r = sc ? a : b;
        break;
    case 7: /* s_min_u32 */
        sc = (uint32_t)a < (uint32_t)b;
        r = sc ? a : b;
        break;
    case 8: /* s_max_i32 */
        sc = (int32_t)a > (int32_t)b;
        r = sc ? a : b;
        break;
    case 9: /* s_max_u32 */
        sc = (uint32_t)a > (uint32_t)b;
        r = sc ? a : b;
        break;
    case 10: case 11: /* s_cselect_b32/b64 */
        r = w->scc ? a : b;
        setscc = false;
        break;
    case 12: case 13:
        r = a & b;
        break;
    case 14: case 15:
        r = a | b;
        break;
    case 16: case 17:
        r = a ^ b;
        break;
    case 18: case 19:
        r = a & ~b;
        break;
    case 20: case 21:
        r = a | ~b;
        break;
    case 22: case 23:
        r = ~(a & b);
        break;
    case 24: case 25:
        r = ~(a | b);
        break;
    case 26: case 27:
        r = ~(a ^ b);
        break;
    case 28:
        r = (uint32_t)(a << (b & 31));
        break;
    case 29:
        r = a << (b & 63);
        break;
    case 30:
        r = (uint32_t)a >> (b & 31);
        break;
    case 31:
        r = a >> (b & 63);
        break;
    case 32:
        r = (uint32_t)((int32_t)a >> (b & 31));
        break;
    case 33:
        r = (uint64_t)((int64_t)a >> (b & 63));
        break;
    case 34: /* s_bfm_b32 */
        r = (uint32_t)(((1ULL << (a & 31)) - 1) << (b & 31));
        setscc = false;
        break;
    case 36: /* s_mul_i32 */
        r = (uint32_t)((uint32_t)a * (uint32_t)b);
        setscc = false;
        break;
    case 37: case 38: case 39: case 40: { /* s_bfe_u32/i32/u64/i64 */
        unsigned off = b & (op < 39 ? 31 : 63), width = (b >> 16) & 0x7f;
        unsigned bits = op < 39 ? 32 : 64;
        uint64_t v = op < 39 ? (uint32_t)a : a;

        if (width == 0) {
            r = 0;
        } else {
            width = MIN(width, bits - off);
            r = (v >> off) & (width >= 64 ? ~0ULL : (1ULL << width) - 1);
            if ((op == 38 || op == 40) && width < 64 &&
                (r >> (width - 1)) & 1) {
                r |= ~0ULL << width;
            }
        }
        if (op < 39) {
            r = (uint32_t)r;
        }
        sc = r != 0;
        wide = op >= 39;
        setscc = false;
        w->scc = sc;
        break;
    }
    case 42: { /* s_absdiff_i32 */
        int64_t dlt = (int64_t)(int32_t)a - (int32_t)b;

        r = (uint32_t)(dlt < 0 ? -dlt : dlt);
        sc = r != 0;
        break;
    }
    case 44: /* s_mul_hi_u32 */
        r = ((uint64_t)(uint32_t)a * (uint32_t)b) >> 32;
        setscc = false;
        break;
    case 45: /* s_mul_hi_i32 */
        r = (uint32_t)(((int64_t)(int32_t)a * (int32_t)b) >> 32);
        setscc = false;
        break;
    case 46: case 47: case 48: case 49: { /* s_lshl{1..4}_add_u32 */
        uint64_t t = ((uint64_t)(uint32_t)a << (op - 45)) + (uint32_t)b;

        r = (uint32_t)t;
        sc = t >> 32;
        break;
    }
    case 50: /* s_pack_ll_b32_b16 */
        r = (a & 0xffff) | (uint32_t)(b << 16);
        setscc = false;
        break;
    default:
        return isa_illegal(x);
    }
    if (setscc) {
        if (op >= 12 && op <= 33) {
            sc = wide ? r != 0 : (uint32_t)r != 0;
        }
        w->scc = sc;
    }
    return isa_sdst(x, w, sdst, r, wide);
}

static bool isa_sopk(Isa *x, IsaWave *w, uint32_t d)
{
    unsigned op = (d >> 23) & 0x1f, sdst = (d >> 16) & 0x7f;
    int32_t simm = (int16_t)(d & 0xffff);
    uint32_t uimm = d & 0xffff;
    uint64_t a;
    int32_t s;
    uint32_t u;

    if (op == 0) { /* s_movk_i32 */
        return isa_sdst(x, w, sdst, (uint32_t)simm, false);
    }
    if (!isa_sval(x, w, sdst, 0, false, &a)) {
        return false;
    }
    s = (int32_t)a;
    u = (uint32_t)a;
    switch (op) {
    case 1: /* s_cmovk_i32 */
        return !w->scc || isa_sdst(x, w, sdst, (uint32_t)simm, false);
    case 2:
        w->scc = s == simm;
        break;
    case 3:
        w->scc = s != simm;
        break;
    case 4:
        w->scc = s > simm;
        break;
    case 5:
        w->scc = s >= simm;
        break;
    case 6:
        w->scc = s < simm;
        break;
    case 7:
        w->scc = s <= simm;
        break;
    case 8:
        w->scc = u == uimm;
        break;
    case 9:
        w->scc = u != uimm;
        break;
    case 10:
        w->scc = u > uimm;
        break;
    case 11:
        w->scc = u >= uimm;
        break;
    case 12:
        w->scc = u < uimm;
        break;
    case 13:
        w->scc = u <= uimm;
        break;
    case 14: { /* s_addk_i32 */
        uint32_t r = u + (uint32_t)simm;

        w->scc = ((~(u ^ (uint32_t)simm) & (u ^ r)) >> 31) & 1;
        return isa_sdst(x, w, sdst, r, false);
    }
    case 15: /* s_mulk_i32 */
        return isa_sdst(x, w, sdst, u * (uint32_t)simm, false);
    default:
        return isa_illegal(x);
    }
    return true;
}

static bool isa_sop1(Isa *x, IsaWave *w, uint32_t d, uint32_t lit,
                     uint64_t next_pc)
{
    unsigned op = (d >> 8) & 0xff, sdst = (d >> 16) & 0x7f, s0c = d & 0xff;
    bool wide = op & 1;
    uint64_t a, r, exec;

    if (op == 28) { /* s_getpc_b64 */
        return isa_sdst(x, w, sdst, next_pc, true);
    }
    switch (op) {
    case 1: case 3: case 5: case 9: case 13: case 17: case 29: case 30:
    case 32: case 33: case 34: case 35: case 36: case 37: case 38: case 39:
        wide = true;
        break;
    default:
        wide = false;
        break;
    }
    if (!isa_sval(x, w, s0c, lit, wide, &a)) {
        return false;
    }
    switch (op) {
    case 0: case 1: /* s_mov */
        return isa_sdst(x, w, sdst, a, wide);
    case 2: case 3: /* s_cmov */
        return !w->scc || isa_sdst(x, w, sdst, a, wide);
    case 4: case 5: /* s_not */
        r = wide ? ~a : (uint32_t)~a;
        w->scc = r != 0;
        return isa_sdst(x, w, sdst, r, wide);
    case 8: /* s_brev_b32 */
        return isa_sdst(x, w, sdst, revbit32(a), false);
    case 9:
        return isa_sdst(x, w, sdst, revbit64(a), true);
    case 12: case 13: /* s_bcnt1_i32 */
        r = ctpop64(a);
        w->scc = r != 0;
        return isa_sdst(x, w, sdst, r, false);
    case 16: case 17: /* s_ff1_i32 */
        return isa_sdst(x, w, sdst, a ? ctz64(a) : 0xffffffff, false);
    case 18: /* s_flbit_i32_b32 */
        return isa_sdst(x, w, sdst, (uint32_t)a ? clz32(a) : 0xffffffff,
                        false);
    case 22: /* s_sext_i32_i8 */
        return isa_sdst(x, w, sdst, (uint32_t)(int8_t)a, false);
    case 23:
        return isa_sdst(x, w, sdst, (uint32_t)(int16_t)a, false);
    case 29: /* s_setpc_b64 */
        w->pc = a;
        return true;
    case 30: /* s_swappc_b64 */
        if (!isa_sdst(x, w, sdst, next_pc, true)) {
            return false;
        }
        w->pc = a;
        return true;
    case 32: case 33: case 34: case 35: case 36: case 37: case 38: case 39:
        /* s_*_saveexec_b64: old exec to sdst, exec = src op exec */
        exec = w_exec(w);
        switch (op) {
        case 32:
            r = a & exec;
            break;
        case 33:
            r = a | exec;
            break;
        case 34:
            r = a ^ exec;
            break;
        case 35:
            r = a & ~exec;
            break;
        case 36:
            r = a | ~exec;
            break;
        case 37:
            r = ~(a & exec);
            break;
        case 38:
            r = ~(a | exec);
            break;
        default:
            r = ~(a ^ exec);
            break;
        }
        if (!isa_sdst(x, w, sdst, exec, true)) {
            return false;
        }
        w->s[OP_EXEC_LO] = r;
        w->s[OP_EXEC_HI] = r >> 32;
        w->scc = r != 0;
        return true;
    default:
        return isa_illegal(x);
    }
}

static bool isa_sopc(Isa *x, IsaWave *w, uint32_t d, uint32_t lit)
{
    unsigned op = (d >> 16) & 0x7f;
    bool wide = op == 14 || op == 15 || op == 18 || op == 19;
    uint64_t a, b;
    int32_t sa, sb;

    if (op > 19 || op == 16 || op == 17 ||
        !isa_sval(x, w, d & 0xff, lit, wide, &a) ||
        !isa_sval(x, w, (d >> 8) & 0xff, lit, wide && op >= 18, &b)) {
        return op > 19 || op == 16 || op == 17 ? isa_illegal(x) : false;
    }
    sa = (int32_t)a;
    sb = (int32_t)b;
    switch (op) {
    case 0:
        w->scc = sa == sb;
        break;
    case 1:
        w->scc = sa != sb;
        break;
    case 2:
        w->scc = sa > sb;
        break;
    case 3:
        w->scc = sa >= sb;
        break;
    case 4:
        w->scc = sa < sb;
        break;
    case 5:
        w->scc = sa <= sb;
        break;
    case 6:
        w->scc = (uint32_t)a == (uint32_t)b;
        break;
    case 7:
        w->scc = (uint32_t)a != (uint32_t)b;
        break;
    case 8:
        w->scc = (uint32_t)a > (uint32_t)b;
        break;
    case 9:
        w->scc = (uint32_t)a >= (uint32_t)b;
        break;
    case 10:
        w->scc = (uint32_t)a < (uint32_t)b;
        break;
    case 11:
        w->scc = (uint32_t)a <= (uint32_t)b;
        break;
    case 12:
        w->scc = !((a >> (b & 31)) & 1);
        break;
    case 13:
        w->scc = (a >> (b & 31)) & 1;
        break;
    case 14:
        w->scc = !((a >> (b & 63)) & 1);
        break;
    case 15:
        w->scc = (a >> (b & 63)) & 1;
        break;
    case 18:
        w->scc = a == b;
        break;
    default:
        w->scc = a != b;
        break;
    }
    return true;
}

static bool isa_sopp(Isa *x, IsaWave *w, uint32_t d, uint64_t next_pc)
{
    unsigned op = (d >> 16) & 0x7f;
    int16_t simm = d & 0xffff;
    bool take;

    switch (op) {
    case 0: case 11: case 12: case 14: case 15: case 19: case 20: case 21:
        /*
         * s_nop, s_setkill, s_waitcnt, s_sleep, s_setprio, s_icache_inv,
         * s_incperflevel, s_decperflevel: in-order execution, one wave
         * at a time, coherent memory: nothing to do
         */
        return true;
    case 1: /* s_endpgm */
        w->state = WAVE_DONE;
        return true;
    case 10: /* s_barrier */
        w->state = WAVE_BARRIER;
        return true;
    case 16: /* s_sendmsg: only MSG_INTERRUPT (1) has a meaning here */
        if ((simm & 0xf) != 1) {
            return isa_illegal(x);
        }
        return true;
    case 18: /* s_trap: ROCr's trap handler reports it (abort, assert) */
        x->ec = EC_QUEUE_WAVE_TRAP;
        return false;
    case 2:
        take = true;
        break;
    case 4:
        take = !w->scc;
        break;
    case 5:
        take = w->scc;
        break;
    case 6:
        take = w_vcc(w) == 0;
        break;
    case 7:
        take = w_vcc(w) != 0;
        break;
    case 8:
        take = w_exec(w) == 0;
        break;
    case 9:
        take = w_exec(w) != 0;
        break;
    default:
        return isa_illegal(x);
    }
    if (take) {
        w->pc = next_pc + (int64_t)simm * 4;
    }
    return true;
}

/* ---- scalar memory ---- */

static bool isa_smem(Isa *x, IsaWave *w, uint32_t d, uint32_t d1)
{
    unsigned op = (d >> 18) & 0xff, sdata = (d >> 6) & 0x7f;
    unsigned sbase = (d & 0x3f) * 2;
    bool imm = (d >> 17) & 1, soe = (d >> 14) & 1;
    uint32_t buf[16], n, i;
    uint64_t base, off;

    if (op == 32 || op == 33 || op == 34 || op == 35) {
        /* s_dcache_inv/wb(_vol): the model has no scalar cache */
        return true;
    }
    if (op == 36 || op == 37) { /* s_memtime, s_memrealtime */
        return isa_sdst(x, w, sdata, sim_gpu_clock(), true);
    }
    if (op > 4 || soe) {
        return isa_illegal(x);
    }
    n = 1U << op;
    if (sdata + n > ISA_SGPRS || sbase + 1 >= ISA_SGPRS) {
        return isa_illegal(x);
    }
    base = w->s[sbase] | (uint64_t)(w->s[sbase + 1] & 0xffff) << 32;
    if (imm) {
        off = d1 & 0xfffff;
    } else {
        uint64_t v;

        if (!isa_sval(x, w, d1 & 0x7f, 0, false, &v)) {
            return false;
        }
        off = (uint32_t)v;
    }
    /* the low two address bits are ignored */
    if (!isa_read(x, (base + off) & ~3ULL, buf, n * 4)) {
        return false;
    }
    for (i = 0; i < n; i++) {
        w->s[sdata + i] = le32_to_cpu(buf[i]);
    }
    return true;
}

/* ---- vector ALU: every encoding goes through the VOP3 opcode space ---- */

typedef struct Vop {
    unsigned op;                /* VOP3 opcode */
    unsigned vdst;
    unsigned sdst;              /* VOP3b carry out / VOPC mask destination */
    unsigned src[3];
    bool vop3;
    uint32_t lit;
    unsigned abs, neg, omod, clamp;
} Vop;

static bool isa_cmp(unsigned cond, int64_t a, int64_t b, bool sgn,
                    bool is64)
{
    uint64_t ua = is64 ? (uint64_t)a : (uint32_t)a;
    uint64_t ub = is64 ? (uint64_t)b : (uint32_t)b;
    int64_t sa = is64 ? a : (int32_t)a, sb = is64 ? b : (int32_t)b;

    switch (cond) {
    case 0:
        return false;
    case 1:
        return sgn ? sa < sb : ua < ub;
    case 2:
        return ua == ub;
    case 3:
        return sgn ? sa <= sb : ua <= ub;
    case 4:
        return sgn ? sa > sb : ua > ub;
    case 5:
        return ua != ub;
    case 6:
        return sgn ? sa >= sb : ua >= ub;
    default:
        return true;
    }
}

static bool isa_fcmp(unsigned cond, float a, float b)
{
    bool un = isnan(a) || isnan(b);

    switch (cond) {
    case 0:
        return false;
    case 1:
        return a < b;
    case 2:
        return a == b;
    case 3:
        return a <= b;
    case 4:
        return a > b;
    case 5:
        return a < b || a > b;
    case 6:
        return a >= b;
    case 7:
        return !un;
    case 8:
        return un;
    case 9:
        return !(a >= b);
    case 10:
        return !(a < b || a > b);
    case 11:
        return !(a > b);
    case 12:
        return !(a <= b);
    case 13:
        return !(a == b);
    case 14:
        return !(a < b);
    default:
        return true;
    }
}

static bool isa_vopc(Isa *x, IsaWave *w, const Vop *o)
{
    uint64_t exec = w_exec(w), mask = 0;
    bool is64, sgn, cmpx, fl = false;
    unsigned cond, l;
    Src a, b;

    if (o->op >= 0x40 && o->op <= 0x5f) { /* v_cmp(x)_*_f32 */
        fl = true;
        cond = o->op & 15;
        cmpx = o->op >= 0x50;
        is64 = sgn = false;
    } else if (o->op >= 0xc0 && o->op <= 0xff) {
        cond = o->op & 7;
        is64 = o->op >= 0xe0;
        sgn = !(o->op & 8);
        cmpx = o->op & 0x10;
    } else {
        return isa_illegal(x);
    }
    if ((!fl && (o->abs || o->neg)) || o->omod || o->clamp ||
        !isa_vsrc(x, w, o->src[0], o->lit, is64, &a) ||
        !isa_vsrc(x, w, o->src[1], o->lit, is64, &b)) {
        return x->ec || x->stop ? false : isa_illegal(x);
    }
    for (l = 0; l < ISA_LANES; l++) {
        bool r;

        if (!((exec >> l) & 1)) {
            continue;
        }
        if (fl) {
            float fa = f32_of(src_lo(&a, l)), fb = f32_of(src_lo(&b, l));

            if (o->abs & 1) {
                fa = isa_fabs(fa);
            }
            if (o->abs & 2) {
                fb = isa_fabs(fb);
            }
            if (o->neg & 1) {
                fa = -fa;
            }
            if (o->neg & 2) {
                fb = -fb;
            }
            r = isa_fcmp(cond, fa, fb);
        } else {
            r = isa_cmp(cond, src_64(&a, l), src_64(&b, l), sgn, is64);
        }
        mask |= (uint64_t)r << l;
    }
    if (!isa_sdst(x, w, o->sdst, mask, true)) {
        return false;
    }
    if (cmpx) {
        w->s[OP_EXEC_LO] = mask;
        w->s[OP_EXEC_HI] = mask >> 32;
    }
    return true;
}

static float isa_fmod_in(const Vop *o, unsigned i, uint32_t v)
{
    float f = f32_of(v);

    if ((o->abs >> i) & 1) {
        f = isa_fabs(f);
    }
    if ((o->neg >> i) & 1) {
        f = -f;
    }
    return f;
}

static uint32_t isa_fmod_out(const Vop *o, float f)
{
    static const float omod[4] = { 1.0f, 2.0f, 4.0f, 0.5f };

    f *= omod[o->omod];
    if (o->clamp) {
        f = f < 0.0f || isnan(f) ? 0.0f : f > 1.0f ? 1.0f : f;
    }
    return of_f32(f);
}

/* The float operations of the subset: modifiers apply */
static bool isa_vop_is_float(unsigned op)
{
    switch (op) {
    case 0x101: case 0x102: case 0x103: case 0x105: case 0x10a: case 0x10b:
    case 0x116: case 0x145: case 0x162: case 0x163: case 0x1cb: case 0x1c1:
        return true;
    }
    return false;
}

static bool isa_valu(Isa *x, IsaWave *w, const Vop *o)
{
    uint64_t exec = w_exec(w), carry_in = 0, carry_out = 0;
    unsigned op = o->op, l, nsrc = 2, dwords = 1;
    bool wide0 = false, wide1 = false, wide2 = false, fl;
    Src s[3];

    if (op < 0x100) {
        return isa_vopc(x, w, o);
    }
    fl = isa_vop_is_float(op);
    if (!fl && (o->abs || o->neg || o->omod || o->clamp)) {
        return isa_illegal(x);
    }
    switch (op) {
    case 0x140: /* v_nop */
        return true;
    case 0x141: case 0x142: case 0x145: case 0x146: case 0x147: case 0x148:
    case 0x162: case 0x163: case 0x16b: case 0x16c: case 0x16d: case 0x16e:
        nsrc = 1;
        break;
    case 0x1c1: case 0x1c2: case 0x1c3: case 0x1c8: case 0x1c9: case 0x1ca:
    case 0x1cb: case 0x1ce: case 0x1cf: case 0x1d1: case 0x1d2: case 0x1d4:
    case 0x1d5: case 0x1d7: case 0x1d8: case 0x1fd: case 0x1fe: case 0x1ff:
    case 0x200: case 0x201: case 0x202:
        nsrc = 3;
        break;
    case 0x1e8: case 0x1e9: /* v_mad_u64_u32, v_mad_i64_i32 */
        nsrc = 3;
        wide2 = true;
        dwords = 2;
        break;
    case 0x28f: case 0x290: case 0x291: /* 64-bit shifts */
        wide1 = true;
        dwords = 2;
        break;
    case 0x100: case 0x11c: case 0x11d: case 0x11e:
        /* carry / mask in: VCC, or an SGPR pair in VOP3 */
        if (o->vop3) {
            uint64_t v;

            if (!isa_sval(x, w, o->src[2], 0, true, &v)) {
                return false;
            }
            carry_in = v;
        } else {
            carry_in = w_vcc(w);
        }
        break;
    }
    for (l = 0; l < nsrc; l++) {
        if (!isa_vsrc(x, w, o->src[l], o->lit,
                      l == 0 ? wide0 : l == 1 ? wide1 : wide2, &s[l])) {
            return false;
        }
    }
    if (op == 0x142 || op == 0x289) { /* v_readfirstlane, v_readlane */
        unsigned lane = exec ? ctz64(exec) : 0;

        if (op == 0x289) {
            lane = src_lo(&s[1], 0) & 63;
            if (s[1].lo) {
                return isa_illegal(x);
            }
        }
        return isa_sdst(x, w, o->vdst, src_lo(&s[0], lane), false);
    }
    if (!isa_vdst_ok(x, o->vdst, dwords)) {
        return false;
    }
    if (op == 0x28a) { /* v_writelane_b32: one lane, whatever exec says */
        if (s[0].lo || s[1].lo) {
            return isa_illegal(x);
        }
        w->v[o->vdst][src_lo(&s[1], 0) & 63] = src_lo(&s[0], 0);
        return true;
    }
    for (l = 0; l < ISA_LANES; l++) {
        uint32_t a, b, c = 0, r;
        uint64_t t;

        if (!((exec >> l) & 1)) {
            continue;
        }
        a = src_lo(&s[0], l);
        b = nsrc > 1 ? src_lo(&s[1], l) : 0;
        if (nsrc > 2) {
            c = src_lo(&s[2], l);
        }
        switch (op) {
        case 0x100:
            r = (carry_in >> l) & 1 ? b : a;
            break;
        case 0x101:
            r = isa_fmod_out(o, isa_fmod_in(o, 0, a) + isa_fmod_in(o, 1, b));
            break;
        case 0x102:
            r = isa_fmod_out(o, isa_fmod_in(o, 0, a) - isa_fmod_in(o, 1, b));
            break;
        case 0x103:
            r = isa_fmod_out(o, isa_fmod_in(o, 1, b) - isa_fmod_in(o, 0, a));
            break;
        case 0x105:
            r = isa_fmod_out(o, isa_fmod_in(o, 0, a) * isa_fmod_in(o, 1, b));
            break;
        case 0x106:
            r = (uint32_t)(sextract32(a, 0, 24) *
                           (int64_t)sextract32(b, 0, 24));
            break;
        case 0x107:
            r = (sextract32(a, 0, 24) * (int64_t)sextract32(b, 0, 24)) >> 32;
            break;
        case 0x108:
            r = (a & 0xffffff) * (b & 0xffffff);
            break;
        case 0x109:
            r = ((uint64_t)(a & 0xffffff) * (b & 0xffffff)) >> 32;
            break;
        case 0x10a:
            r = isa_fmod_out(o, isa_fmin(isa_fmod_in(o, 0, a),
                                      isa_fmod_in(o, 1, b)));
            break;
        case 0x10b:
            r = isa_fmod_out(o, isa_fmax(isa_fmod_in(o, 0, a),
                                      isa_fmod_in(o, 1, b)));
            break;
        case 0x10c:
            r = (int32_t)a < (int32_t)b ? a : b;
            break;
        case 0x10d:
            r = (int32_t)a > (int32_t)b ? a : b;
            break;
        case 0x10e:
            r = MIN(a, b);
            break;
        case 0x10f:
            r = MAX(a, b);
            break;
        case 0x110:
            r = b >> (a & 31);
            break;
        case 0x111:
            r = (int32_t)b >> (a & 31);
            break;
        case 0x112:
            r = b << (a & 31);
            break;
        case 0x113:
            r = a & b;
            break;
        case 0x114:
            r = a | b;
            break;
        case 0x115:
            r = a ^ b;
            break;
        case 0x116: /* v_mac_f32: the destination is the addend */
            r = isa_fmod_out(o, isa_fmod_in(o, 0, a) * isa_fmod_in(o, 1, b) +
                             f32_of(w->v[o->vdst][l]));
            break;
        case 0x119: case 0x11c: /* v_add(c)_co_u32 */
            t = (uint64_t)a + b + (op == 0x11c ? (carry_in >> l) & 1 : 0);
            r = t;
            carry_out |= (t >> 32) << l;
            break;
        case 0x11a: case 0x11d: /* v_sub(b)_co_u32 */
            t = (uint64_t)a - b - (op == 0x11d ? (carry_in >> l) & 1 : 0);
            r = t;
            carry_out |= (uint64_t)((t >> 32) & 1) << l;
            break;
        case 0x11b: case 0x11e: /* v_subrev(b)_co_u32 */
            t = (uint64_t)b - a - (op == 0x11e ? (carry_in >> l) & 1 : 0);
            r = t;
            carry_out |= (uint64_t)((t >> 32) & 1) << l;
            break;
        case 0x134:
            r = a + b;
            break;
        case 0x135:
            r = a - b;
            break;
        case 0x136:
            r = b - a;
            break;
        case 0x141:
            r = a;
            break;
        case 0x145:
            r = isa_fmod_out(o, (float)(int32_t)a);
            break;
        case 0x146:
            r = of_f32((float)a);
            break;
        case 0x147: { /* v_cvt_u32_f32: saturating, NaN 0 */
            float f = f32_of(a);

            r = !(f > 0.0f) ? 0 : f >= 4294967296.0f ? 0xffffffff :
                (uint32_t)f;
            break;
        }
        case 0x148: {
            float f = f32_of(a);

            r = isnan(f) ? 0 : f <= -2147483648.0f ? 0x80000000 :
                f >= 2147483648.0f ? 0x7fffffff : (uint32_t)(int32_t)f;
            break;
        }
        case 0x162: case 0x163: /* v_rcp_f32, v_rcp_iflag_f32 */
            r = isa_fmod_out(o, 1.0f / isa_fmod_in(o, 0, a));
            break;
        case 0x16b:
            r = ~a;
            break;
        case 0x16c:
            r = revbit32(a);
            break;
        case 0x16d:
            r = a ? clz32(a) : 0xffffffff;
            break;
        case 0x16e:
            r = a ? ctz32(a) : 0xffffffff;
            break;
        case 0x1c1: case 0x1cb: /* v_mad_f32, v_fma_f32 */
            /* the float product is exact in a double: one rounding */
            r = isa_fmod_out(o, (float)((double)isa_fmod_in(o, 0, a) *
                                        isa_fmod_in(o, 1, b) +
                                        isa_fmod_in(o, 2, c)));
            break;
        case 0x1c2:
            r = (int64_t)sextract32(a, 0, 24) * sextract32(b, 0, 24) + c;
            break;
        case 0x1c3:
            r = (a & 0xffffff) * (b & 0xffffff) + c;
            break;
        case 0x1c8: case 0x1c9: { /* v_bfe_u32/i32 */
            unsigned off = b & 31, wd = c & 31;

            wd = MIN(wd, 32 - off);
            r = wd == 0 ? 0 : op == 0x1c8 ? extract32(a, off, wd) :
                (uint32_t)sextract32(a, off, wd);
            break;
        }
        case 0x1ca:
            r = (a & b) | (~a & c);
            break;
        case 0x1ce:
            r = (((uint64_t)a << 32) | b) >> (c & 31);
            break;
        case 0x1cf:
            r = (((uint64_t)a << 32) | b) >> ((c & 3) * 8);
            break;
        case 0x1d1:
            r = MIN(MIN((int32_t)a, (int32_t)b), (int32_t)c);
            break;
        case 0x1d2:
            r = MIN(MIN(a, b), c);
            break;
        case 0x1d4:
            r = MAX(MAX((int32_t)a, (int32_t)b), (int32_t)c);
            break;
        case 0x1d5:
            r = MAX(MAX(a, b), c);
            break;
        case 0x1d7: { /* v_med3_i32 */
            int32_t sa = a, sb = b, sc = c;

            r = MAX(MIN(sa, sb), MIN(MAX(sa, sb), sc));
            break;
        }
        case 0x1d8:
            r = MAX(MIN(a, b), MIN(MAX(a, b), c));
            break;
        case 0x1e8: case 0x1e9: { /* v_mad_u64_u32 / v_mad_i64_i32 */
            uint64_t acc = src_64(&s[2], l), p, sum;

            if (op == 0x1e8) {
                p = (uint64_t)a * b;
                sum = p + acc;
                carry_out |= (uint64_t)(sum < p) << l;
            } else {
                p = (uint64_t)((int64_t)(int32_t)a * (int32_t)b);
                sum = p + acc;
                /* signed overflow of the 64-bit sum */
                carry_out |= (uint64_t)((((~(p ^ acc)) & (p ^ sum)) >> 63)
                                        & 1) << l;
            }
            w->v[o->vdst][l] = sum;
            w->v[o->vdst + 1][l] = sum >> 32;
            continue;
        }
        case 0x1fd:
            r = (a << (b & 31)) + c;
            break;
        case 0x1fe:
            r = (a + b) << (c & 31);
            break;
        case 0x1ff:
            r = a + b + c;
            break;
        case 0x200:
            r = (a << (b & 31)) | c;
            break;
        case 0x201:
            r = (a & b) | c;
            break;
        case 0x202:
            r = a | b | c;
            break;
        case 0x285:
            r = a * b;
            break;
        case 0x286:
            r = ((uint64_t)a * b) >> 32;
            break;
        case 0x287:
            r = ((int64_t)(int32_t)a * (int32_t)b) >> 32;
            break;
        case 0x28b:
            r = ctpop32(a) + b;
            break;
        case 0x28c: /* v_mbcnt_lo_u32_b32 */
            r = ctpop32(a & (uint32_t)((1ULL << MIN(l, 32)) - 1)) + b;
            break;
        case 0x28d:
            r = ctpop32(a & (uint32_t)(l > 32 ? (1ULL << (l - 32)) - 1 : 0))
                + b;
            break;
        case 0x28f: case 0x290: case 0x291: {
            uint64_t v = src_64(&s[1], l);

            v = op == 0x28f ? v << (a & 63) : op == 0x290 ? v >> (a & 63) :
                (uint64_t)((int64_t)v >> (a & 63));
            w->v[o->vdst][l] = v;
            w->v[o->vdst + 1][l] = v >> 32;
            continue;
        }
        default:
            return isa_illegal(x);
        }
        w->v[o->vdst][l] = r;
    }
    switch (op) {
    case 0x119: case 0x11a: case 0x11b: case 0x11c: case 0x11d: case 0x11e:
    case 0x1e8: case 0x1e9:
        return isa_sdst(x, w, o->vop3 ? o->sdst : OP_VCC_LO, carry_out, true);
    }
    return true;
}

/* ---- vector memory ---- */

/* A FLAT address in the LDS aperture, or -1 if it is an ordinary one */
static int64_t isa_flat_lds(uint64_t va)
{
    if (va >= SIM_KFD_LDS_BASE &&
        va <= (SIM_KFD_LDS_BASE | SIM_KFD_APERTURE_SPAN)) {
        return va - SIM_KFD_LDS_BASE;
    }
    return -1;
}

static bool isa_in_scratch(uint64_t va)
{
    return va >= SIM_KFD_SCRATCH_BASE &&
           va <= (SIM_KFD_SCRATCH_BASE | SIM_KFD_APERTURE_SPAN);
}

/* Read or write @len bytes of LDS at @off: out of range is a violation */
static bool isa_lds(Isa *x, uint64_t off, void *buf, uint32_t len, bool st)
{
    if (off > x->lds_size || len > x->lds_size - off) {
        x->ec = EC_QUEUE_WAVE_MEMORY_VIOLATION;
        return false;
    }
    if (st) {
        memcpy(x->lds + off, buf, len);
    } else {
        memcpy(buf, x->lds + off, len);
    }
    return true;
}

static bool isa_flat_rw(Isa *x, uint64_t va, void *buf, uint32_t len,
                        bool st, bool flat)
{
    int64_t lds = flat ? isa_flat_lds(va) : -1;

    if (lds >= 0) {
        return isa_lds(x, lds, buf, len, st);
    }
    if (flat && isa_in_scratch(va)) {
        /* the private segment is not modelled */
        return isa_illegal(x);
    }
    return st ? isa_write(x, va, buf, len) : isa_read(x, va, buf, len);
}

static uint64_t isa_atomic(unsigned op, uint64_t old, uint64_t src,
                           uint64_t cmp, bool is64)
{
    int64_t so = is64 ? (int64_t)old : (int32_t)old;
    int64_t ss = is64 ? (int64_t)src : (int32_t)src;

    switch (op & 31) {
    case 0:
        return src;
    case 1:
        return old == cmp ? src : old;
    case 2:
        return old + src;
    case 3:
        return old - src;
    case 4:
        return so < ss ? old : src;
    case 5:
        return old < src ? old : src;
    case 6:
        return so > ss ? old : src;
    case 7:
        return old > src ? old : src;
    case 8:
        return old & src;
    case 9:
        return old | src;
    case 10:
        return old ^ src;
    case 11:
        return old >= src ? 0 : old + 1;
    default:
        return old == 0 || old > src ? src : old - 1;
    }
}

/* An atomic read-modify-write at @va, atomic against the CPU too */
static bool isa_atomic_rmw(Isa *x, uint64_t va, unsigned op, uint64_t src,
                           uint64_t cmp, bool is64, bool flat, uint64_t *old)
{
    int64_t lds = flat ? isa_flat_lds(va) : -1;
    unsigned size = is64 ? 8 : 4, i;
    uint64_t o = 0, nv;
    void *p;

    if (lds >= 0) {
        if (!isa_lds(x, lds, &o, size, false)) {
            return false;
        }
        o = is64 ? le64_to_cpu(o) : le32_to_cpu((uint32_t)o);
        nv = isa_atomic(op, o, src, cmp, is64);
        nv = is64 ? cpu_to_le64(nv) : cpu_to_le32((uint32_t)nv);
        *old = o;
        return isa_lds(x, lds, &nv, size, true);
    }
    if (flat && isa_in_scratch(va)) {
        return isa_illegal(x);
    }
    p = sim_queue_mem(x->ctx, x->q, va, size, NULL);
    if (!p) {
        x->stop = true;
        return false;
    }
    for (i = 0; i < SIM_ISA_ATOMIC_TRIES; i++) {
        if (is64) {
            uint64_t cur = qatomic_read((uint64_t *)p);

            o = le64_to_cpu(cur);
            nv = cpu_to_le64(isa_atomic(op, o, src, cmp, true));
            if (qatomic_cmpxchg((uint64_t *)p, cur, nv) == cur) {
                break;
            }
        } else {
            uint32_t cur = qatomic_read((uint32_t *)p);

            o = le32_to_cpu(cur);
            nv = cpu_to_le32(isa_atomic(op, o, src, cmp, false));
            if (qatomic_cmpxchg((uint32_t *)p, cur, (uint32_t)nv) == cur) {
                break;
            }
        }
    }
    if (i == SIM_ISA_ATOMIC_TRIES) {
        /* the CPU keeps storing there: as a wave that cannot go on */
        x->ec = EC_QUEUE_WAVE_ABORT;
        return false;
    }
    *old = o;
    return true;
}

static bool isa_flat(Isa *x, IsaWave *w, uint32_t d, uint32_t d1)
{
    unsigned op = (d >> 18) & 0x7f, seg = (d >> 14) & 3;
    bool glc = (d >> 16) & 1;
    unsigned addr = d1 & 0xff, data = (d1 >> 8) & 0xff;
    unsigned saddr = (d1 >> 16) & 0x7f, vdst = (d1 >> 24) & 0xff;
    int32_t off = seg == 0 ? (int32_t)(d & 0xfff) : sextract32(d, 0, 13);
    uint64_t exec = w_exec(w), sbase = 0;
    unsigned l, n = 0, i, size = 0;
    bool st = false, atomic = false, is64 = false, sext = false;
    bool use_saddr = seg == 2 && saddr != 0x7f;

    if (seg == 1 || seg == 3 || ((d >> 13) & 1)) {
        /* scratch_* (the private segment) and LDS DMA are not modelled */
        return isa_illegal(x);
    }
    if (op >= 16 && op <= 23) {
        static const unsigned sz[] = { 1, 1, 2, 2, 4, 8, 12, 16 };

        size = sz[op - 16];
        sext = op == 17 || op == 19;
    } else if (op >= 24 && op <= 31 && op != 25 && op != 27) {
        static const unsigned sz[] = { 1, 1, 2, 2, 4, 8, 12, 16 };

        size = sz[op - 24];
        st = true;
    } else if ((op >= 64 && op <= 76) || (op >= 96 && op <= 108)) {
        atomic = true;
        is64 = op >= 96;
        size = is64 ? 8 : 4;
    } else {
        return isa_illegal(x);
    }
    n = size < 4 ? 1 : size / 4;
    if (use_saddr) {
        if (saddr + 1 >= ISA_SGPRS) {
            return isa_illegal(x);
        }
        sbase = w->s[saddr] | (uint64_t)w->s[saddr + 1] << 32;
    }
    if (addr + (use_saddr ? 1 : 2) > x->nvgpr ||
        ((st || atomic) && data + n * (atomic && (op & 31) == 1 ? 2 : 1) >
         x->nvgpr) ||
        ((!st && (!atomic || glc)) && vdst + n > x->nvgpr)) {
        return isa_illegal(x);
    }
    if (!isa_charge_lanes(x, exec)) {
        return false;
    }
    for (l = 0; l < ISA_LANES; l++) {
        uint32_t buf[4] = { 0 };
        uint64_t va;

        if (!((exec >> l) & 1)) {
            continue;
        }
        va = use_saddr ? sbase + w->v[addr][l] :
             (w->v[addr][l] | (uint64_t)w->v[addr + 1][l] << 32);
        va += off;
        if (atomic) {
            uint64_t old = 0, src, cmp = 0;

            if (va & (size - 1)) {
                x->ec = EC_QUEUE_WAVE_MEMORY_VIOLATION;
                return false;
            }
            src = w->v[data][l] | (is64 ? (uint64_t)w->v[data + 1][l] << 32 :
                                   0);
            if ((op & 31) == 1) {
                unsigned c = data + n;

                cmp = w->v[c][l] | (is64 ? (uint64_t)w->v[c + 1][l] << 32 : 0);
            }
            if (!isa_atomic_rmw(x, va, op, src, cmp, is64, seg == 0, &old)) {
                return false;
            }
            if (glc) {
                w->v[vdst][l] = old;
                if (is64) {
                    w->v[vdst + 1][l] = old >> 32;
                }
            }
            continue;
        }
        if (st) {
            for (i = 0; i < n; i++) {
                buf[i] = cpu_to_le32(w->v[data + i][l]);
            }
            if (size < 4) {
                uint32_t v = w->v[data][l];
                uint8_t b[2] = { v, v >> 8 };

                if (!isa_flat_rw(x, va, b, size, true, seg == 0)) {
                    return false;
                }
                continue;
            }
            if (!isa_flat_rw(x, va, buf, size, true, seg == 0)) {
                return false;
            }
            continue;
        }
        if (!isa_flat_rw(x, va, buf, size, false, seg == 0)) {
            return false;
        }
        if (size < 4) {
            uint8_t *b = (uint8_t *)buf;
            uint32_t v = size == 1 ? b[0] : b[0] | b[1] << 8;

            if (sext) {
                v = size == 1 ? (uint32_t)(int8_t)v : (uint32_t)(int16_t)v;
            }
            w->v[vdst][l] = v;
            continue;
        }
        for (i = 0; i < n; i++) {
            w->v[vdst + i][l] = le32_to_cpu(buf[i]);
        }
    }
    return true;
}

/* DS (LDS): the 32- and 64-bit reads and writes, add */
static bool isa_ds(Isa *x, IsaWave *w, uint32_t d, uint32_t d1)
{
    unsigned op = (d >> 17) & 0xff, off = d & 0xffff;
    unsigned addr = d1 & 0xff, data = (d1 >> 8) & 0xff, vdst = d1 >> 24;
    uint64_t exec = w_exec(w);
    unsigned l, n;
    bool st;

    if ((d >> 16) & 1) {
        return isa_illegal(x); /* GDS */
    }
    switch (op) {
    case 13:
        st = true;
        n = 1;
        break;
        /* ds_write_b32 */;
    case 77:
        st = true;
        n = 2;
        break;
        /* ds_write_b64 */;
    case 54:
        st = false;
        n = 1;
        break;
        /* ds_read_b32 */;
    case 118:
        st = false;
        n = 2;
        break;
        /* ds_read_b64 */;
    case 0:
        st = true;
        n = 1;
        break;
        /* ds_add_u32 */;
    default:
        return isa_illegal(x);
    }
    if (addr >= x->nvgpr || (st ? data + n : vdst + n) > x->nvgpr) {
        return isa_illegal(x);
    }
    if (!isa_charge_lanes(x, exec)) {
        return false;
    }
    for (l = 0; l < ISA_LANES; l++) {
        uint32_t buf[2];
        uint64_t a;
        unsigned i;

        if (!((exec >> l) & 1)) {
            continue;
        }
        a = (uint64_t)w->v[addr][l] + off;
        if (op == 0) {
            if (!isa_lds(x, a, buf, 4, false)) {
                return false;
            }
            buf[0] = cpu_to_le32(le32_to_cpu(buf[0]) + w->v[data][l]);
            if (!isa_lds(x, a, buf, 4, true)) {
                return false;
            }
            continue;
        }
        if (st) {
            for (i = 0; i < n; i++) {
                buf[i] = cpu_to_le32(w->v[data + i][l]);
            }
        }
        if (!isa_lds(x, a, buf, n * 4, st)) {
            return false;
        }
        if (!st) {
            for (i = 0; i < n; i++) {
                w->v[vdst + i][l] = le32_to_cpu(buf[i]);
            }
        }
    }
    return true;
}

/* ---- the instruction loop ---- */

static bool isa_fetch(Isa *x, uint64_t va, uint32_t *d)
{
    uint32_t v;

    if (!isa_read(x, va, &v, 4)) {
        return false;
    }
    *d = le32_to_cpu(v);
    return true;
}

/* Execute the instruction at w->pc */
static bool isa_step(Isa *x, IsaWave *w)
{
    uint64_t pc = w->pc;
    uint32_t d, d1 = 0;
    unsigned len = 4;
    Vop o;

    if (pc & 3) {
        return isa_illegal(x);
    }
    if (!isa_fetch(x, pc, &d)) {
        return false;
    }
    memset(&o, 0, sizeof(o));
    if ((d >> 30) == 2) {
        /* scalar ALU: the literal follows when an operand is 255 */
        unsigned hi9 = d >> 23;
        bool lit;

        if (hi9 == 0x17f) {
            w->pc = pc + 4;
            return isa_sopp(x, w, d, pc + 4);
        }
        if (hi9 != 0x17d && hi9 != 0x17e && (d >> 28) == 0xb) {
            if (((d >> 23) & 0x1f) > 15) {
                return isa_illegal(x);
            }
            w->pc = pc + 4;
            return isa_sopk(x, w, d);
        }
        lit = (d & 0xff) == OP_LITERAL ||
              (hi9 != 0x17d && ((d >> 8) & 0xff) == OP_LITERAL);
        if (lit) {
            if (!isa_fetch(x, pc + 4, &d1)) {
                return false;
            }
            len = 8;
        }
        w->pc = pc + len;
        if (hi9 == 0x17d) {
            return isa_sop1(x, w, d, d1, pc + len);
        }
        if (hi9 == 0x17e) {
            return isa_sopc(x, w, d, d1);
        }
        return isa_sop2(x, w, d, d1);
    }
    if ((d >> 31) == 0 || (d >> 26) == 0x1f) {
        /* VOP2 (bit 31 clear), VOP1 (0x3f << 25), VOPC (0x3e << 25) */
        unsigned src0 = d & 0x1ff;

        if (src0 == 249 || src0 == 250) {
            return isa_illegal(x); /* SDWA, DPP */
        }
        if (src0 == OP_LITERAL) {
            if (!isa_fetch(x, pc + 4, &o.lit)) {
                return false;
            }
            len = 8;
        }
        o.src[0] = src0;
        if ((d >> 25) == 0x3f) {
            if (((d >> 9) & 0xff) >= 0x80) {
                /* beyond VOP1's opcodes (VOP3 space 0x140..0x1bf) */
                return isa_illegal(x);
            }
            o.op = 0x140 + ((d >> 9) & 0xff);
            /* an SGPR for v_readfirstlane_b32 */
            o.vdst = (d >> 17) & 0xff;
        } else if ((d >> 25) == 0x3e) {
            o.op = (d >> 17) & 0xff;
            o.src[1] = OP_VGPR0 + ((d >> 9) & 0xff);
            o.sdst = OP_VCC_LO;
        } else {
            unsigned op2 = (d >> 25) & 0x3f;

            if (op2 == 23 || op2 == 24) {
                return isa_illegal(x); /* v_madmk/madak: not in the set */
            }
            o.op = 0x100 + op2;
            o.vdst = (d >> 17) & 0xff;
            o.src[1] = OP_VGPR0 + ((d >> 9) & 0xff);
        }
        w->pc = pc + len;
        return isa_valu(x, w, &o);
    }
    len = 8;
    if (!isa_fetch(x, pc + 4, &d1)) {
        return false;
    }
    w->pc = pc + len;
    switch (d >> 26) {
    case 0x30: /* SMEM */
        return isa_smem(x, w, d, d1);
    case 0x34: /* VOP3a/b */
        o.vop3 = true;
        o.op = (d >> 16) & 0x3ff;
        o.vdst = d & 0xff;
        o.src[0] = d1 & 0x1ff;
        o.src[1] = (d1 >> 9) & 0x1ff;
        o.src[2] = (d1 >> 18) & 0x1ff;
        o.omod = (d1 >> 27) & 3;
        o.neg = d1 >> 29;
        o.clamp = (d >> 15) & 1;
        if (o.op < 0x100) {
            /* VOPC is VOP3a (abs, op_sel): the mask SGPRs in vdst */
            o.sdst = o.vdst;
        }
        if ((o.op >= 0x119 && o.op <= 0x11e) || o.op == 0x1e8 ||
            o.op == 0x1e9) {
            /* VOP3b: an SGPR destination for the carry */
            o.sdst = (d >> 8) & 0x7f;
        } else {
            o.abs = (d >> 8) & 7;
            if ((d >> 11) & 0xf) {
                return isa_illegal(x); /* op_sel */
            }
        }
        if (o.src[0] == OP_LITERAL || o.src[1] == OP_LITERAL ||
            o.src[2] == OP_LITERAL) {
            return isa_illegal(x); /* no literal in VOP3 on gfx9 */
        }
        return isa_valu(x, w, &o);
    case 0x37: /* FLAT, GLOBAL, SCRATCH */
        return isa_flat(x, w, d, d1);
    case 0x36: /* DS */
        return isa_ds(x, w, d, d1);
    default:
        return isa_illegal(x);
    }
}

/* Count one instruction; let others have the model now and then */
static bool isa_tick(Isa *x)
{
    if (!x->left) {
        x->ec = EC_QUEUE_WAVE_ABORT;
        return false;
    }
    x->left--;
    x->executed++;
    if (++x->since_yield >= SIM_ISA_YIELD) {
        x->since_yield = 0;
        if (!sim_ring_yield(x->ctx, x->q, x->ring) || x->ctx->stopping ||
            x->q->halted) {
            x->stop = true;
            return false;
        }
    }
    return true;
}

/* ---- dispatch ---- */

typedef struct IsaKernel {
    uint64_t entry;
    uint32_t rsrc2;
    uint32_t props;
    uint32_t group_size;
    uint64_t kernarg;
    uint64_t dispatch_ptr;
    uint64_t queue_ptr;
    uint64_t dispatch_id;
    uint16_t wg[3];
    uint32_t grid[3];
} IsaKernel;

/* Run workgroup (@gx, @gy, @gz) to the end of its waves */
static bool isa_workgroup(Isa *x, const IsaKernel *k, uint32_t gx,
                          uint32_t gy, uint32_t gz)
{
    uint32_t id[3] = { gx, gy, gz }, size[3], items, nwaves, i, l;
    unsigned user, running;

    for (i = 0; i < 3; i++) {
        /* the last workgroup of a dimension may be partial */
        size[i] = MIN((uint64_t)k->wg[i],
                      (uint64_t)k->grid[i] - (uint64_t)id[i] * k->wg[i]);
    }
    items = size[0] * size[1] * size[2];
    nwaves = DIV_ROUND_UP(items, ISA_LANES);
    for (i = 0; i < nwaves; i++) {
        IsaWave *w = &x->waves[i];
        uint64_t exec;

        /*
         * VGPRs and LDS keep what this queue's earlier waves left, as on
         * the GPU; SGPRs start at 0
         */
        memset(w->s, 0, sizeof(w->s));
        w->scc = false;
        w->state = WAVE_RUN;
        w->pc = k->entry;
        exec = items - i * ISA_LANES >= ISA_LANES ? ~0ULL :
               (1ULL << (items - i * ISA_LANES)) - 1;
        w->s[OP_EXEC_LO] = exec;
        w->s[OP_EXEC_HI] = exec >> 32;
        user = 0;
        if (k->props & KCP_PRIVATE_BUFFER) {
            user += 4; /* no private segment: a null buffer resource */
        }
        if (k->props & KCP_DISPATCH_PTR) {
            w->s[user++] = k->dispatch_ptr;
            w->s[user++] = k->dispatch_ptr >> 32;
        }
        if (k->props & KCP_QUEUE_PTR) {
            w->s[user++] = k->queue_ptr;
            w->s[user++] = k->queue_ptr >> 32;
        }
        if (k->props & KCP_KERNARG_PTR) {
            w->s[user++] = k->kernarg;
            w->s[user++] = k->kernarg >> 32;
        }
        if (k->props & KCP_DISPATCH_ID) {
            w->s[user++] = k->dispatch_id;
            w->s[user++] = k->dispatch_id >> 32;
        }
        if (k->props & KCP_FLAT_SCRATCH_INIT) {
            user += 2;
        }
        if (k->props & KCP_PRIVATE_SIZE) {
            user++;
        }
        if (k->rsrc2 & RSRC2_TGID_X) {
            w->s[user++] = gx;
        }
        if (k->rsrc2 & RSRC2_TGID_Y) {
            w->s[user++] = gy;
        }
        if (k->rsrc2 & RSRC2_TGID_Z) {
            w->s[user++] = gz;
        }
        /* then the scratch wave offset, if enabled: 0 */
        for (l = 0; l < ISA_LANES; l++) {
            uint32_t flat = i * ISA_LANES + l;

            if (flat >= items) {
                break;
            }
            w->v[0][l] = flat % size[0];
            if (x->nvgpr > 1 && ((k->rsrc2 >> RSRC2_TIDIG_SHIFT) & 3) >= 1) {
                w->v[1][l] = (flat / size[0]) % size[1];
            }
            if (x->nvgpr > 2 && ((k->rsrc2 >> RSRC2_TIDIG_SHIFT) & 3) >= 2) {
                w->v[2][l] = flat / (size[0] * size[1]);
            }
        }
    }

    /* each wave runs to a barrier or its end; the barrier then opens */
    do {
        running = 0;
        for (i = 0; i < nwaves; i++) {
            IsaWave *w = &x->waves[i];

            while (w->state == WAVE_RUN) {
                if (!isa_tick(x) || !isa_step(x, w)) {
                    return false;
                }
            }
        }
        for (i = 0; i < nwaves; i++) {
            if (x->waves[i].state == WAVE_BARRIER) {
                x->waves[i].state = WAVE_RUN;
                running++;
            }
        }
    } while (running);
    return true;
}

static bool isa_check_dispatch(Isa *x, const uint8_t *pkt, IsaKernel *k,
                               uint32_t *vgprs)
{
    uint8_t kd[KD_SIZE];
    uint64_t ko, wg_items;
    uint32_t dyn_group, fixed_group, rsrc1, i;
    unsigned dims = ldl_le_p(pkt) >> 16 & 3;

    for (i = 0; i < 3; i++) {
        k->wg[i] = lduw_le_p(pkt + 4 + i * 2);
        k->grid[i] = ldl_le_p(pkt + 12 + i * 4);
    }
    if (dims < 1 || dims > 3 || !k->grid[0] || !k->grid[1] ||
        !k->grid[2]) {
        x->ec = EC_QUEUE_PACKET_DISPATCH_DIM_INVALID;
        return false;
    }
    wg_items = (uint64_t)k->wg[0] * k->wg[1] * k->wg[2];
    if (!wg_items || wg_items > SIM_ISA_MAX_WORKGROUP) {
        x->ec = EC_QUEUE_PACKET_DISPATCH_WORK_GROUP_SIZE_INVALID;
        return false;
    }
    dyn_group = ldl_le_p(pkt + 28);
    k->kernarg = ldq_le_p(pkt + 40);
    ko = ldq_le_p(pkt + 32);
    if (!ko || (ko & 63)) {
        x->ec = EC_QUEUE_PACKET_DISPATCH_CODE_INVALID;
        return false;
    }
    if (!isa_read(x, ko, kd, sizeof(kd))) {
        return false;
    }
    fixed_group = ldl_le_p(kd + KD_GROUP_SIZE);
    if ((uint64_t)fixed_group + dyn_group > SIM_ISA_MAX_LDS) {
        x->ec = EC_QUEUE_PACKET_DISPATCH_GROUP_SEGMENT_SIZE_INVALID;
        return false;
    }
    k->group_size = fixed_group + dyn_group;
    k->entry = ko + ldq_le_p(kd + KD_ENTRY_OFFSET);
    rsrc1 = ldl_le_p(kd + KD_RSRC1);
    k->rsrc2 = ldl_le_p(kd + KD_RSRC2);
    k->props = lduw_le_p(kd + KD_PROPERTIES);
    if ((k->entry & 255) || (k->props & KCP_WAVE32)) {
        x->ec = EC_QUEUE_PACKET_DISPATCH_CODE_INVALID;
        return false;
    }
    if ((k->rsrc2 & RSRC2_TG_INFO) || (k->rsrc2 & RSRC2_SCRATCH_EN) ||
        ldl_le_p(kd + KD_PRIVATE_SIZE) || ldl_le_p(pkt + 24)) {
        /* the private segment and the workgroup info are not modelled */
        x->ec = EC_QUEUE_PACKET_DISPATCH_REGISTER_INVALID;
        return false;
    }
    *vgprs = ((rsrc1 & 0x3f) + 1) * 4;
    return true;
}

SimRun sim_isa_dispatch(SimCtx *ctx, SimQueue *q, SimRing *ring,
                        const uint8_t *pkt, uint64_t slot_va,
                        uint64_t queue_va, SimIsaStats *stats)
{
    g_autofree Isa *x = g_new0(Isa, 1);
    uint32_t (*v)[ISA_LANES];
    IsaKernel k = { 0 };
    uint32_t gx, gy, gz, n[3], i, waves;
    int64_t t0 = g_get_monotonic_time();
    size_t vbytes, need;
    bool ok = true;

    x->ctx = ctx;
    x->q = q;
    x->ring = ring;
    x->left = SIM_ISA_BUDGET;
    if (!isa_check_dispatch(x, pkt, &k, &x->nvgpr)) {
        goto out;
    }
    k.dispatch_ptr = slot_va;
    k.queue_ptr = queue_va;
    k.dispatch_id = q->rptr;
    /* the waves of one workgroup at most, then the LDS */
    waves = DIV_ROUND_UP((uint32_t)k.wg[0] * k.wg[1] * k.wg[2], ISA_LANES);
    vbytes = (size_t)x->nvgpr * waves * ISA_LANES * 4;
    need = vbytes + k.group_size;
    if (q->isa_mem_size < need) {
        g_free(q->isa_mem);
        q->isa_mem = g_malloc0(need);
        q->isa_mem_size = need;
    }
    v = q->isa_mem;
    for (i = 0; i < waves; i++) {
        x->waves[i].v = v + (size_t)i * x->nvgpr;
    }
    x->lds_size = k.group_size;
    x->lds = (uint8_t *)q->isa_mem + vbytes;
    for (i = 0; i < 3; i++) {
        n[i] = DIV_ROUND_UP((uint64_t)k.grid[i], k.wg[i]);
    }
    for (gz = 0; ok && gz < n[2]; gz++) {
        for (gy = 0; ok && gy < n[1]; gy++) {
            for (gx = 0; ok && gx < n[0]; gx++) {
                ok = isa_workgroup(x, &k, gx, gy, gz);
            }
        }
    }
out:
    if (stats) {
        stats->dispatches++;
        stats->instructions += x->executed;
        stats->last_instructions = x->executed;
        stats->last_ns = (g_get_monotonic_time() - t0) * 1000;
    }
    if (x->ec) {
        return sim_aql_error(ctx, q, x->ec);
    }
    if (x->stop || q->halted) {
        return SIM_RUN_STOP;
    }
    return SIM_RUN_DONE;
}
