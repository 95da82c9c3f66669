/* mps2 port: find a SysTick block edge to the exact instruction (a vernier).
 *
 * Under `-icount shift=0` every instruction is 1 ns. A block of D = 2^S SysTick ticks lasts a whole
 * number N of instructions (tg_board.h: on the mps2 one tick of the 25 MHz clock, N = 40, D = 1; on
 * the AN547 four ticks of its 32 MHz clock, N = 125, D = 4). This loop reads the counter once every
 * N + 1 instructions, so each read lands one instruction later in the block than the one before;
 * the first time two block edges pass between reads, the read landed exactly on a block edge.
 * After at most N iterations the caller is synchronised with the blocks to the instruction.
 *
 *   uint32_t tg_mps2_tick_sync(volatile const uint32_t *cvr, uint32_t *edge_value)
 *
 * Returns the number of iterations k (1..N): the read on the edge came (N + 1) * k instructions
 * after the first read, a fixed number of instructions after the call. Stores the counter value
 * read on the edge in *edge_value. Run it with interrupts masked: an interrupt would break the count.
 */
#include "tg_board.h"

#define N TG_BOARD_INSTRUCTIONS_PER_BLOCK
#define S TG_BOARD_TICKS_PER_BLOCK_LOG2

    .syntax unified
    .thumb
    .text
    .global tg_mps2_tick_sync
    .type tg_mps2_tick_sync, %function
    .thumb_func
tg_mps2_tick_sync:
    push    {r4, r5, r6}
    ldr     r6, [r0]
    .if S
    lsrs    r2, r6, #S          /* previous block number (counting down) */
    .else
    mov     r2, r6
    .endif
    movs    r3, #0              /* iterations */
    .rept 5                     /* pad the first interval to N + 1 too: 1 + 1 + 5 + (N - 7) + 1 */
    nop
    .endr
1:
    .rept N - 7
    nop
    .endr
    ldr     r6, [r0]            /* 1: read the counter (it counts down) */
    .if S                       /* 2: the block number */
    lsrs    r4, r6, #S
    .else
    mov     r4, r6
    .endif
    subs    r5, r2, r4          /* 3: blocks since the previous read... */
    lsls    r5, r5, #(8 + S)    /* 4: ...modulo 2^(24 - S), the counter's width */
    mov     r2, r4              /* 5 */
    adds    r3, r3, #1          /* 6 */
    cmp     r5, #(0x100 << S)   /* 7: exactly one block passed? */
    beq     1b                  /* 8: then not yet on the edge: N - 7 + 8 = N + 1 per iteration */
    str     r6, [r1]
    mov     r0, r3
    pop     {r4, r5, r6}
    bx      lr
    .size tg_mps2_tick_sync, . - tg_mps2_tick_sync
