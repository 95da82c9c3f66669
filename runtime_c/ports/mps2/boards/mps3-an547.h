/* mps2 port, board mps3-an547 (SSE-300, Cortex-M55): CMSDK UART0 and the clock SysTick counts. */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART0_BASE 0x59303000u
/* The 32 MHz core clock is 31.25 instructions a tick under `-icount shift=0` (and QEMU's reference
 * clock runs at the same rate): not a whole number, but four ticks are exactly 125. */
#define TG_BOARD_SYSTICK_CLKSOURCE_CPU 1
#define TG_BOARD_TICKS_PER_BLOCK_LOG2 2
#define TG_BOARD_INSTRUCTIONS_PER_BLOCK 125

#endif /* TINYGEN_TG_BOARD_H */
