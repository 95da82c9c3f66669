/* mps2 port, the MPS2 images AN385 (Cortex-M3), AN386 (M4F) and AN500 (M7): CMSDK UART0 and the
 * core clock that SysTick counts. The boards mps2-an385, -an386 and -an500 link here. */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART0_BASE 0x40004000u
/* 25 MHz core clock: under `-icount shift=0` one SysTick tick (a block of one tick) is
 * 1e9 / 25e6 = 40 instructions. */
#define TG_BOARD_SYSTICK_CLKSOURCE_CPU 1
#define TG_BOARD_TICKS_PER_BLOCK_LOG2 0
#define TG_BOARD_INSTRUCTIONS_PER_BLOCK 40

#endif /* TINYGEN_TG_BOARD_H */
