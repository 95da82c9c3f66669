/* ELU, int8: TFLM tabulates the function over the 256 input values in Prepare (PopulateLookupTable);
 * the table is computed at generation time the same way and looked up here. */
#include "tinygen/tg_kernels.h"

void tg_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
