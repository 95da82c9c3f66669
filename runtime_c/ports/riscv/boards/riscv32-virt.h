/* riscv port, board riscv32-virt (QEMU `virt`): NS16550 UART0 and the test device to exit. */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART_NS16550 1
#define TG_BOARD_UART_BASE 0x10000000u
#define TG_BOARD_EXIT_TEST_DEVICE 0x00100000u

#endif /* TINYGEN_TG_BOARD_H */
