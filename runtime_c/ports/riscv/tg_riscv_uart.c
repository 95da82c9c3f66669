/* riscv port: the board's UART, polled: an NS16550 (`virt`) or a SiFive UART (`sifive_e`). */
#include "tg_riscv.h"
#include "tinygen/tg_port.h"

#if TG_BOARD_UART_NS16550
#define UART_RBR TG_RISCV_REG8(TG_BOARD_UART_BASE + 0u)  /* receive buffer (read) */
#define UART_THR TG_RISCV_REG8(TG_BOARD_UART_BASE + 0u)  /* transmit holding (write) */
#define UART_LSR TG_RISCV_REG8(TG_BOARD_UART_BASE + 5u)  /* line status */
#define UART_LSR_DATA_READY (1u << 0)
#define UART_LSR_THR_EMPTY (1u << 5)
#define UART_LSR_TX_IDLE (1u << 6)

void tg_riscv_uart_init(void)
{
    /* QEMU's 16550 needs no set-up: the rate is ignored and the FIFO is off. */
}

uint8_t tg_port_read_byte(void)
{
    while ((UART_LSR & UART_LSR_DATA_READY) == 0u) {
    }
    return UART_RBR;
}

void tg_port_write_byte(uint8_t byte)
{
    while ((UART_LSR & UART_LSR_THR_EMPTY) == 0u) {
    }
    UART_THR = byte;
}

void tg_port_flush(void)
{
    while ((UART_LSR & UART_LSR_TX_IDLE) == 0u) {
    }
}

#elif TG_BOARD_UART_SIFIVE
#define UART_TXDATA TG_RISCV_REG32(TG_BOARD_UART_BASE + 0x0u)
#define UART_RXDATA TG_RISCV_REG32(TG_BOARD_UART_BASE + 0x4u)
#define UART_TXCTRL TG_RISCV_REG32(TG_BOARD_UART_BASE + 0x8u)
#define UART_RXCTRL TG_RISCV_REG32(TG_BOARD_UART_BASE + 0xCu)
#define UART_TXDATA_FULL (1u << 31)
#define UART_RXDATA_EMPTY (1u << 31)
#define UART_CTRL_ENABLE (1u << 0)

void tg_riscv_uart_init(void)
{
    UART_TXCTRL = UART_CTRL_ENABLE;
    UART_RXCTRL = UART_CTRL_ENABLE;
}

uint8_t tg_port_read_byte(void)
{
    for (;;) {
        uint32_t word = UART_RXDATA; /* reading pops the FIFO: keep the word that was read */
        if ((word & UART_RXDATA_EMPTY) == 0u) {
            return (uint8_t)word;
        }
    }
}

void tg_port_write_byte(uint8_t byte)
{
    while ((UART_TXDATA & UART_TXDATA_FULL) != 0u) {
    }
    UART_TXDATA = byte;
}

void tg_port_flush(void)
{
    /* QEMU's SiFive UART sends each byte as it is written; nothing waits in a FIFO. */
    while ((UART_TXDATA & UART_TXDATA_FULL) != 0u) {
    }
}

#else
#error "tg_board.h names no UART (TG_BOARD_UART_NS16550 or TG_BOARD_UART_SIFIVE)"
#endif
