/* riscv port: bare-metal RV32 in machine mode, for QEMU's `virt` and `sifive_e` machines. What
 * differs between the boards (which UART, where; how to exit) comes from tg_board.h, the board's
 * header from boards/<board>.h, copied beside this file by tinygen. */
#ifndef TINYGEN_TG_RISCV_H
#define TINYGEN_TG_RISCV_H

#include <stdint.h>

#include "tg_board.h"

#define TG_RISCV_REG32(addr) (*(volatile uint32_t *)(addr))
#define TG_RISCV_REG8(addr) (*(volatile uint8_t *)(addr))

#define TG_RISCV_CSR_READ(name)                                 \
    ({                                                          \
        uint32_t value_;                                        \
        __asm__ volatile("csrr %0, " #name : "=r"(value_));     \
        value_;                                                 \
    })

void tg_riscv_uart_init(void);

#endif /* TINYGEN_TG_RISCV_H */
