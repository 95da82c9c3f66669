/* mps2 port: CMSDK APB UART0, polled. QEMU moves no byte until both TX and RX are enabled. */
#include "tg_mps2.h"
#include "tinygen/tg_port.h"

void tg_mps2_uart_init(void)
{
    TG_MPS2_UART0_BAUDDIV = 16u; /* the smallest legal divider; QEMU ignores the rate anyway */
    TG_MPS2_UART0_CTRL = TG_MPS2_UART_CTRL_TX_ENABLE | TG_MPS2_UART_CTRL_RX_ENABLE;
}

uint8_t tg_port_read_byte(void)
{
    while ((TG_MPS2_UART0_STATE & TG_MPS2_UART_STATE_RX_FULL) == 0u) {
    }
    return (uint8_t)TG_MPS2_UART0_DATA;
}

void tg_port_write_byte(uint8_t byte)
{
    while ((TG_MPS2_UART0_STATE & TG_MPS2_UART_STATE_TX_FULL) != 0u) {
    }
    TG_MPS2_UART0_DATA = byte;
}

void tg_port_flush(void)
{
    /* The CMSDK UART has a one-byte buffer and no "shift register empty" flag: once it is not
     * full the last byte has been handed on. */
    while ((TG_MPS2_UART0_STATE & TG_MPS2_UART_STATE_TX_FULL) != 0u) {
    }
}
