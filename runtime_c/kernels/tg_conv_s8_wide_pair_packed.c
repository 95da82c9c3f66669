/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8_wide_pair with int8 weights, two
 * rows packed per int16 half (tinygen/tg_wide.h; the driver and the column in
 * tg_conv_wide_pair_body.h), so the weights take the int8 model's flash, not twice it.
 *
 * Per two k a weight word holds rows (0, 1) as v = 256 * row1 + row0 per k (int16, checked at
 * generation). SMLAD with the word gathers 256 * dot1 + dot0 (S); with its even bytes (SXTB16: row 0's
 * int8 weights) dot0 alone (E); row 1 comes back as (S - E) >> 8 (packed_rows). Per two k and both
 * pixels: one LDRD of the column, one of the two words (rows 0-1, 2-3), two SXTB16, eight SMLAD:
 * 12 instructions and 16 estimated cycles per 16 MACs, against the int16 pair's 11 and 17.
 */
#include "tg_conv_wide_pair_body.h"

/* The interleaved column against one block's packed words, four k per iteration; on the DSP path
 * asm, with the loop's end kept in memory as in the int16 pair (all fourteen registers are taken). */
TG_PAIR_DOT(dot2x4_packed, TG_PAIR_PACKED_GROUP_ASM, TG_PAIR_PACKED_GROUP)

TG_CONV_WIDE_PAIR_KERNEL(tg_conv_s8_wide_pair_packed, dot2x4_packed, packed_start, packed_rows, tg_pair_words4_packed,
                         TG_WIDE_ROWS)
