/* riscv port: the entry point. QEMU starts every hart here (`virt` with -bios none jumps to the
 * ELF's entry; `sifive_e`'s boot ROM jumps to the start of its flash, where .text.entry is placed).
 * Hart 0 takes the stack from the linker script and continues in C. On a board of one hart the
 * others park in wfi for good. On a board of several (tg_board.h: TG_BOARD_CORES) harts
 * 1..TG_BOARD_CORES-1 wait, with only the machine software interrupt enabled (mie.MSIE; mstatus.MIE
 * stays 0, so it wakes wfi and never traps), until hart 0 has set up memory and sends them one
 * through the CLINT (tg_riscv_smp.c); then each takes its own stack and runs tg_riscv_hart_main. */
#include "tg_board.h"
#include "tg_riscv_smp.h"

    .section .text.entry, "ax"
    .global tg_riscv_entry
    .type tg_riscv_entry, @function
tg_riscv_entry:
    csrr    t0, mhartid
    bnez    t0, 2f
    la      sp, __tg_stack_top
    la      t0, tg_riscv_trap
    csrw    mtvec, t0
    j       tg_riscv_reset
2:
#if TG_BOARD_CORES > 1
    li      t1, TG_BOARD_CORES
    bgeu    t0, t1, 4f
    li      t1, 8                       /* MSIP / MSIE */
    csrs    mie, t1
3:
    wfi
    csrr    t2, mip
    and     t2, t2, t1
    beqz    t2, 3b
    la      t1, tg_riscv_hart_stack_tops /* hart 0 wrote them before the interrupt */
    slli    t2, t0, 2
    add     t1, t1, t2
    lw      sp, 0(t1)
    la      t1, tg_riscv_trap
    csrw    mtvec, t1
    mv      a0, t0
    j       tg_riscv_hart_main
4:
#endif
5:
    wfi
    j       5b
    .size tg_riscv_entry, . - tg_riscv_entry
