/* riscv port, board riscv32-virt-4 (QEMU `virt -smp 4`): NS16550 UART0 and the test device to exit,
 * as riscv32-virt, and 4 harts woken through the CLINT's software interrupts (tg_riscv_smp.c). */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART_NS16550 1
#define TG_BOARD_UART_BASE 0x10000000u
#define TG_BOARD_EXIT_TEST_DEVICE 0x00100000u

#define TG_BOARD_CORES 4
#define TG_BOARD_CLINT_BASE 0x02000000u

#endif /* TINYGEN_TG_BOARD_H */
