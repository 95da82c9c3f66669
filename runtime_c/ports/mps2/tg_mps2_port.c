/* mps2 port: bring-up and exit through Arm semihosting. */
#include "tg_mps2.h"
#include "tinygen/tg_port.h"

void tg_port_init(void)
{
    tg_mps2_uart_init();
    tg_mps2_counter_init();
}

/* SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, code}: QEMU exits with `code`.
 * Needs `-semihosting-config enable=on,target=native`; without it the bkpt locks the core. */
_Noreturn void tg_port_exit(int code)
{
    const uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t op __asm__("r0") = 0x20u;
    register const uint32_t *arg __asm__("r1") = block;
    for (;;) {
        __asm__ volatile("bkpt 0xAB" : "+r"(op) : "r"(arg) : "memory");
    }
}
