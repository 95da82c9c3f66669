/* riscv port: the SMP constants the start-up (assembly) and tg_riscv_smp.c share. Macros only. */
#ifndef TINYGEN_TG_RISCV_SMP_H
#define TINYGEN_TG_RISCV_SMP_H

#ifndef TG_BOARD_CORES
#define TG_BOARD_CORES 1 /* the board header says when there are more harts */
#endif

/* Each hart beyond hart 0 runs its share of the model's kernels on a stack of its own (invoke()
 * needs under 600 bytes; hart 0 keeps the linker script's stack). */
#define TG_RISCV_HART_STACK_BYTES 2048

/* mie / mip: the machine software interrupt, raised through the CLINT's MSIP registers. */
#define TG_RISCV_MIP_MSIP 8

#endif /* TINYGEN_TG_RISCV_SMP_H */
