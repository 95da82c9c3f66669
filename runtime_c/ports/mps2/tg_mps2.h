/* mps2 port: the registers of Arm's MPS2/MPS3 FPGA images (AN385, AN386, AN500, AN505, AN521, AN547)
 * that the port uses. What differs between the images (the UART's address, what SysTick counts) comes
 * from tg_board.h, the board's header from boards/<board>.h, copied beside this file by tinygen. */
#ifndef TINYGEN_TG_MPS2_H
#define TINYGEN_TG_MPS2_H

#include <stdint.h>

#include "tg_board.h"

#define TG_MPS2_REG(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB UART0 */
#define TG_MPS2_UART0_DATA TG_MPS2_REG(TG_BOARD_UART0_BASE + 0x0u)
#define TG_MPS2_UART0_STATE TG_MPS2_REG(TG_BOARD_UART0_BASE + 0x4u)
#define TG_MPS2_UART0_CTRL TG_MPS2_REG(TG_BOARD_UART0_BASE + 0x8u)
#define TG_MPS2_UART0_BAUDDIV TG_MPS2_REG(TG_BOARD_UART0_BASE + 0x10u)
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

/* Under `-icount shift=0` each instruction is 1 ns of virtual time. SysTick counts the core clock
 * or the reference clock (the board header says which); a block of 2^TG_BOARD_TICKS_PER_BLOCK_LOG2
 * ticks of it is a whole number of instructions, TG_BOARD_INSTRUCTIONS_PER_BLOCK: 40 for one tick
 * of the mps2's 25 MHz, 125 for four ticks of the AN547's 32 MHz. */
#define TG_MPS2_INSTRUCTIONS_PER_BLOCK ((uint32_t)TG_BOARD_INSTRUCTIONS_PER_BLOCK)
#define TG_MPS2_TICKS_PER_BLOCK_LOG2 TG_BOARD_TICKS_PER_BLOCK_LOG2
#if TG_BOARD_SYSTICK_CLKSOURCE_CPU
#define TG_MPS2_SYST_CSR_CLKSOURCE TG_MPS2_SYST_CSR_CLKSOURCE_CPU
#else
#define TG_MPS2_SYST_CSR_CLKSOURCE 0u
#endif

void tg_mps2_uart_init(void);
void tg_mps2_counter_init(void);

#endif /* TINYGEN_TG_MPS2_H */
