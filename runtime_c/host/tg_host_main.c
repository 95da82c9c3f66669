/* Host harness for a generated model: runs it on the build machine, the fast path of the tests.
 *
 *   harness INPUTS OUTPUTS [TRACE]
 *
 * INPUTS holds K records, each the model's input tensors' bytes concatenated in order; OUTPUTS
 * receives K records of the output tensors' bytes. With TRACE (and -DTG_TRACE), every tensor an
 * operator writes is appended as {u32 record, i32 op, i32 tensor, u32 bytes, bytes...}, little
 * endian, so tests compare each intermediate with TFLite Micro.
 * Build with -DTG_MODEL_SYMBOL=<name>_model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinygen/tg_model.h"

#ifndef TG_MODEL_SYMBOL
#error "define TG_MODEL_SYMBOL as the generated model's tg_model_t"
#endif

extern const tg_model_t TG_MODEL_SYMBOL;

static FILE *trace_file;
static uint32_t trace_record;

#ifdef TG_TRACE
void tg_trace_tensor(int32_t op_index, int32_t tensor_index, const void *data, uint32_t bytes)
{
    if (trace_file == NULL) {
        return;
    }
    const int32_t header[4] = { (int32_t)trace_record, op_index, tensor_index, (int32_t)bytes };
    if (fwrite(header, sizeof header, 1, trace_file) != 1 || fwrite(data, 1, bytes, trace_file) != bytes) {
        fprintf(stderr, "harness: cannot write trace\n");
        exit(3);
    }
}
#endif

static uint32_t total_bytes(const tg_tensor_info_t *tensors, uint32_t count)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < count; ++i) {
        sum += tensors[i].bytes;
    }
    return sum;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s INPUTS OUTPUTS [TRACE]\n", argv[0]);
        return 2;
    }
    const tg_model_t *model = &TG_MODEL_SYMBOL;
    FILE *in = fopen(argv[1], "rb");
    FILE *out = fopen(argv[2], "wb");
    trace_file = argc > 3 ? fopen(argv[3], "wb") : NULL;
    if (in == NULL || out == NULL || (argc > 3 && trace_file == NULL)) {
        fprintf(stderr, "harness: cannot open files\n");
        return 2;
    }
    const uint32_t in_bytes = total_bytes(model->inputs, model->num_inputs);
    uint8_t *record = malloc(in_bytes ? in_bytes : 1);
    for (trace_record = 0;; ++trace_record) {
        size_t got = fread(record, 1, in_bytes, in);
        if (got == 0 && feof(in)) {
            break;
        }
        if (got != in_bytes) {
            fprintf(stderr, "harness: input file holds a partial record\n");
            return 2;
        }
        uint32_t offset = 0;
        for (uint32_t i = 0; i < model->num_inputs; ++i) {
            memcpy(model->inputs[i].data, record + offset, model->inputs[i].bytes);
            offset += model->inputs[i].bytes;
        }
        const int status = model->invoke();
        if (status != TG_OK) {
            fprintf(stderr, "harness: invoke returned status %d\n", status);
            return 4;
        }
        for (uint32_t i = 0; i < model->num_outputs; ++i) {
            fwrite(model->outputs[i].data, 1, model->outputs[i].bytes, out);
        }
    }
    free(record);
    fclose(in);
    fclose(out);
    if (trace_file != NULL) {
        fclose(trace_file);
    }
    return 0;
}
