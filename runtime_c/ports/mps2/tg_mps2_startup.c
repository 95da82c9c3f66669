/* mps2 port: vector table and reset handler. No C library: the reset handler itself copies .data,
 * zeroes .bss and turns the FPU on before main() runs. */
#include <stdint.h>

#include "tg_mps2.h"
#include "tinygen/tg_crt.h"
#include "tinygen/tg_port.h"

int main(void);

/* Defined by tg_mps2.ld. */
extern uint32_t __tg_stack_top[];

void tg_mps2_reset(void);
void tg_mps2_fault(void);
void tg_mps2_systick(void); /* tg_mps2_counter.c */

#define TG_MPS2_VECTORS 48 /* 16 system exceptions + the first 32 board interrupts */

__attribute__((section(".vectors"), used))
static void (*const vector_table[TG_MPS2_VECTORS])(void) = {
    [0] = (void (*)(void))__tg_stack_top,
    [1] = tg_mps2_reset,
    [2 ... 14] = tg_mps2_fault,  /* NMI, faults, SVCall, PendSV: none is expected */
    [15] = tg_mps2_systick,
    [16 ... TG_MPS2_VECTORS - 1] = tg_mps2_fault,
};

void tg_mps2_reset(void)
{
    tg_crt_init_memory();
#if defined(__ARM_FP)
    /* Full access to coprocessors 10 and 11 (the FPU) before any floating-point instruction. */
    TG_MPS2_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    (void)main();
    tg_port_exit(TG_PORT_EXIT_MAIN_RETURNED);
}

void tg_mps2_fault(void)
{
    /* A crash must end QEMU with a distinct status rather than hang until the host's timeout. */
    tg_port_exit(TG_PORT_EXIT_FAULT);
}
