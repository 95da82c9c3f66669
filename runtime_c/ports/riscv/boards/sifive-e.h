/* riscv port, board sifive-e (QEMU `sifive_e`, a HiFive1-like FE310): SiFive UART0; no test device,
 * so the exit goes through semihosting. */
#ifndef TINYGEN_TG_BOARD_H
#define TINYGEN_TG_BOARD_H

#define TG_BOARD_UART_SIFIVE 1
#define TG_BOARD_UART_BASE 0x10013000u
#define TG_BOARD_EXIT_TEST_DEVICE 0

#endif /* TINYGEN_TG_BOARD_H */
