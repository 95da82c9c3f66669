/* ADD, int8, both inputs of the output's shape: tg_add_s8_table's lookups with the wide variants'
 * epilogue (tinygen/tg_elementwise.h). tg_add_s8_table computes the sum's rescale with the generic
 * MultiplyByQuantizedMultiplier, one element at a time (~43 estimated cycles per element on IC's
 * adds); here the right shift and its rounding term come from generation time, and on the DSP
 * extension four elements share two word loads, the epilogue's SSAT / BFI and one clamped word store
 * (the output multiplier normalized to [2^30, 2^31): the generator's condition).
 * Exact: the tables hold TFLM's rescaled inputs, and tg_wide_requantize is MultiplyByQuantizedMultiplier
 * for a right shift in [1, 23] wherever the result reaches the int8 clamp (tg_wide_dot.h). The sums of
 * two rescaled values stay far inside int32 (the generator's left shift leaves them under 2^30).
 */
#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

#if TG_SIMD_DSP
/* The sum's rescale: SMMLAR with the sum as Ra (the generator's multiplier is normalized to [2^30,
 * 2^31), its doubled word has the sign bit set: no mask, as variants.normalized_channels), then
 * tg_wide_requantize's QADD and shift. */
static inline __attribute__((always_inline)) int32_t rescale(int32_t sum, const tg_add_table_wide_params_t p)
{
    int32_t high;
    __asm__("smmlar %0, %1, %2, %1" : "=r"(high) : "r"(sum), "r"(p.doubled));
    return __ssat((tg_qadd(high, p.rounding + (high >> 31)) >> p.right_shift) + p.output_offset, 8);
}

/* Four elements' outputs as one word (element i in byte i). */
static inline __attribute__((always_inline)) uint32_t add4(const int8_t *input1, const int8_t *input2,
                                                           const int32_t *scaled1, const int32_t *scaled2,
                                                           const tg_add_table_wide_params_t p)
{
    const uint32_t a = tg_read_s8x4(input1), b = tg_read_s8x4(input2);
    const int32_t y0 = rescale(scaled1[(int8_t)a] + scaled2[(int8_t)b], p);
    const int32_t y1 = rescale(scaled1[(int8_t)(a >> 8)] + scaled2[(int8_t)(b >> 8)], p);
    const int32_t y2 = rescale(scaled1[(int8_t)(a >> 16)] + scaled2[(int8_t)(b >> 16)], p);
    const int32_t y3 = rescale(scaled1[(int8_t)(a >> 24)] + scaled2[(int8_t)(b >> 24)], p);
    return tg_pack_s8x4(y0, y1, y2, y3);
}
#endif

void tg_add_s8_table_wide(const tg_add_table_wide_params_t *params, int32_t size, const int32_t *tables,
                          const int8_t *input1, const int8_t *input2, int8_t *output)
{
    /* A local copy: output stores through int8_t * may alias the parameters. */
    const tg_add_table_wide_params_t p = *params;
    const int32_t *const scaled1 = tables + 128, *const scaled2 = tables + 256 + 128;  /* by the int8 value */
    const int32_t channel[4] = {0, p.doubled, p.right_shift, p.rounding};  /* tg_wide.h's words 0-3 */
    const tg_wide_epilogue_t e = tg_wide_epilogue(p.output_offset, p.activation);
    int32_t i = 0;
#if TG_SIMD_DSP
    if (e.clamps) {
        for (; i + 4 <= size; i += 4) {
            const uint32_t word = tg_clamp_s8x4(add4(input1 + i, input2 + i, scaled1, scaled2, p), e.min4, e.max4);
            __builtin_memcpy(output + i, &word, sizeof word);
        }
    } else {
        for (; i + 4 <= size; i += 4) {
            const uint32_t word = add4(input1 + i, input2 + i, scaled1, scaled2, p);
            __builtin_memcpy(output + i, &word, sizeof word);
        }
    }
#endif
    for (; i < size; ++i) {
        output[i] = tg_wide_output(scaled1[input1[i]] + scaled2[input2[i]], channel, e);
    }
}
