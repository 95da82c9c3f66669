/* riscv port of the SMP runtime (tinygen/tg_smp_port.h). On a board of several harts (tg_board.h:
 * TG_BOARD_CORES and the CLINT's address) the harts beyond 0 wait in the start-up code until hart 0
 * first needs them; it wakes them with a machine software interrupt (CLINT MSIP), which they take
 * as "memory is set up": each then runs tg_smp_worker on its own stack. A waiting hart sleeps in
 * wfi with only MSIP enabled (never taken: mstatus.MIE is 0) and clears its MSIP on waking; the
 * hart that changes what the others wait for raises theirs. One-hart boards: one core. */
#include <stdatomic.h>
#include <stdint.h>

#include "tg_riscv.h"
#include "tg_riscv_smp.h"
#include "tinygen/tg_port.h"
#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

unsigned tg_smp_cores_available(void)
{
    return TG_BOARD_CORES;
}

#if TG_BOARD_CORES > 1

#define CLINT_MSIP(hart) TG_RISCV_REG32(TG_BOARD_CLINT_BASE + 4u * (hart))

_Noreturn void tg_riscv_hart_main(unsigned hart);

/* Hart k (k >= 1) runs on stack k - 1; tg_riscv_startup.S loads its top from the table, which hart 0
 * fills in before it wakes the harts (a load of sp, not arithmetic on it: the static stack bound
 * accepts that). */
__attribute__((aligned(16))) static uint8_t hart_stacks[TG_BOARD_CORES - 1][TG_RISCV_HART_STACK_BYTES];
__attribute__((used)) uintptr_t tg_riscv_hart_stack_tops[TG_BOARD_CORES];

static int harts_started;

_Noreturn void tg_riscv_hart_main(unsigned hart)
{
    CLINT_MSIP(hart) = 0u;
    tg_smp_worker(hart);
}

void tg_smp_port_start(unsigned cores)
{
    if (cores > TG_BOARD_CORES) {
        tg_port_exit(TG_PORT_EXIT_FAULT);
    }
    if (!harts_started) {
        harts_started = 1;
        __asm__ volatile("csrs mie, %0" ::"r"(TG_RISCV_MIP_MSIP)); /* hart 0 waits in barriers too */
        for (unsigned hart = 1u; hart < TG_BOARD_CORES; ++hart) {
            tg_riscv_hart_stack_tops[hart] = (uintptr_t)&hart_stacks[hart - 1u][TG_RISCV_HART_STACK_BYTES];
        }
        atomic_thread_fence(memory_order_seq_cst);
        for (unsigned hart = 1u; hart < TG_BOARD_CORES; ++hart) {
            CLINT_MSIP(hart) = 1u;
        }
    }
}

void tg_smp_port_wait(void)
{
    __asm__ volatile("wfi" ::: "memory");
    CLINT_MSIP(TG_RISCV_CSR_READ(mhartid)) = 0u; /* then the caller looks again */
}

void tg_smp_port_wake(unsigned cores)
{
    const uint32_t self = TG_RISCV_CSR_READ(mhartid);
    atomic_thread_fence(memory_order_seq_cst); /* what they wait for, before the interrupt */
    for (unsigned hart = 0u; hart < cores; ++hart) {
        if (hart != self) {
            CLINT_MSIP(hart) = 1u;
        }
    }
}

#else

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
