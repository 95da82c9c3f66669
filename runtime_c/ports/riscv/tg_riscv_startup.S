/* riscv port: the entry point. QEMU starts every hart here (`virt` with -bios none jumps to the
 * ELF's entry; `sifive_e`'s boot ROM jumps to the start of its flash, where .text.entry is placed).
 * Only hart 0 runs the firmware: the others park in wfi for good (a multicore schedule would wake
 * them). Hart 0 takes the stack from the linker script and continues in C. */
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
    wfi
    j       2b
    .size tg_riscv_entry, . - tg_riscv_entry
