/* tinygen runtime: the C API of a generated model.
 *
 * Each generated model exports one `const tg_model_t <name>_model` describing itself, plus
 * `int <name>_invoke(void)`. An application writes the input tensors through `inputs[i].data`,
 * calls invoke(), and reads `outputs[i].data`. All memory is static: the arena is a global of
 * `arena_bytes` inside the generated source, and input/output data pointers point into it.
 */
#ifndef TINYGEN_TG_MODEL_H
#define TINYGEN_TG_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TG_MAX_RANK 6

typedef enum {
    TG_DTYPE_INT8 = 1,
    TG_DTYPE_UINT8 = 2,
    TG_DTYPE_INT16 = 3,
    TG_DTYPE_INT32 = 4,
    TG_DTYPE_FLOAT32 = 5
} tg_dtype_t;

typedef struct {
    const char *name;
    void *data;          /* where the application writes (input) or reads (output) */
    uint32_t bytes;
    tg_dtype_t dtype;
    uint32_t rank;
    int32_t dims[TG_MAX_RANK];
    float scale;         /* 0 when the tensor is not quantized (float32) */
    int32_t zero_point;
} tg_tensor_info_t;

typedef struct {
    const char *name;
    const char *tinygen_version;
    const uint8_t *sha256;   /* 32 bytes: sha256 of the .tflite this code was generated from */
    uint32_t arena_bytes;    /* all activation RAM: inputs, outputs, intermediates, scratch */
    uint32_t num_inputs;
    uint32_t num_outputs;
    const tg_tensor_info_t *inputs;
    const tg_tensor_info_t *outputs;
    int (*invoke)(void);     /* returns TG_OK */
} tg_model_t;

#define TG_OK 0

/* What invoke() returns, in a build with guard bytes (tinygen build --debug-guards), when an operator
 * changed a byte just outside one of the buffers it could reach:
 *   TG_ERR_GUARD | [TG_ERR_GUARD_BELOW] | op_index << TG_ERR_GUARD_OP_SHIFT | tensor_index
 * BELOW: the guard before the buffer changed, else the one after it. The tensor index is the
 * buffer's first tensor, or TG_GUARD_SCRATCH for an operator's scratch buffer. */
#define TG_ERR_GUARD 0x40000000
#define TG_ERR_GUARD_BELOW 0x20000000
#define TG_ERR_GUARD_OP_SHIFT 16
#define TG_ERR_GUARD_OP_MAX 0x1FFF
#define TG_ERR_GUARD_TENSOR_MASK 0xFFFF
#define TG_GUARD_SCRATCH 0xFFFF

/* Generated code calls TG_TRACE_TENSOR after every operator. It costs nothing unless the build
 * defines TG_TRACE, in which case the application supplies tg_trace_tensor() (used by tests to
 * compare every intermediate tensor with TFLite Micro). */
#ifdef TG_TRACE
void tg_trace_tensor(int32_t op_index, int32_t tensor_index, const void *data, uint32_t bytes);
#define TG_TRACE_TENSOR(op, tensor, data, bytes) tg_trace_tensor((op), (tensor), (data), (bytes))
#else
#define TG_TRACE_TENSOR(op, tensor, data, bytes) ((void)0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_MODEL_H */
