/* mps2 port, the SSE-200 images AN505 (one Cortex-M33) and AN521 (two; the firmware runs on core 0;
 * the boards mps2-an505 and mps2-an521 link here): secure alias of CMSDK UART0 and the core
 * clock that SysTick counts. */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART0_BASE 0x50200000u
/* 20 MHz core clock: under `-icount shift=0` one SysTick tick (a block of one tick) is
 * 1e9 / 20e6 = 50 instructions. */
#define TG_BOARD_SYSTICK_CLKSOURCE_CPU 1
#define TG_BOARD_TICKS_PER_BLOCK_LOG2 0
#define TG_BOARD_INSTRUCTIONS_PER_BLOCK 50

#endif /* TINYGEN_TG_BOARD_H */
