/* tinygen runtime: the core's own cycle counter, for the ports of real boards.
 *
 * One inline function per core family, chosen by the compiler's predefined macros:
 *   Cortex-M3/M4/M7/M33/M55  DWT CYCCNT (32 bits; enabled here, unlocked on the M7)
 *   Cortex-M0/M0+            SysTick (24 bits, counting down; started here if the framework has
 *                            not, read modulo its reload: exact only within one SysTick period)
 *   Xtensa (ESP32, ESP32-S3) CCOUNT (32 bits)
 *   ESP32-C3                 Espressif's performance counter, CSR 0x7E2 (no mcycle on this core)
 *   RISC-V                   mcycle (its low 32 bits), machine mode
 * tg_cycles_elapsed() takes the difference of two readings modulo the counter's width, so a
 * measured region may last up to one wrap: 2^32 cycles (18 s at 240 MHz).
 */
#ifndef TINYGEN_TG_CYCLES_H
#define TINYGEN_TG_CYCLES_H

#include <stdint.h>

#if defined(ESP_PLATFORM)
#include "sdkconfig.h"
#endif

#define TG_CYCLES_REG(addr) (*(volatile uint32_t *)(addr))

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define TG_CYCLES_KIND "DWT CYCCNT"
#define TG_CYCLES_MASK 0xFFFFFFFFu

static inline void tg_cycles_init(void)
{
    TG_CYCLES_REG(0xE000EDFCu) |= 1u << 24;  /* DEMCR.TRCENA: the DWT is powered */
    TG_CYCLES_REG(0xE0001FB0u) = 0xC5ACCE55u; /* DWT LAR: unlock (Cortex-M7; ignored elsewhere) */
    TG_CYCLES_REG(0xE0001004u) = 0u;          /* CYCCNT */
    TG_CYCLES_REG(0xE0001000u) |= 1u;         /* DWT_CTRL.CYCCNTENA */
}

static inline uint32_t tg_cycles_now(void)
{
    return TG_CYCLES_REG(0xE0001004u);
}

#elif defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define TG_CYCLES_KIND "SysTick"
#define TG_CYCLES_MASK 0x00FFFFFFu

static inline void tg_cycles_init(void)
{
    if ((TG_CYCLES_REG(0xE000E010u) & 1u) == 0u) { /* the framework does not run SysTick: we do */
        TG_CYCLES_REG(0xE000E014u) = 0x00FFFFFFu;  /* RVR: the longest period */
        TG_CYCLES_REG(0xE000E018u) = 0u;           /* CVR */
        TG_CYCLES_REG(0xE000E010u) = 5u;           /* CSR: enable, processor clock, no interrupt */
    }
}

/* SysTick counts down from its reload: turn it into a rising count modulo (reload + 1). */
static inline uint32_t tg_cycles_now(void)
{
    uint32_t reload = TG_CYCLES_REG(0xE000E014u) & 0x00FFFFFFu;
    return reload - (TG_CYCLES_REG(0xE000E018u) & 0x00FFFFFFu);
}

#elif defined(__XTENSA__)
#define TG_CYCLES_KIND "CCOUNT"
#define TG_CYCLES_MASK 0xFFFFFFFFu

static inline void tg_cycles_init(void)
{
}

static inline uint32_t tg_cycles_now(void)
{
    uint32_t count;
    __asm__ volatile("rsr %0, ccount" : "=a"(count));
    return count;
}

#elif defined(__riscv) && defined(CONFIG_IDF_TARGET_ESP32C3)
#define TG_CYCLES_KIND "ESP32-C3 performance counter"
#define TG_CYCLES_MASK 0xFFFFFFFFu

static inline void tg_cycles_init(void)
{
    __asm__ volatile("csrw 0x7E0, %0" ::"r"(1u)); /* mpcer: count cycles */
    __asm__ volatile("csrw 0x7E1, %0" ::"r"(1u)); /* mpcmr: counter on */
}

static inline uint32_t tg_cycles_now(void)
{
    uint32_t count;
    __asm__ volatile("csrr %0, 0x7E2" : "=r"(count));
    return count;
}

#elif defined(__riscv)
#define TG_CYCLES_KIND "mcycle"
#define TG_CYCLES_MASK 0xFFFFFFFFu

static inline void tg_cycles_init(void)
{
}

static inline uint32_t tg_cycles_now(void)
{
    uint32_t count;
    __asm__ volatile("csrr %0, mcycle" : "=r"(count));
    return count;
}

#else
#error "tg_cycles.h: no cycle counter known for this core"
#endif

static inline uint32_t tg_cycles_elapsed(uint32_t start, uint32_t end)
{
    return (end - start) & TG_CYCLES_MASK;
}

#endif /* TINYGEN_TG_CYCLES_H */
