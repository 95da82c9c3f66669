/* riscv port: reset in C, the trap handler and the exit. No C library: the reset code copies .data
 * and zeroes .bss before main() runs. */
#include "tg_riscv.h"
#include "tinygen/tg_crt.h"
#include "tinygen/tg_port.h"

int main(void);
void tg_riscv_reset(void);
void tg_riscv_trap(void);

void tg_riscv_reset(void)
{
    tg_crt_init_memory();
    (void)main();
    tg_port_exit(TG_PORT_EXIT_MAIN_RETURNED);
}

/* No interrupt is enabled, so any trap is a fault (illegal instruction, misaligned or bad access):
 * end QEMU with a distinct status rather than hang until the host's timeout. mtvec needs 4-byte
 * alignment. */
__attribute__((aligned(4))) void tg_riscv_trap(void)
{
    tg_port_exit(TG_PORT_EXIT_FAULT);
}

void tg_port_init(void)
{
    tg_riscv_uart_init();
}

#if TG_BOARD_EXIT_TEST_DEVICE
/* QEMU's test device (sifive_test) on `virt`: 0x5555 ends with status 0, (code << 16) | 0x3333 with
 * `code`. */
_Noreturn void tg_port_exit(int code)
{
    TG_RISCV_REG32(TG_BOARD_EXIT_TEST_DEVICE) = code == 0 ? 0x5555u : (((uint32_t)code << 16) | 0x3333u);
    for (;;) {
    }
}
#else
/* RISC-V semihosting: SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit, code}, QEMU exits
 * with `code`. The ebreak must sit between these two uncompressed instructions, in one page (hence
 * the alignment), and needs `-semihosting-config enable=on,target=native`. */
_Noreturn void tg_port_exit(int code)
{
    const uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t op __asm__("a0") = 0x20u;
    register const uint32_t *arg __asm__("a1") = block;
    for (;;) {
        __asm__ volatile(".option push\n\t.option norvc\n\t.balign 16\n\t"
                         "slli x0, x0, 0x1f\n\tebreak\n\tsrai x0, x0, 7\n\t.option pop"
                         : "+r"(op) : "r"(arg) : "memory");
    }
}
#endif
