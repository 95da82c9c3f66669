/* tinygen firmware: serves one generated model over the serial protocol (tg_protocol.h).
 *
 * Written only against tg_model.h and tg_port.h, so the same application runs on every board.
 * Build with -DTG_MODEL_SYMBOL=<name>_model. No C library: no heap, no printf, no copies of
 * tensors; requests are parsed as they stream in.
 */
#include <stddef.h>
#include <stdint.h>

#include "tg_crc32.h"
#include "tg_protocol.h"
#include "tinygen/tg_model.h"
#include "tinygen/tg_port.h"

#ifndef TG_MODEL_SYMBOL
#error "define TG_MODEL_SYMBOL as the generated model's tg_model_t, e.g. -DTG_MODEL_SYMBOL=digits_model"
#endif

extern const tg_model_t TG_MODEL_SYMBOL;
#define MODEL (&TG_MODEL_SYMBOL)

int tg_return_zero(void); /* tg_calibrate.c */
#define TG_RETURN_ZERO_INSTRUCTIONS 2u /* `movs r0, #0; bx lr` (Arm), `li a0, 0; ret` (RISC-V) */

typedef struct {
    uint8_t type;
    uint8_t seq;
    uint32_t length;
    uint32_t crc; /* running CRC state over the header, then the payload */
} frame_header_t;

/* ---- sending -------------------------------------------------------------------------------- */

/* A reply's payload is produced twice by the same function: once only to learn its length (which
 * the header needs first), once to send it. No reply is ever buffered. */
typedef struct {
    int sending;
    uint32_t length;
    uint32_t crc;
} tx_t;

typedef void (*payload_fn)(tx_t *tx, const void *context);

static void tx_bytes(tx_t *tx, const void *data, uint32_t count)
{
    const uint8_t *bytes = data;
    if (tx->sending) {
        for (uint32_t i = 0; i < count; ++i) {
            tg_port_write_byte(bytes[i]);
            tx->crc = tg_crc32_update(tx->crc, bytes[i]);
        }
    }
    tx->length += count;
}

static void tx_u8(tx_t *tx, uint8_t value)
{
    tx_bytes(tx, &value, 1u);
}

static void tx_u32(tx_t *tx, uint32_t value)
{
    const uint8_t le[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
    tx_bytes(tx, le, 4u);
}

static void tx_u16(tx_t *tx, uint16_t value)
{
    const uint8_t le[2] = {(uint8_t)value, (uint8_t)(value >> 8)};
    tx_bytes(tx, le, 2u);
}

static void tx_u64(tx_t *tx, uint64_t value)
{
    tx_u32(tx, (uint32_t)value);
    tx_u32(tx, (uint32_t)(value >> 32));
}

static void tx_f32(tx_t *tx, float value)
{
    union {
        float f;
        uint32_t u;
    } bits = {.f = value};
    tx_u32(tx, bits.u);
}

static void tx_str(tx_t *tx, const char *text)
{
    uint32_t length = 0;
    while (text != NULL && text[length] != '\0' && length < 255u) {
        ++length;
    }
    tx_u8(tx, (uint8_t)length);
    tx_bytes(tx, text, length);
}

static void frame_start(tx_t *tx, uint8_t type, uint8_t seq, uint32_t length)
{
    tx_u8(tx, TG_SYNC_0);
    tx_u8(tx, TG_SYNC_1);
    tx_u8(tx, type);
    tx_u8(tx, seq);
    tx_u32(tx, length);
}

static void frame_end(const tx_t *tx)
{
    uint32_t crc = tg_crc32_final(tx->crc);
    for (uint32_t i = 0; i < TG_CRC_BYTES; ++i) {
        tg_port_write_byte((uint8_t)(crc >> (8u * i)));
    }
}

static void send_frame(uint8_t type, uint8_t seq, payload_fn payload, const void *context)
{
    tx_t measure = {0, 0u, TG_CRC32_INIT};
    payload(&measure, context);

    tx_t tx = {1, 0u, TG_CRC32_INIT};
    frame_start(&tx, type, seq, measure.length);
    payload(&tx, context);
    frame_end(&tx);
}

/* ---- replies -------------------------------------------------------------------------------- */

static uint32_t total_bytes(const tg_tensor_info_t *tensors, uint32_t count)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < count; ++i) {
        total += tensors[i].bytes;
    }
    return total;
}

static void tx_tensor_info(tx_t *tx, const tg_tensor_info_t *tensor)
{
    uint32_t rank = tensor->rank <= TG_MAX_RANK ? tensor->rank : TG_MAX_RANK;
    tx_str(tx, tensor->name);
    tx_u8(tx, (uint8_t)tensor->dtype);
    tx_u8(tx, (uint8_t)rank);
    tx_u32(tx, tensor->bytes);
    for (uint32_t d = 0; d < rank; ++d) {
        tx_u32(tx, (uint32_t)tensor->dims[d]);
    }
    tx_f32(tx, tensor->scale);
    tx_u32(tx, (uint32_t)tensor->zero_point);
}

static uint32_t largest_request(void)
{
    const uint32_t run_bytes = total_bytes(MODEL->inputs, MODEL->num_inputs);
    return run_bytes > 4u + TG_CHUNK_BYTES ? run_bytes : 4u + TG_CHUNK_BYTES;
}

static void hello_payload(tx_t *tx, const void *context)
{
    const uint32_t version = *(const uint32_t *)context;
    tx_u16(tx, (uint16_t)version);
    tx_u16(tx, 0u);
    tx_u32(tx, version >= 3u ? largest_request() : total_bytes(MODEL->inputs, MODEL->num_inputs));
    tx_bytes(tx, MODEL->sha256, 32u);
    tx_u32(tx, MODEL->arena_bytes);
    tx_u8(tx, (uint8_t)MODEL->num_inputs);
    tx_u8(tx, (uint8_t)MODEL->num_outputs);
    tx_str(tx, MODEL->name);
    tx_str(tx, MODEL->tinygen_version);
    for (uint32_t i = 0; i < MODEL->num_inputs; ++i) {
        tx_tensor_info(tx, &MODEL->inputs[i]);
    }
    for (uint32_t i = 0; i < MODEL->num_outputs; ++i) {
        tx_tensor_info(tx, &MODEL->outputs[i]);
    }
    if (version >= 3u) {
        tx_u32(tx, TG_CHUNK_BYTES);
    }
}

typedef struct {
    int32_t status;
    uint64_t instructions;
    uint32_t invoke_stack_bytes;
    uint32_t stack_peak_bytes;
} run_result_t;

static void run_payload(tx_t *tx, const void *context)
{
    const run_result_t *result = context;
    tx_u32(tx, (uint32_t)result->status);
    tx_u64(tx, result->instructions);
    tx_u32(tx, result->invoke_stack_bytes);
    tx_u32(tx, result->stack_peak_bytes);
    for (uint32_t i = 0; i < MODEL->num_outputs; ++i) {
        tx_bytes(tx, MODEL->outputs[i].data, MODEL->outputs[i].bytes);
    }
}

typedef struct {
    run_result_t run;
    uint32_t output_bytes;
    uint32_t output_crc;
} invoke_result_t;

static void invoke_payload(tx_t *tx, const void *context)
{
    const invoke_result_t *result = context;
    tx_u32(tx, (uint32_t)result->run.status);
    tx_u64(tx, result->run.instructions);
    tx_u32(tx, result->run.invoke_stack_bytes);
    tx_u32(tx, result->run.stack_peak_bytes);
    tx_u32(tx, result->output_bytes);
    tx_u32(tx, result->output_crc);
}

typedef struct {
    uint32_t offset;
    uint32_t count;
} span_t;

/* Byte `offset` of the tensors laid end to end (the order of the model's list). */
static uint8_t *tensor_byte(const tg_tensor_info_t *tensors, uint32_t count, uint32_t offset)
{
    for (uint32_t i = 0; i < count; ++i) {
        if (offset < tensors[i].bytes) {
            return (uint8_t *)tensors[i].data + offset;
        }
        offset -= tensors[i].bytes;
    }
    return NULL;
}

static void read_payload(tx_t *tx, const void *context)
{
    const span_t *span = context;
    for (uint32_t b = 0; b < span->count; ++b) {
        tx_u8(tx, *tensor_byte(MODEL->outputs, MODEL->num_outputs, span->offset + b));
    }
}

static void offset_payload(tx_t *tx, const void *context)
{
    tx_u32(tx, *(const uint32_t *)context);
}

static void empty_payload(tx_t *tx, const void *context)
{
    (void)tx;
    (void)context;
}

typedef struct {
    uint32_t code;
    uint32_t detail;
} error_reply_t;

static void error_payload(tx_t *tx, const void *context)
{
    const error_reply_t *error = context;
    tx_u32(tx, error->code);
    tx_u32(tx, error->detail);
}

static void send_error(uint8_t seq, uint32_t code, uint32_t detail)
{
    const error_reply_t error = {code, detail};
    send_frame(TG_MSG_ERROR, seq, error_payload, &error);
}

/* ---- hard faults ------------------------------------------------------------------------------ */

static uint8_t current_seq; /* of the request being served, echoed by a FAULT frame */

typedef struct {
    uint32_t pc;
    uint32_t exception;
    uint32_t cause;
} fault_t;

static void fault_payload(tx_t *tx, const void *context)
{
    const fault_t *fault = context;
    tx_u32(tx, fault->pc);
    tx_u32(tx, fault->exception);
    tx_u32(tx, fault->cause);
}

/* Called by the port's fault handler (tg_port.h) before it ends the program. */
void tg_app_fault(uint32_t pc, uint32_t exception, uint32_t cause)
{
    const fault_t fault = {pc, exception, cause};
    send_frame(TG_MSG_FAULT, current_seq, fault_payload, &fault);
    tg_port_flush();
}

/* ---- tensor traces (TG_TRACE builds) ---------------------------------------------------------- */

#ifdef TG_TRACE
/* Called by the generated code after every operator (tg_model.h): the tensor's bytes go out as
 * one TRACE frame, tagged with the sequence number of the request that ran invoke(). Framed here
 * directly, not through send_frame's payload callback: an indirect call from inside invoke()
 * would leave the static stack analysis a possible recursion back into invoke(). */
void tg_trace_tensor(int32_t op_index, int32_t tensor_index, const void *data, uint32_t bytes)
{
    tx_t tx = {1, 0u, TG_CRC32_INIT};
    frame_start(&tx, TG_MSG_TRACE, current_seq, 8u + bytes);
    tx_u32(&tx, (uint32_t)op_index);
    tx_u32(&tx, (uint32_t)tensor_index);
    tx_bytes(&tx, data, bytes);
    frame_end(&tx);
}
#endif

/* ---- stack painting ---------------------------------------------------------------------------- */

/* The stack is measured by painting: every free word below the stack pointer gets a pattern, and
 * the deepest word that no longer holds it is the deepest the stack has been. The port's linker
 * script gives the stack's top (__tg_stack_top) and size (__tg_stack_bytes, an absolute symbol);
 * they are weak so that a port without them still links, and then reports 0. */
extern uint32_t __tg_stack_top[] __attribute__((weak));
extern uint8_t __tg_stack_bytes[] __attribute__((weak));
#define TG_STACK_PAINT 0xC5A3C5A3u

static uint32_t *stack_lowest;  /* the deepest word found in use since boot */
static uint32_t *invoke_sp;     /* the stack pointer at the call of invoke() */

static uint32_t *stack_bottom(void)
{
    return (uint32_t *)((uint8_t *)__tg_stack_top - (uintptr_t)__tg_stack_bytes);
}

/* Inlined so that it reads (and paints below) its caller's own stack pointer. */
__attribute__((always_inline)) static inline uint32_t *stack_pointer(void)
{
    uint32_t *sp;
#if defined(__arm__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#elif defined(__riscv)
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#else
    sp = __builtin_frame_address(0);
#endif
    return sp;
}

__attribute__((always_inline)) static inline void paint_stack(void)
{
    if (__tg_stack_top == NULL) {
        return;
    }
    volatile uint32_t *word = stack_bottom();
    uint32_t *const sp = stack_pointer();
    while (word < (volatile uint32_t *)sp) {
        *word++ = TG_STACK_PAINT;
    }
}

/* The deepest word that lost its paint (the top when nothing below it has been used). */
static uint32_t *stack_used_to(void)
{
    if (__tg_stack_top == NULL) {
        return NULL;
    }
    const volatile uint32_t *word = stack_bottom();
    while (word < (const volatile uint32_t *)__tg_stack_top && *word == TG_STACK_PAINT) {
        ++word;
    }
    return (uint32_t *)word;
}

static uint32_t bytes_between(const uint32_t *deep, const uint32_t *high)
{
    return __tg_stack_top == NULL ? 0u : (uint32_t)((const uint8_t *)high - (const uint8_t *)deep);
}

/* ---- measuring -------------------------------------------------------------------------------- */

/* noipa: one body for every callee, so the glue around the call is the same for the model and for
 * the empty baseline, and cancels out. */
__attribute__((noipa)) static uint64_t instructions_of(int (*function)(void), int *status)
{
    invoke_sp = stack_pointer();
    tg_port_counter_start();
    int result = function();
    uint64_t instructions = tg_port_counter_read();
    *status = result;
    return instructions;
}

static uint64_t call_overhead;

static void calibrate(void)
{
    int status;
    call_overhead = instructions_of(tg_return_zero, &status) - TG_RETURN_ZERO_INSTRUCTIONS;
}

/* ---- receiving -------------------------------------------------------------------------------- */

static uint8_t rx_byte(uint32_t *crc)
{
    uint8_t byte = tg_port_read_byte();
    *crc = tg_crc32_update(*crc, byte);
    return byte;
}

static uint32_t rx_u32(uint32_t *crc)
{
    uint32_t value = 0;
    for (uint32_t i = 0; i < 4u; ++i) {
        value |= (uint32_t)rx_byte(crc) << (8u * i);
    }
    return value;
}

static void receive_header(frame_header_t *header)
{
    uint8_t byte = tg_port_read_byte();
    for (;;) {
        if (byte != TG_SYNC_0) {
            byte = tg_port_read_byte();
            continue;
        }
        byte = tg_port_read_byte();
        if (byte == TG_SYNC_1) {
            break;
        }
    }
    header->crc = tg_crc32_update(tg_crc32_update(TG_CRC32_INIT, TG_SYNC_0), TG_SYNC_1);
    header->type = rx_byte(&header->crc);
    header->seq = rx_byte(&header->crc);
    header->length = rx_u32(&header->crc);
}

static int crc_matches(uint32_t crc_state)
{
    uint32_t ignored = 0;
    return rx_u32(&ignored) == tg_crc32_final(crc_state);
}

static void receive_inputs(frame_header_t *header)
{
    for (uint32_t i = 0; i < MODEL->num_inputs; ++i) {
        uint8_t *data = MODEL->inputs[i].data;
        for (uint32_t b = 0; b < MODEL->inputs[i].bytes; ++b) {
            data[b] = rx_byte(&header->crc);
        }
    }
}

static void discard_payload(frame_header_t *header)
{
    for (uint32_t b = 0; b < header->length; ++b) {
        (void)rx_byte(&header->crc);
    }
}

static uint32_t crc_of(const tg_tensor_info_t *tensors, uint32_t count)
{
    uint32_t crc = TG_CRC32_INIT;
    for (uint32_t i = 0; i < count; ++i) {
        const uint8_t *data = tensors[i].data;
        for (uint32_t b = 0; b < tensors[i].bytes; ++b) {
            crc = tg_crc32_update(crc, data[b]);
        }
    }
    return tg_crc32_final(crc);
}

static uint32_t le32(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
}

static int is_request(uint8_t type)
{
    return type >= TG_MSG_HELLO && type <= TG_MSG_READ;
}

static int length_fits(uint8_t type, uint32_t length, uint32_t run_bytes)
{
    switch (type) {
    case TG_MSG_HELLO:
        return length == 0u || length == 2u;
    case TG_MSG_RUN:
        return length == run_bytes;
    case TG_MSG_WRITE:
        return length > 4u && length <= 4u + TG_CHUNK_BYTES;
    case TG_MSG_INVOKE:
        return length == 4u;
    case TG_MSG_READ:
        return length == 8u;
    default:
        return length == 0u; /* EXIT */
    }
}

static uint32_t expected_length(uint8_t type, uint32_t run_bytes)
{
    switch (type) {
    case TG_MSG_RUN:
        return run_bytes;
    case TG_MSG_WRITE:
        return 4u + TG_CHUNK_BYTES;
    case TG_MSG_INVOKE:
        return 4u;
    case TG_MSG_READ:
        return 8u;
    default:
        return 0u;
    }
}

/* A v3 request's payload is checked before it touches a tensor: a WRITE garbled on the line must
 * not scribble over inputs already written. */
static uint8_t request_buffer[4u + TG_CHUNK_BYTES];

static void receive_into_buffer(frame_header_t *header)
{
    for (uint32_t b = 0; b < header->length; ++b) {
        request_buffer[b] = rx_byte(&header->crc);
    }
}

static struct {
    int session_open;       /* a v3 HELLO since boot: without one, a v3 request means a reset */
    int result_valid;       /* the last INVOKE's result still describes the inputs and outputs */
    uint32_t input_crc;
    invoke_result_t result;
} state;

static run_result_t run_model(void)
{
    int status;
    /* Paint afresh below this frame, so that the deepest word touched afterwards is
     * invoke()'s; what was used before counts towards the firmware's peak. */
    uint32_t *before = stack_used_to();
    stack_lowest = before < stack_lowest ? before : stack_lowest;
    paint_stack();
    const uint64_t raw = instructions_of(MODEL->invoke, &status);
    uint32_t *deepest = stack_used_to();
    stack_lowest = deepest < stack_lowest ? deepest : stack_lowest;
    const run_result_t result = {status, raw - call_overhead, bytes_between(deepest, invoke_sp),
                                 bytes_between(stack_lowest, __tg_stack_top)};
    return result;
}

static void serve_hello(const frame_header_t *header)
{
    uint32_t version = TG_PROTOCOL_MIN_VERSION;
    if (header->length == 2u) {
        const uint32_t host = (uint32_t)request_buffer[0] | (uint32_t)request_buffer[1] << 8;
        version = host < TG_PROTOCOL_VERSION ? host : TG_PROTOCOL_VERSION;
    }
    state.session_open = version >= 3u; /* a v2 host gets the v2 rules back */
    state.result_valid = 0;
    send_frame(TG_MSG_HELLO | TG_MSG_REPLY, header->seq, hello_payload, &version);
}

static void serve_write(const frame_header_t *header, uint32_t run_bytes)
{
    const uint32_t offset = le32(request_buffer);
    const uint32_t count = header->length - 4u;
    if (offset > run_bytes || count > run_bytes - offset) {
        send_error(header->seq, TG_ERR_BAD_RANGE, run_bytes);
        return;
    }
    for (uint32_t b = 0; b < count; ++b) {
        *tensor_byte(MODEL->inputs, MODEL->num_inputs, offset + b) = request_buffer[4u + b];
    }
    state.result_valid = 0;
    const uint32_t next = offset + count;
    send_frame(TG_MSG_WRITE | TG_MSG_REPLY, header->seq, offset_payload, &next);
}

static void serve_invoke(const frame_header_t *header)
{
    const uint32_t wanted = le32(request_buffer);
    /* A repeated INVOKE (its reply was lost) is answered from memory: invoke() may have reused
     * the inputs' memory, so running again would not compute the same thing. */
    if (!(state.result_valid && state.input_crc == wanted)) {
        const uint32_t held = crc_of(MODEL->inputs, MODEL->num_inputs);
        if (held != wanted) {
            send_error(header->seq, TG_ERR_INPUT_CRC, held);
            return;
        }
        state.result.run = run_model();
        state.result.output_bytes = total_bytes(MODEL->outputs, MODEL->num_outputs);
        state.result.output_crc = crc_of(MODEL->outputs, MODEL->num_outputs);
        state.input_crc = wanted;
        state.result_valid = 1;
    }
    send_frame(TG_MSG_INVOKE | TG_MSG_REPLY, header->seq, invoke_payload, &state.result);
}

static void serve_read(const frame_header_t *header)
{
    const uint32_t output_bytes = total_bytes(MODEL->outputs, MODEL->num_outputs);
    const span_t span = {le32(request_buffer), le32(request_buffer + 4)};
    if (span.count > TG_CHUNK_BYTES || span.offset > output_bytes || span.count > output_bytes - span.offset) {
        send_error(header->seq, TG_ERR_BAD_RANGE, output_bytes);
        return;
    }
    send_frame(TG_MSG_READ | TG_MSG_REPLY, header->seq, read_payload, &span);
}

_Noreturn static void serve(void)
{
    const uint32_t run_bytes = total_bytes(MODEL->inputs, MODEL->num_inputs);
    for (;;) {
        frame_header_t header;
        receive_header(&header);
        current_seq = header.seq;
        /* In a v3 session no request is longer than a WRITE: a length corrupted upwards then
         * swallows at most one chunk of what follows, not a whole v2 RUN's worth. */
        const uint32_t longest = state.session_open ? 4u + TG_CHUNK_BYTES : largest_request();
        if (header.length > longest) {
            /* Possibly a corrupted length: waiting for that many bytes could block forever. */
            send_error(header.seq, TG_ERR_TOO_LONG, longest);
            continue;
        }
        const int well_formed = is_request(header.type) && length_fits(header.type, header.length, run_bytes);
        if (well_formed && header.type == TG_MSG_RUN) {
            receive_inputs(&header); /* v2: straight into the inputs, no buffer */
        } else if (well_formed) {
            receive_into_buffer(&header);
        } else {
            discard_payload(&header);
        }
        if (!crc_matches(header.crc)) {
            send_error(header.seq, TG_ERR_BAD_CRC, 0u);
        } else if (!is_request(header.type)) {
            send_error(header.seq, TG_ERR_UNKNOWN_TYPE, header.type);
        } else if (!well_formed) {
            send_error(header.seq, TG_ERR_BAD_LENGTH, expected_length(header.type, run_bytes));
        } else if (header.type == TG_MSG_HELLO) {
            serve_hello(&header);
        } else if (header.type == TG_MSG_RUN) {
            state.result_valid = 0;
            const run_result_t result = run_model();
            send_frame(TG_MSG_RUN | TG_MSG_REPLY, header.seq, run_payload, &result);
        } else if (header.type == TG_MSG_EXIT) {
            send_frame(TG_MSG_EXIT | TG_MSG_REPLY, header.seq, empty_payload, NULL);
            tg_port_flush();
            tg_port_exit(0);
        } else if (!state.session_open) {
            send_error(header.seq, TG_ERR_NO_SESSION, 0u);
        } else if (header.type == TG_MSG_WRITE) {
            serve_write(&header, run_bytes);
        } else if (header.type == TG_MSG_INVOKE) {
            serve_invoke(&header);
        } else {
            serve_read(&header);
        }
    }
}

/* A framework that owns main() (Arduino's setup(), ESP-IDF's app_main()) builds this file with
 * -DTG_FIRMWARE_MAIN=tg_firmware_main and calls that from its own entry point instead. */
#ifndef TG_FIRMWARE_MAIN
#define TG_FIRMWARE_MAIN main
#endif

int TG_FIRMWARE_MAIN(void)
{
    paint_stack();
    stack_lowest = __tg_stack_top;
    tg_port_init();
    calibrate();
    serve();
}
