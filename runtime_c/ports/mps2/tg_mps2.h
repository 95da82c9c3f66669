/* mps2 port: the registers of the MPS2 FPGA images (AN385, AN386, AN500) that the port uses. */
#ifndef TINYGEN_TG_MPS2_H
#define TINYGEN_TG_MPS2_H

#include <stdint.h>

#define TG_MPS2_REG(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB UART0 */
#define TG_MPS2_UART0_DATA TG_MPS2_REG(0x40004000u)
#define TG_MPS2_UART0_STATE TG_MPS2_REG(0x40004004u)
#define TG_MPS2_UART0_CTRL TG_MPS2_REG(0x40004008u)
#define TG_MPS2_UART0_BAUDDIV TG_MPS2_REG(0x40004010u)
#define TG_MPS2_UART_STATE_TX_FULL (1u << 0)
#define TG_MPS2_UART_STATE_RX_FULL (1u << 1)
#define TG_MPS2_UART_CTRL_TX_ENABLE (1u << 0)
#define TG_MPS2_UART_CTRL_RX_ENABLE (1u << 1)

/* SysTick and the system control block (Armv7-M) */
#define TG_MPS2_SYST_CSR TG_MPS2_REG(0xE000E010u)
#define TG_MPS2_SYST_RVR TG_MPS2_REG(0xE000E014u)
#define TG_MPS2_SYST_CVR_ADDR 0xE000E018u
#define TG_MPS2_SYST_CVR TG_MPS2_REG(TG_MPS2_SYST_CVR_ADDR)
#define TG_MPS2_SYST_CSR_ENABLE (1u << 0)
#define TG_MPS2_SYST_CSR_TICKINT (1u << 1)
#define TG_MPS2_SYST_CSR_CLKSOURCE_CPU (1u << 2)
#define TG_MPS2_ICSR TG_MPS2_REG(0xE000ED04u)
#define TG_MPS2_ICSR_PENDSTSET (1u << 26)
#define TG_MPS2_CPACR TG_MPS2_REG(0xE000ED88u)
#define TG_MPS2_CFSR TG_MPS2_REG(0xE000ED28u) /* configurable fault status (UFSR:BFSR:MMFSR) */

/* QEMU's mps2 boards clock the core at 25 MHz. Under `-icount shift=0` each instruction is 1 ns of
 * virtual time, so one SysTick tick (processor clock) is exactly 40 instructions. */
#define TG_MPS2_INSTRUCTIONS_PER_TICK 40u

/* Exit codes the port itself uses (the application uses 0 for a requested exit). */
#define TG_MPS2_EXIT_FAULT 3
#define TG_MPS2_EXIT_MAIN_RETURNED 4

void tg_mps2_uart_init(void);
void tg_mps2_counter_init(void);

#endif /* TINYGEN_TG_MPS2_H */
