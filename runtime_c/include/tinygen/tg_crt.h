/* tinygen runtime: the C start-up every bare-metal port shares, before main(): copy .data from its
 * load address and zero .bss. No C library does it for us. The port's linker script defines the
 * symbols (runtime_c/ports/mps2/tg_mps2.ld, runtime_c/ports/riscv/tg_riscv.ld). Header-only, so a
 * project that links a framework's start-up instead never sees these symbols. */
#ifndef TINYGEN_TG_CRT_H
#define TINYGEN_TG_CRT_H

#include <stdint.h>

extern uint32_t __tg_data_load[], __tg_data_start[], __tg_data_end[];
extern uint32_t __tg_bss_start[], __tg_bss_end[];

/* Word loops through volatile pointers, so that GCC does not turn them into memcpy/memset calls. */
static inline void tg_crt_init_memory(void)
{
    volatile uint32_t *dst = __tg_data_start;
    const volatile uint32_t *src = __tg_data_load;
    while (dst < (volatile uint32_t *)__tg_data_end) {
        *dst++ = *src++;
    }
    for (dst = __tg_bss_start; dst < (volatile uint32_t *)__tg_bss_end;) {
        *dst++ = 0u;
    }
}

#endif /* TINYGEN_TG_CRT_H */
