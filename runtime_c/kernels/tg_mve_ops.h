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
#undef TG_V32_LANES
static inline void tg_v32_store_s8_first(int8_t *p, tg_v32_t v, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        p[i] = (int8_t)v.v[i];
    }
}
static inline void tg_v32_store_s8(int8_t *p, tg_v32_t v) { tg_v32_store_s8_first(p, v, 4); }
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
 * x1 of depth k: all out_c channels (packed rows of depth_padded bytes), to out0 and out0 + out_c. */
static inline void tg_mve_gemm_pixels(const int32_t *channels, const int8_t *x0, const int8_t *x1,
                                      const int8_t *filter, int32_t depth, int32_t depth_padded, int32_t out_c,
                                      tg_mve_epilogue_t e, int8_t *out0, int32_t count)
{
    const int8_t *w = filter;
    for (int32_t oc = 0; oc < out_c; oc += TG_MVE_ROWS) {
        const int32_t rows = out_c - oc < TG_MVE_ROWS ? out_c - oc : TG_MVE_ROWS;
        const tg_mve_block_t block = tg_mve_block(channels);
        tg_mve_store(out0 + oc, tg_mve_requantize(tg_mve_dot4x1(x0, w, depth), &block, e), rows);
        if (count == 2) {
            tg_mve_store(out0 + out_c + oc, tg_mve_requantize(tg_mve_dot4x1(x1, w, depth), &block, e), rows);
        }
        w += TG_MVE_ROWS * depth_padded;
        channels += TG_MVE_BLOCK_WORDS;
    }
}

#endif /* TINYGEN_TG_MVE_OPS_H */
