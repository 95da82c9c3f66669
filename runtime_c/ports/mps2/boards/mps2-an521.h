/* mps2 port, the SSE-200 image AN521 (two Cortex-M33s): secure alias of CMSDK UART0 and the core
 * clock that SysTick counts (as the AN505, sse200-20mhz.h), and what starts the second core. */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART0_BASE 0x50200000u
/* 20 MHz core clock: under `-icount shift=0` one SysTick tick (a block of one tick) is
 * 1e9 / 20e6 = 50 instructions. */
#define TG_BOARD_SYSTICK_CLKSOURCE_CPU 1
#define TG_BOARD_TICKS_PER_BLOCK_LOG2 0
#define TG_BOARD_INSTRUCTIONS_PER_BLOCK 50

/* Two cores (tinygen/tg_smp.h). Core 1 is held in reset until core 0 clears CPUWAIT in the SSE-200's
 * system control block; it boots from the vector table INITSVTOR1 names. The CPU identity register
 * reads the core's number. */
#define TG_BOARD_CORES 2
#define TG_BOARD_SSE200_SYSCTL_BASE 0x50021000u
#define TG_BOARD_SSE200_CPUID_BASE 0x5001F000u

#endif /* TINYGEN_TG_BOARD_H */
