/* mps2 port: find a SysTick tick edge to the exact instruction (a vernier).
 *
 * One tick is N = TG_MPS2_INSTRUCTIONS_PER_TICK instructions under `-icount shift=0` (40 on the
 * mps2, from tg_board.h). This loop reads the counter once every N + 1 instructions, so each read lands one instruction later in the tick than the one before; the
 * first time two ticks pass between reads, the read landed exactly on a tick edge. After at most
 * N iterations the caller is synchronised with the tick to the instruction.
 *
 *   uint32_t tg_mps2_tick_sync(volatile const uint32_t *cvr, uint32_t *edge_value)
 *
 * Returns the number of iterations k (1..N): the read on the edge came (N + 1) * k instructions after
 * the first read, a fixed number of instructions after the call. Stores the counter value read on
 * the edge in *edge_value. Run it with interrupts masked: an interrupt would break the count.
 */
#include "tg_board.h"

    .syntax unified
    .thumb
    .text
    .global tg_mps2_tick_sync
    .type tg_mps2_tick_sync, %function
    .thumb_func
tg_mps2_tick_sync:
    push    {r4, r5}
    ldr     r2, [r0]            /* previous counter value */
    movs    r3, #0              /* iterations */
    .rept 5                     /* pad the first interval to N + 1 too: 1 + 5 + (N - 6) + 1 */
    nop
    .endr
1:
    .rept TG_BOARD_INSTRUCTIONS_PER_TICK - 6
    nop
    .endr
    ldr     r4, [r0]            /* 1: read the counter (it counts down) */
    subs    r5, r2, r4          /* 2: ticks since the previous read... */
    lsls    r5, r5, #8          /* 3: ...modulo 2^24, the counter's width */
    mov     r2, r4              /* 4 */
    adds    r3, r3, #1          /* 5 */
    cmp     r5, #0x100          /* 6: exactly one tick passed? */
    beq     1b                  /* 7: then not yet on the edge: N - 6 + 7 = N + 1 per iteration */
    str     r4, [r1]
    mov     r0, r3
    pop     {r4, r5}
    bx      lr
    .size tg_mps2_tick_sync, . - tg_mps2_tick_sync
