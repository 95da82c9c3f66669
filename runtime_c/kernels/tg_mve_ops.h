/* Internal to runtime_c/kernels: what the Helium (MVE) variants (tinygen/tg_mve.h) share.
 *
 * The few vector operations they use, as MVE intrinsics (arm_mve.h) where the core has Helium, and
 * as plain C computing the same lanes otherwise (the host tests run that; it is never the firmware's
 * path on a core with MVE). Sums wrap modulo 2^32 (VMLADAVA and VMLA do; the C computes in uint32_t),
 * so no signed overflow; only VQRDMULH and VQADD saturate, as the reference arithmetic does.
 */
#ifndef TINYGEN_TG_MVE_OPS_H
#define TINYGEN_TG_MVE_OPS_H

#include "tinygen/tg_mve.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define TG_MVE 1
#include <arm_mve.h>

typedef int8x16_t tg_v8_t;   /* 16 int8 lanes */
typedef int32x4_t tg_v32_t;  /* 4 int32 lanes */

static inline tg_v8_t tg_v8_load(const int8_t *p) { return vldrbq_s8(p); }
/* The first n (< 16) lanes of p, the others 0; the bytes beyond are not read. */
static inline tg_v8_t tg_v8_load_first(const int8_t *p, int32_t n) { return vldrbq_z_s8(p, vctp8q((uint32_t)n)); }
static inline void tg_v8_store(int8_t *p, tg_v8_t v) { vstrbq_s8(p, v); }
static inline void tg_v8_store_first(int8_t *p, tg_v8_t v, int32_t n) { vstrbq_p_s8(p, v, vctp8q((uint32_t)n)); }
static inline tg_v8_t tg_v8_dup(int32_t v) { return vdupq_n_s8((int8_t)v); }
/* acc + sum of the 16 lane products (VMLADAVA.S8). */
static inline int32_t tg_v8_dot(int32_t acc, tg_v8_t x, tg_v8_t w) { return vmladavaq_s8(acc, x, w); }

/* Four int8 widened to int32 (VLDRB.S32); _first: the first n (< 4) lanes, the others 0. */
static inline tg_v32_t tg_v32_load_s8(const int8_t *p) { return vldrbq_s32(p); }
static inline tg_v32_t tg_v32_load_s8_first(const int8_t *p, int32_t n) { return vldrbq_z_s32(p, vctp32q((uint32_t)n)); }
static inline tg_v32_t tg_v32_load(const int32_t *p) { return vldrwq_s32(p); }
static inline tg_v32_t tg_v32_dup(int32_t v) { return vdupq_n_s32(v); }
static inline int32_t tg_v32_lane0(tg_v32_t v) { return vgetq_lane_s32(v, 0); }
static inline tg_v32_t tg_v32_make(int32_t a, int32_t b, int32_t c, int32_t d)
{
    tg_v32_t v = vdupq_n_s32(a);
    v = vsetq_lane_s32(b, v, 1);
    v = vsetq_lane_s32(c, v, 2);
    return vsetq_lane_s32(d, v, 3);
}
/* acc + a * b lane by lane (VMUL + VADD: MVE has no vector-by-vector VMLA for integers). */
static inline tg_v32_t tg_v32_mla(tg_v32_t acc, tg_v32_t a, tg_v32_t b) { return vaddq_s32(acc, vmulq_s32(a, b)); }
static inline tg_v32_t tg_v32_add(tg_v32_t a, tg_v32_t b) { return vaddq_s32(a, b); }
static inline tg_v32_t tg_v32_add_n(tg_v32_t a, int32_t b) { return vaddq_n_s32(a, b); }
static inline tg_v32_t tg_v32_shl(tg_v32_t a, tg_v32_t s) { return vshlq_s32(a, s); }  /* s >= 0: wraps */
static inline tg_v32_t tg_v32_qrdmulh(tg_v32_t a, tg_v32_t b) { return vqrdmulhq_s32(a, b); }
static inline tg_v32_t tg_v32_rshl(tg_v32_t a, tg_v32_t s) { return vrshlq_s32(a, s); }  /* s <= 0 */
static inline tg_v32_t tg_v32_qadd(tg_v32_t a, tg_v32_t b) { return vqaddq_s32(a, b); }
static inline tg_v32_t tg_v32_and(tg_v32_t a, tg_v32_t b) { return vandq_s32(a, b); }
static inline tg_v32_t tg_v32_sign(tg_v32_t a) { return vshrq_n_s32(a, 31); }
static inline tg_v32_t tg_v32_clamp(tg_v32_t a, int32_t lo, int32_t hi)
{
    return vminq_s32(vmaxq_s32(a, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}
/* The low byte of each lane to p[0..3] (VSTRB.32); _first: lanes 0..n-1 only. */
static inline void tg_v32_store_s8(int8_t *p, tg_v32_t v) { vstrbq_s32(p, v); }
static inline void tg_v32_store_s8_first(int8_t *p, tg_v32_t v, int32_t n) { vstrbq_p_s32(p, v, vctp32q((uint32_t)n)); }
/* acc + a * s lane by lane (VMLA by a scalar, which MVE has). */
static inline tg_v32_t tg_v32_mla_n(tg_v32_t acc, tg_v32_t a, int32_t s) { return vmlaq_n_s32(acc, a, s); }
static inline tg_v32_t tg_v32_shl_n(tg_v32_t a, int32_t s) { return vshlq_r_s32(a, s); }  /* s >= 0: wraps */
static inline tg_v32_t tg_v32_qrdmulh_n(tg_v32_t a, int32_t s) { return vqrdmulhq_n_s32(a, s); }
static inline tg_v32_t tg_v32_rshl_n(tg_v32_t a, int32_t s) { return vrshlq_n_s32(a, s); }  /* s <= 0 */
/* Lane i from p[offsets[i]], widened (VLDRB.S32 gather); the offsets are >= 0. */
static inline tg_v32_t tg_v32_gather_s8(const int8_t *p, tg_v32_t offsets)
{
    return vldrbq_gather_offset_s32(p, vreinterpretq_u32_s32(offsets));
}
/* The low byte of each lane to p[offsets[i]] (VSTRB.32 scatter); _first: lanes 0..n-1 (all four when n >= 4). */
static inline void tg_v32_scatter_s8(int8_t *p, tg_v32_t offsets, tg_v32_t v)
{
    vstrbq_scatter_offset_s32(p, vreinterpretq_u32_s32(offsets), v);
}
static inline void tg_v32_scatter_s8_first(int8_t *p, tg_v32_t offsets, tg_v32_t v, int32_t n)
{
    vstrbq_scatter_offset_p_s32(p, vreinterpretq_u32_s32(offsets), v, vctp32q((uint32_t)n));
}
/* n (<= 8) bytes p[0], p[step], ... to dst[0..n) (VLDRB.S16 gather, VSTRB.16); 7 * step < 2^16. */
static inline void tg_mve_gather8(int8_t *dst, const int8_t *p, int32_t step, int32_t n)
{
    const uint16x8_t offsets = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)step);
    const mve_pred16_t lanes = vctp16q((uint32_t)n);
    vstrbq_p_s16(dst, vldrbq_gather_offset_z_s16(p, offsets, lanes), lanes);
}


#else /* the same lanes in plain C */
#define TG_MVE 0

typedef struct { int8_t v[16]; } tg_v8_t;
typedef struct { int32_t v[4]; } tg_v32_t;

static inline tg_v8_t tg_v8_load_first(const int8_t *p, int32_t n)
{
    tg_v8_t r;
    for (int32_t i = 0; i < 16; ++i) {
        r.v[i] = i < n ? p[i] : 0;
    }
    return r;
}
static inline tg_v8_t tg_v8_load(const int8_t *p) { return tg_v8_load_first(p, 16); }
static inline void tg_v8_store_first(int8_t *p, tg_v8_t v, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        p[i] = v.v[i];
    }
}
static inline void tg_v8_store(int8_t *p, tg_v8_t v) { tg_v8_store_first(p, v, 16); }
static inline tg_v8_t tg_v8_dup(int32_t value)
{
    tg_v8_t r;
    for (int32_t i = 0; i < 16; ++i) {
        r.v[i] = (int8_t)value;
    }
    return r;
}
static inline int32_t tg_v8_dot(int32_t acc, tg_v8_t x, tg_v8_t w)
{
    uint32_t sum = (uint32_t)acc;
    for (int32_t i = 0; i < 16; ++i) {
        sum += (uint32_t)((int32_t)x.v[i] * w.v[i]);
    }
    return (int32_t)sum;
}
static inline tg_v32_t tg_v32_load_s8_first(const int8_t *p, int32_t n)
{
    tg_v32_t r;
    for (int32_t i = 0; i < 4; ++i) {
        r.v[i] = i < n ? p[i] : 0;
    }
    return r;
}
static inline tg_v32_t tg_v32_load_s8(const int8_t *p) { return tg_v32_load_s8_first(p, 4); }
static inline tg_v32_t tg_v32_load(const int32_t *p)
{
    const tg_v32_t r = {{p[0], p[1], p[2], p[3]}};
    return r;
}
static inline tg_v32_t tg_v32_make(int32_t a, int32_t b, int32_t c, int32_t d)
{
    const tg_v32_t r = {{a, b, c, d}};
    return r;
}
static inline tg_v32_t tg_v32_dup(int32_t v) { return tg_v32_make(v, v, v, v); }
static inline int32_t tg_v32_lane0(tg_v32_t v) { return v.v[0]; }
#define TG_V32_LANES(expr)                  \
    tg_v32_t r;                            \
    for (int32_t i = 0; i < 4; ++i) {      \
        r.v[i] = (expr);                   \
    }                                      \
    return r
static inline tg_v32_t tg_v32_mla(tg_v32_t acc, tg_v32_t a, tg_v32_t b)
{
    TG_V32_LANES((int32_t)((uint32_t)acc.v[i] + (uint32_t)a.v[i] * (uint32_t)b.v[i]));
}
static inline tg_v32_t tg_v32_add(tg_v32_t a, tg_v32_t b) { TG_V32_LANES((int32_t)((uint32_t)a.v[i] + (uint32_t)b.v[i])); }
static inline tg_v32_t tg_v32_add_n(tg_v32_t a, int32_t b) { TG_V32_LANES((int32_t)((uint32_t)a.v[i] + (uint32_t)b)); }
static inline tg_v32_t tg_v32_shl(tg_v32_t a, tg_v32_t s) { TG_V32_LANES((int32_t)((uint32_t)a.v[i] << s.v[i])); }
static inline int32_t tg_qrdmulh1(int32_t a, int32_t b)
{
    const int64_t p = 2 * (int64_t)a * b + ((int64_t)1 << 31);
    return a == INT32_MIN && b == INT32_MIN ? INT32_MAX : (int32_t)(p >> 32);
}
static inline tg_v32_t tg_v32_qrdmulh(tg_v32_t a, tg_v32_t b) { TG_V32_LANES(tg_qrdmulh1(a.v[i], b.v[i])); }
static inline int32_t tg_rshl1(int32_t a, int32_t s)
{
    return s == 0 ? a : (int32_t)(((int64_t)a + ((int64_t)1 << (-s - 1))) >> -s);
}
static inline tg_v32_t tg_v32_rshl(tg_v32_t a, tg_v32_t s) { TG_V32_LANES(tg_rshl1(a.v[i], s.v[i])); }
static inline int32_t tg_qadd1(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + b;
    return sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : (int32_t)sum;
}
static inline tg_v32_t tg_v32_qadd(tg_v32_t a, tg_v32_t b) { TG_V32_LANES(tg_qadd1(a.v[i], b.v[i])); }
static inline tg_v32_t tg_v32_and(tg_v32_t a, tg_v32_t b) { TG_V32_LANES(a.v[i] & b.v[i]); }
static inline tg_v32_t tg_v32_sign(tg_v32_t a) { TG_V32_LANES(a.v[i] < 0 ? -1 : 0); }
static inline tg_v32_t tg_v32_clamp(tg_v32_t a, int32_t lo, int32_t hi)
{
    TG_V32_LANES(a.v[i] < lo ? lo : a.v[i] > hi ? hi : a.v[i]);
}
static inline tg_v32_t tg_v32_mla_n(tg_v32_t acc, tg_v32_t a, int32_t s)
{
    TG_V32_LANES((int32_t)((uint32_t)acc.v[i] + (uint32_t)a.v[i] * (uint32_t)s));
}
static inline tg_v32_t tg_v32_shl_n(tg_v32_t a, int32_t s) { TG_V32_LANES((int32_t)((uint32_t)a.v[i] << s)); }
static inline tg_v32_t tg_v32_qrdmulh_n(tg_v32_t a, int32_t s) { TG_V32_LANES(tg_qrdmulh1(a.v[i], s)); }
static inline tg_v32_t tg_v32_rshl_n(tg_v32_t a, int32_t s) { TG_V32_LANES(tg_rshl1(a.v[i], s)); }
static inline tg_v32_t tg_v32_gather_s8(const int8_t *p, tg_v32_t offsets) { TG_V32_LANES(p[offsets.v[i]]); }
#undef TG_V32_LANES
static inline void tg_v32_store_s8_first(int8_t *p, tg_v32_t v, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        p[i] = (int8_t)v.v[i];
    }
}
static inline void tg_v32_store_s8(int8_t *p, tg_v32_t v) { tg_v32_store_s8_first(p, v, 4); }
static inline void tg_v32_scatter_s8_first(int8_t *p, tg_v32_t offsets, tg_v32_t v, int32_t n)
{
    for (int32_t i = 0; i < n && i < 4; ++i) {
        p[offsets.v[i]] = (int8_t)v.v[i];
    }
}
static inline void tg_v32_scatter_s8(int8_t *p, tg_v32_t offsets, tg_v32_t v) { tg_v32_scatter_s8_first(p, offsets, v, 4); }
static inline void tg_mve_gather8(int8_t *dst, const int8_t *p, int32_t step, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = p[i * step];
    }
}
#endif

/* ---- what the kernels build on them ---------------------------------------------------------- */

/* dst[0..n) = src[0..n), 16 bytes per VLDRB/VSTRB (no memcpy call). */
static inline int8_t *tg_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 16; n -= 16, src += 16, dst += 16) {
        tg_v8_store(dst, tg_v8_load(src));
    }
    if (n > 0) {
        tg_v8_store_first(dst, tg_v8_load_first(src, n), n);
    }
    return dst + n;
}

static inline int8_t *tg_mve_fill(int8_t *dst, int32_t value, int32_t n)
{
    const tg_v8_t v = tg_v8_dup(value);
    for (; n >= 16; n -= 16, dst += 16) {
        tg_v8_store(dst, v);
    }
    if (n > 0) {
        tg_v8_store_first(dst, v, n);
    }
    return dst + n;
}

/* One column x of `depth` k against one block of TG_MVE_ROWS interleaved rows w (depth padded to
 * TG_MVE_CHUNK with zero weights: the column's last chunk is loaded for its depth % 16 lanes only, so
 * nothing beyond it is read). Row r's dot product in lane r. Four accumulators: VMLADAVA accumulates
 * into even registers only, of which a core has seven, so two columns (eight) would spill. */
static inline tg_v32_t tg_mve_dot4x1(const int8_t *x, const int8_t *w, int32_t depth)
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t chunks = depth >> 4; chunks > 0; --chunks) {
        const tg_v8_t xa = tg_v8_load(x);
        x += 16;
        a0 = tg_v8_dot(a0, xa, tg_v8_load(w));
        a1 = tg_v8_dot(a1, xa, tg_v8_load(w + 16));
        a2 = tg_v8_dot(a2, xa, tg_v8_load(w + 32));
        a3 = tg_v8_dot(a3, xa, tg_v8_load(w + 48));
        w += 64;
    }
    const int32_t tail = depth & 15;
    if (tail != 0) {
        const tg_v8_t xa = tg_v8_load_first(x, tail);
        a0 = tg_v8_dot(a0, xa, tg_v8_load(w));
        a1 = tg_v8_dot(a1, xa, tg_v8_load(w + 16));
        a2 = tg_v8_dot(a2, xa, tg_v8_load(w + 32));
        a3 = tg_v8_dot(a3, xa, tg_v8_load(w + 48));
    }
    return tg_v32_make(a0, a1, a2, a3);
}

/* Two columns x0, x1 of `depth` k against one block of TG_MVE_ROWS interleaved rows w (as
 * tg_mve_dot4x1): row r's dot products in lane r of vector a (x0) and b (x1). Each 16 k: two column
 * loads, four row loads, eight VMLADAVA. The eight accumulators take the eight even registers (VMLADAVA
 * accumulates into even registers only), so the loop is in assembly with them named; the last chunk
 * loads the columns' depth % 16 bytes only (VCTP), nothing beyond. */
#if TG_MVE && !defined(__OPTIMIZE_SIZE__)  /* at -Os GCC 12 finds no registers for this asm: the C below */
#define TG_MVE_DOT2X4_ROWS_OP(op)                                 \
    "vldrb.8 %q[wv], [%[w]], #16\n\t"                        \
    op ".s8 r0, %q[xa], %q[wv]\n\t"                     \
    op ".s8 r2, %q[xb], %q[wv]\n\t"                     \
    "vldrb.8 %q[wv], [%[w]], #16\n\t"                        \
    op ".s8 r4, %q[xa], %q[wv]\n\t"                     \
    op ".s8 r6, %q[xb], %q[wv]\n\t"                     \
    "vldrb.8 %q[wv], [%[w]], #16\n\t"                        \
    op ".s8 r8, %q[xa], %q[wv]\n\t"                     \
    op ".s8 r10, %q[xb], %q[wv]\n\t"                    \
    "vldrb.8 %q[wv], [%[w]], #16\n\t"                        \
    op ".s8 r12, %q[xa], %q[wv]\n\t"                    \
    op ".s8 lr, %q[xb], %q[wv]\n\t"
/* The eight accumulators from the columns at x0 and x1 (the loop, then the predicated tail), moved to
 * the vectors a (x0's) and b (x1's) lane by lane: the two-lane VMOV's lane order differs between the
 * assemblers and QEMU. n: the whole chunks, then the tail (loaded from memory: no register is left). */
#define TG_MVE_DOT2X4_BODY                                 \
    "cmp %[n], #0\n\t"                                      \
    "bne 5f\n\t"                                            \
    "movs r0, #0\n\t"                                       \
    "movs r2, #0\n\t"                                       \
    "movs r4, #0\n\t"                                       \
    "movs r6, #0\n\t"                                       \
    "mov r8, #0\n\t"                                        \
    "mov r10, #0\n\t"                                       \
    "mov r12, #0\n\t"                                       \
    "mov lr, #0\n\t"                                        \
    "b 2f\n"                                                \
    "5:\n\t" /* the first chunk starts the accumulators */  \
    "vldrb.8 %q[xa], [%[x0]], #16\n\t"                      \
    "vldrb.8 %q[xb], [%[x1]], #16\n\t"                      \
    TG_MVE_DOT2X4_ROWS_OP("vmladav")                        \
    "subs %[n], #1\n\t"                                     \
    "beq 2f\n"                                              \
    "1:\n\t"                                                \
    "vldrb.8 %q[xa], [%[x0]], #16\n\t"                      \
    "vldrb.8 %q[xb], [%[x1]], #16\n\t"                      \
    TG_MVE_DOT2X4_ROWS                                      \
    "subs %[n], #1\n\t"                                     \
    "bne 1b\n"                                              \
    "2:\n\t"                                                \
    "ldr %[n], %[tail]\n\t"                                 \
    "cmp %[n], #0\n\t"                                      \
    "beq 3f\n\t"                                            \
    "vctp.8 %[n]\n\t"                                       \
    "vpstt\n\t"                                             \
    "vldrbt.8 %q[xa], [%[x0]]\n\t"                          \
    "vldrbt.8 %q[xb], [%[x1]]\n\t"                          \
    TG_MVE_DOT2X4_ROWS                                      \
    "3:\n\t"                                                \
    "vdup.32 %q[a], r0\n\t"                                 \
    "vmov.32 %q[a][1], r4\n\t"                              \
    "vmov.32 %q[a][2], r8\n\t"                              \
    "vmov.32 %q[a][3], r12\n\t"                             \
    "vdup.32 %q[b], r2\n\t"                                 \
    "vmov.32 %q[b][1], r6\n\t"                              \
    "vmov.32 %q[b][2], r10\n\t"                             \
    "vmov.32 %q[b][3], lr\n\t"
#define TG_MVE_DOT2X4_CLOBBERS "r0", "r2", "r4", "r6", "r8", "r10", "r12", "lr", "memory", "cc"
#define TG_MVE_DOT2X4_ROWS TG_MVE_DOT2X4_ROWS_OP("vmladava")

#define TG_MVE_EPILOGUE2_HEAD                        \
    "ldr r0, %[block]\n\t"                            \
    "vldrw.32 %q[xa], [r0]\n\t"        /* bias' */     \
    "vldrw.32 %q[xb], [r0, #16]\n\t"   /* multiplier */ \
    "vldrw.32 %q[t], [r0, #48]\n\t"    /* -right shift */ \
    "vadd.i32 %q[a], %q[a], %q[xa]\n\t"               \
    "vadd.i32 %q[b], %q[b], %q[xa]\n\t"
#define TG_MVE_EPILOGUE2_LEFT                        \
    "vldrw.32 %q[wv], [r0, #32]\n\t"   /* left shift */ \
    "vshl.s32 %q[a], %q[a], %q[wv]\n\t"               \
    "vshl.s32 %q[b], %q[b], %q[wv]\n\t"
#define TG_MVE_EPILOGUE2_TAIL                        \
    "vqrdmulh.s32 %q[a], %q[a], %q[xb]\n\t"           \
    "vqrdmulh.s32 %q[b], %q[b], %q[xb]\n\t"           \
    "vand %q[xa], %q[a], %q[t]\n\t"                   \
    "vand %q[xb], %q[b], %q[t]\n\t"                   \
    "vshr.s32 %q[xa], %q[xa], #31\n\t"                \
    "vshr.s32 %q[xb], %q[xb], #31\n\t"                \
    "vqadd.s32 %q[a], %q[a], %q[xa]\n\t"              \
    "vqadd.s32 %q[b], %q[b], %q[xb]\n\t"              \
    "vrshl.s32 %q[a], %q[a], %q[t]\n\t"               \
    "vrshl.s32 %q[b], %q[b], %q[t]\n\t"               \
    "ldr r0, %[offset]\n\t"                           \
    "vadd.i32 %q[a], %q[a], r0\n\t"                   \
    "vadd.i32 %q[b], %q[b], r0\n\t"                   \
    "vmax.s32 %q[a], %q[a], %q[lo]\n\t"               \
    "vmax.s32 %q[b], %q[b], %q[lo]\n\t"               \
    "vmin.s32 %q[a], %q[a], %q[hi]\n\t"               \
    "vmin.s32 %q[b], %q[b], %q[hi]\n\t"               \
    "vstrb.32 %q[a], [%[out0]]\n\t"                   \
    "ldr r0, %[out1]\n\t"                             \
    "vstrb.32 %q[b], [r0]"
#define TG_MVE_BLOCK2X4_OPERANDS                                                                              \
    : [a] "=&w"(a), [b] "=&w"(b), [t] "=&w"(t), [xa] "=&w"(xa), [xb] "=&w"(xb), [wv] "=&w"(wv),            \
      [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [n] "+r"(chunks)                                           \
    : [tail] "m"(tail), [block] "m"(block), [offset] "m"(output_offset), [lo] "w"(lo), [hi] "w"(hi),         \
      [out0] "l"(out0), [out1] "m"(out1)                                                                    \
    : TG_MVE_DOT2X4_CLOBBERS

/* The two columns against a whole block of TG_MVE_ROWS rows, then the block's epilogue (tg_mve_requantize,
 * its words at `block`; the left shift only where `left`: a layer whose channels have none skips it)
 * on both vectors and their stores to out0 and out1, all in one assembly block: in C, GCC spills the
 * epilogue's vectors around the accumulators' registers. Returns w past the block. ("l": the narrowing
 * VSTRB.32 takes r0-r7 only.) */
static inline __attribute__((always_inline)) const int8_t *tg_mve_block2x4(
    const int8_t *x0, const int8_t *x1, const int8_t *w, int32_t depth, const int32_t *block, int32_t output_offset,
    tg_v32_t lo, tg_v32_t hi, int8_t *out0, int8_t *out1, int left)
{
    int32_t chunks = depth >> 4;
    const int32_t tail = depth & 15;
    tg_v8_t xa, xb, wv;
    tg_v32_t a, b, t;
    if (left) {
        __asm__(TG_MVE_DOT2X4_BODY TG_MVE_EPILOGUE2_HEAD TG_MVE_EPILOGUE2_LEFT TG_MVE_EPILOGUE2_TAIL
                TG_MVE_BLOCK2X4_OPERANDS);
    } else {
        __asm__(TG_MVE_DOT2X4_BODY TG_MVE_EPILOGUE2_HEAD TG_MVE_EPILOGUE2_TAIL TG_MVE_BLOCK2X4_OPERANDS);
    }
    return w;
}
#undef TG_MVE_BLOCK2X4_OPERANDS
#undef TG_MVE_EPILOGUE2_TAIL
#undef TG_MVE_EPILOGUE2_LEFT
#undef TG_MVE_EPILOGUE2_HEAD
#undef TG_MVE_DOT2X4_CLOBBERS
#undef TG_MVE_DOT2X4_BODY
#undef TG_MVE_DOT2X4_ROWS
#undef TG_MVE_DOT2X4_ROWS_OP
#endif

/* The per-block epilogue data (TG_MVE_BLOCK_WORDS words) in registers. */
typedef struct {
    tg_v32_t bias, multiplier, left, right;  /* right: -e, e the right shift in [0, 31] */
} tg_mve_block_t;

static inline tg_mve_block_t tg_mve_block(const int32_t *words)
{
    const tg_mve_block_t b = {tg_v32_load(words), tg_v32_load(words + 4), tg_v32_load(words + 8),
                              tg_v32_load(words + 12)};
    return b;
}

typedef struct {
    int32_t output_offset;
    int32_t min;
    int32_t max;
} tg_mve_epilogue_t;

/* bias' + acc, through TFLM's MultiplyByQuantizedMultiplier.
 * The left shift wraps as TFLM's x * (1 << shift) does. VQRDMULH is gemmlowp's
 * SaturatingRoundingDoublingHighMul for all inputs. gemmlowp's RoundingDivideByPOT rounds half away
 * from zero; VRSHL rounds half up, so negative values first lose 1 (VQADD: INT32_MIN stays, and
 * rounds to the same -2^(31 - e)); the AND with -e keeps that for e > 0 only. */
static inline tg_v32_t tg_mve_rescale(tg_v32_t acc, const tg_mve_block_t *b)
{
    acc = tg_v32_shl(tg_v32_add(acc, b->bias), b->left);
    tg_v32_t high = tg_v32_qrdmulh(acc, b->multiplier);
    high = tg_v32_qadd(high, tg_v32_sign(tg_v32_and(high, b->right)));
    return tg_v32_rshl(high, b->right);
}

/* tg_mve_rescale, then offset and clamped (still int32 lanes). */
static inline tg_v32_t tg_mve_requantize(tg_v32_t acc, const tg_mve_block_t *b, tg_mve_epilogue_t e)
{
    return tg_v32_clamp(tg_v32_add_n(tg_mve_rescale(acc, b), e.output_offset), e.min, e.max);
}

#if !TG_MVE || defined(__OPTIMIZE_SIZE__)
/* tg_mve_block2x4's lanes in plain C. */
static inline const int8_t *tg_mve_block2x4(const int8_t *x0, const int8_t *x1, const int8_t *w, int32_t depth,
                                            const int32_t *block, int32_t output_offset, tg_v32_t lo, tg_v32_t hi,
                                            int8_t *out0, int8_t *out1, int left)
{
    (void)left;  /* the words' left shifts are 0 where it is 0 */
    const tg_mve_block_t b = tg_mve_block(block);
    const tg_mve_epilogue_t e = {output_offset, tg_v32_lane0(lo), tg_v32_lane0(hi)};
    tg_v32_store_s8(out0, tg_mve_requantize(tg_mve_dot4x1(x0, w, depth), &b, e));
    tg_v32_store_s8(out1, tg_mve_requantize(tg_mve_dot4x1(x1, w, depth), &b, e));
    return w + TG_MVE_ROWS * ((depth + TG_MVE_CHUNK - 1) / TG_MVE_CHUNK * TG_MVE_CHUNK);
}
#endif

/* The `rows` (<= 4) outputs of one block to out. */
static inline void tg_mve_store(int8_t *out, tg_v32_t v, int32_t rows)
{
    if (rows == TG_MVE_ROWS) {
        tg_v32_store_s8(out, v);
    } else {
        tg_v32_store_s8_first(out, v, rows);
    }
}

/* One or two output pixels (count) of a convolution or fully connected layer from their columns x0,
 * x1 of depth k: all out_c channels (packed rows of depth_padded bytes), to out0 and out0 + out_c.
 * left: some channel has a left shift (else the epilogue skips it). */
/* One column's outputs for the blocks of rows from `oc` on: in C, apart from the assembly blocks (whose
 * eight clobbered registers would otherwise cost this loop its own). */
static __attribute__((noinline)) void tg_mve_gemm_column(const int32_t *channels, const int8_t *x, const int8_t *w,
                                                         int32_t depth, int32_t depth_padded, int32_t out_c,
                                                         tg_mve_epilogue_t e, int8_t *out, int32_t oc)
{
    for (; oc < out_c; oc += TG_MVE_ROWS) {
        const int32_t rows = out_c - oc < TG_MVE_ROWS ? out_c - oc : TG_MVE_ROWS;
        const tg_mve_block_t block = tg_mve_block(channels);
        tg_mve_store(out + oc, tg_mve_requantize(tg_mve_dot4x1(x, w, depth), &block, e), rows);
        w += TG_MVE_ROWS * depth_padded;
        channels += TG_MVE_BLOCK_WORDS;
    }
}

static inline void tg_mve_gemm_pixels(const int32_t *channels, const int8_t *x0, const int8_t *x1,
                                      const int8_t *filter, int32_t depth, int32_t depth_padded, int32_t out_c,
                                      tg_mve_epilogue_t e, int8_t *out0, int32_t count, int left)
{
    const int8_t *w = filter;
    int32_t oc = 0;
    if (count == 2) {  /* the whole blocks, each in one assembly block */
        const tg_v32_t lo = tg_v32_dup(e.min), hi = tg_v32_dup(e.max);
        for (; oc + TG_MVE_ROWS <= out_c; oc += TG_MVE_ROWS, channels += TG_MVE_BLOCK_WORDS) {
            int8_t *const o = out0 + oc;
            w = left ? tg_mve_block2x4(x0, x1, w, depth, channels, e.output_offset, lo, hi, o, o + out_c, 1)
                     : tg_mve_block2x4(x0, x1, w, depth, channels, e.output_offset, lo, hi, o, o + out_c, 0);
        }
    }
    if (oc < out_c) {  /* a lone pixel, or the partial last block of a pair's, column by column */
        tg_mve_gemm_column(channels, x0, w, depth, depth_padded, out_c, e, out0, oc);
        if (count == 2) {
            tg_mve_gemm_column(channels, x1, w, depth, depth_padded, out_c, e, out0 + out_c, oc);
        }
    }
}

#endif /* TINYGEN_TG_MVE_OPS_H */
