/* tinygen runtime: guard bytes around every arena buffer, for debug builds (--debug-guards).
 *
 * The planner leaves `guard_bytes` free right before and right after each buffer's data, shared
 * with no buffer live at the same time. Generated code calls tg_guard_enter() before each
 * operator (it fills the guards of the buffers that come to life there with a known pattern) and
 * tg_guard_leave() after it (it checks the guards of every live buffer, and names the operator
 * and the tensor in the status if one changed). Only generated code of a guarded build includes
 * this header; a normal build does not contain a byte of it.
 *
 * Under AddressSanitizer (host test builds) the same plan also poisons the whole arena except
 * the buffers live during the operator, so any access outside them, reads included, is reported
 * at the faulting instruction rather than after the operator.
 */
#ifndef TINYGEN_TG_GUARD_H
#define TINYGEN_TG_GUARD_H

#include <stdint.h>

#include "tinygen/tg_model.h"

#if defined(__SANITIZE_ADDRESS__)
#define TG_GUARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TG_GUARD_ASAN 1
#endif
#endif

#ifdef TG_GUARD_ASAN
#include <sanitizer/asan_interface.h>
/* The guard code itself reads and writes poisoned bytes on purpose. */
#define TG_GUARD_UNCHECKED __attribute__((no_sanitize_address))
#else
#define TG_GUARD_UNCHECKED
#endif

typedef struct {
    uint32_t offset;  /* of the data in the arena; the guards are just before and just after it */
    uint32_t bytes;
    int32_t first;    /* the call steps during which the buffer holds live data: -1 = before */
    int32_t last;     /* the first call (graph inputs), number of calls = after the last one */
    uint32_t tensor;  /* named in the status: the buffer's first tensor, or TG_GUARD_SCRATCH */
} tg_guard_buffer_t;

typedef struct {
    uint8_t *arena;
    uint32_t arena_bytes;
    uint32_t guard_bytes;
    uint32_t count;
    const tg_guard_buffer_t *buffers;
} tg_guard_plan_t;

/* A pattern that changes with the position, so a kernel storing one constant everywhere (or the
 * pattern's first byte) cannot pass for an untouched guard. */
static inline uint8_t tg_guard_byte(uint32_t position)
{
    return (uint8_t)(0xA5u ^ (position * 0x3Bu));
}

#ifdef TG_GUARD_ASAN
static void tg_guard_poison_dead(const tg_guard_plan_t *plan, int32_t step)
{
    ASAN_POISON_MEMORY_REGION(plan->arena, plan->arena_bytes);
    for (uint32_t i = 0; i < plan->count; ++i) {
        const tg_guard_buffer_t *b = &plan->buffers[i];
        if (b->first <= step && step <= b->last) {
            ASAN_UNPOISON_MEMORY_REGION(plan->arena + b->offset, b->bytes);
        }
    }
}
#endif

TG_GUARD_UNCHECKED static void tg_guard_enter(const tg_guard_plan_t *plan, int32_t step)
{
    for (uint32_t i = 0; i < plan->count; ++i) {
        const tg_guard_buffer_t *b = &plan->buffers[i];
        if (b->first == step) {
            uint8_t *below = plan->arena + b->offset - plan->guard_bytes;
            uint8_t *above = plan->arena + b->offset + b->bytes;
            for (uint32_t k = 0; k < plan->guard_bytes; ++k) {
                below[k] = tg_guard_byte(b->offset - plan->guard_bytes + k);
                above[k] = tg_guard_byte(b->offset + b->bytes + k);
            }
        }
    }
#ifdef TG_GUARD_ASAN
    tg_guard_poison_dead(plan, step);
#endif
}

static void tg_guard_exit(const tg_guard_plan_t *plan)
{
#ifdef TG_GUARD_ASAN
    ASAN_UNPOISON_MEMORY_REGION(plan->arena, plan->arena_bytes);
#else
    (void)plan;
#endif
}

/* TG_OK, or the status naming op_index and the buffer whose guard changed during call `step`. */
TG_GUARD_UNCHECKED static int tg_guard_leave(const tg_guard_plan_t *plan, int32_t step, int32_t op_index)
{
    for (uint32_t i = 0; i < plan->count; ++i) {
        const tg_guard_buffer_t *b = &plan->buffers[i];
        if (b->first > step || step > b->last) {
            continue;
        }
        const uint8_t *below = plan->arena + b->offset - plan->guard_bytes;
        const uint8_t *above = plan->arena + b->offset + b->bytes;
        int changed = 0;
        for (uint32_t k = 0; k < plan->guard_bytes && !changed; ++k) {
            if (below[k] != tg_guard_byte(b->offset - plan->guard_bytes + k)) {
                changed = TG_ERR_GUARD | TG_ERR_GUARD_BELOW;
            } else if (above[k] != tg_guard_byte(b->offset + b->bytes + k)) {
                changed = TG_ERR_GUARD;
            }
        }
        if (changed) {
            tg_guard_exit(plan);
            return changed | ((op_index & TG_ERR_GUARD_OP_MAX) << TG_ERR_GUARD_OP_SHIFT) |
                   (int)(b->tensor & TG_ERR_GUARD_TENSOR_MASK);
        }
    }
    return TG_OK;
}

#endif /* TINYGEN_TG_GUARD_H */
