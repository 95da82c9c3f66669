/* ADD, int8, both inputs of the output's shape: tg_add_s8's Helium twin (the same arguments, the
 * same bits). Four elements per int32x4: VLDRB.S32 of each input, the offsets, the left shift, each
 * input's and the output's MultiplyByQuantizedMultiplier as the convolutions' epilogue computes it
 * (tg_mve_ops.h: exact for every shift in [-31, 30]), VSTRB.32; the last elements predicated. Element
 * i is written after element i of both inputs is read, none later (tg_add_s8's overlap contract). */
#include "tinygen/tg_kernels.h"
#include "tg_mve_ops.h"

/* One multiplier as an epilogue block (every lane the same): x + offset, shifted left by `left` then
 * by the multiplier's own left shift (one shift: both wrap alike), multiplied, shifted right. */
static tg_mve_block_t scalar_block(tg_requant_t r, int32_t offset, int32_t left)
{
    const tg_mve_block_t b = {tg_v32_dup(offset), tg_v32_dup(r.multiplier),
                              tg_v32_dup(left + (r.shift > 0 ? r.shift : 0)), tg_v32_dup(r.shift < 0 ? r.shift : 0)};
    return b;
}

void tg_add_s8_mve(const tg_add_params_t *params, int32_t size,
                   const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tg_add_params_t p = *params;
    const tg_mve_block_t in1 = scalar_block(p.input1, p.input1_offset, p.left_shift);
    const tg_mve_block_t in2 = scalar_block(p.input2, p.input2_offset, p.left_shift);
    const tg_mve_block_t outb = scalar_block(p.output, 0, 0);
    const tg_mve_epilogue_t e = {p.output_offset, p.activation.min, p.activation.max};
    int32_t i = 0;
    for (; i + 4 <= size; i += 4) {
        const tg_v32_t a = tg_mve_rescale(tg_v32_load_s8(input1 + i), &in1);
        const tg_v32_t b = tg_mve_rescale(tg_v32_load_s8(input2 + i), &in2);
        tg_v32_store_s8(output + i, tg_mve_requantize(tg_v32_add(a, b), &outb, e));
    }
    if (i < size) {
        const int32_t n = size - i;
        const tg_v32_t a = tg_mve_rescale(tg_v32_load_s8_first(input1 + i, n), &in1);
        const tg_v32_t b = tg_mve_rescale(tg_v32_load_s8_first(input2 + i, n), &in2);
        tg_v32_store_s8_first(output + i, tg_mve_requantize(tg_v32_add(a, b), &outb, e), n);
    }
}
