/* mps2 port of the SMP runtime (tinygen/tg_smp_port.h). On the AN521 (two Cortex-M33s, the board
 * header says TG_BOARD_CORES 2) core 0 releases core 1 the first time a job needs it: core 1 boots
 * from a vector table of its own, whose initial stack pointer is the top of its own stack, and runs
 * tg_smp_worker. A waiting core sleeps in WFE; the core that changes what it waits for sends SEV
 * (under QEMU's TCG, WFE hands the emulated CPU to the other core). Single-core boards: one core. */
#include <stdint.h>

#include "tg_mps2.h"
#include "tinygen/tg_port.h"
#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

#ifndef TG_BOARD_CORES
#define TG_BOARD_CORES 1
#endif

unsigned tg_smp_cores_available(void)
{
    return TG_BOARD_CORES;
}

#if TG_BOARD_CORES > 1

#define SSE200_INITSVTOR1 TG_MPS2_REG(TG_BOARD_SSE200_SYSCTL_BASE + 0x114u)
#define SSE200_CPUWAIT TG_MPS2_REG(TG_BOARD_SSE200_SYSCTL_BASE + 0x118u)
#define SSE200_CPUWAIT_CPU1 (1u << 1)

/* Core 1's share of a job runs the same kernels as core 0's (invoke() needs under 600 bytes). */
#define CORE1_STACK_BYTES 2048u

void tg_mps2_fault(void); /* tg_mps2_startup.c */
static void core1_reset(void);

static uint64_t core1_stack[CORE1_STACK_BYTES / sizeof(uint64_t)];

/* VTOR ignores bits 6:0: 16 entries (64 bytes), 128-byte aligned. Core 1 enables no interrupt. */
__attribute__((aligned(128)))
static void (*const core1_vectors[16])(void) = {
    [0] = (void (*)(void))(core1_stack + sizeof core1_stack / sizeof core1_stack[0]),
    [1] = core1_reset,
    [2 ... 15] = tg_mps2_fault,
};

static void core1_reset(void)
{
#if defined(__ARM_FP)
    TG_MPS2_CPACR |= 0xFu << 20; /* CPACR is per core */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    tg_smp_worker(1u);
}

void tg_smp_port_start(unsigned cores)
{
    if (cores > TG_BOARD_CORES) {
        tg_port_exit(TG_PORT_EXIT_FAULT);
    }
    if ((SSE200_CPUWAIT & SSE200_CPUWAIT_CPU1) != 0u) {
        SSE200_INITSVTOR1 = (uint32_t)(uintptr_t)core1_vectors;
        __asm__ volatile("dsb" ::: "memory");
        SSE200_CPUWAIT = SSE200_CPUWAIT & ~SSE200_CPUWAIT_CPU1;
    }
}

void tg_smp_port_wait(void)
{
    __asm__ volatile("wfe" ::: "memory");
}

void tg_smp_port_wake(unsigned cores)
{
    (void)cores;
    __asm__ volatile("dsb\n\tsev" ::: "memory");
}

#else /* one core: tg_smp_run never gets here with cores > 1 unless asked for more than there are */

void tg_smp_port_start(unsigned cores)
{
    (void)cores;
    tg_port_exit(TG_PORT_EXIT_FAULT);
}

void tg_smp_port_wait(void)
{
}

void tg_smp_port_wake(unsigned cores)
{
    (void)cores;
}

#endif
