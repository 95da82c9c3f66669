/* mps2 port: an exact instruction counter from SysTick.
 *
 * SysTick runs on the clock the board header names with the largest reload (2^24 ticks per wrap);
 * its interrupt counts wraps, so counts beyond one wrap (671 M instructions at 40 instructions a
 * tick) work. Under `-icount shift=0` a block of 2^TG_MPS2_TICKS_PER_BLOCK_LOG2 ticks is
 * TG_MPS2_INSTRUCTIONS_PER_BLOCK instructions (one tick, 40, on the mps2). Both ends of a
 * measurement are aligned to a block edge to the exact instruction by tg_mps2_tick_sync, so the
 * count is exact, not rounded to a block. What the alignment itself executes is measured once at
 * start-up and subtracted.
 */
#include "tg_mps2.h"
#include "tinygen/tg_port.h"

#define SYSTICK_RELOAD 0xFFFFFFu
#define SYSTICK_WIDTH_BITS 24u
#define SYNC_INSTRUCTIONS_PER_ITERATION (TG_MPS2_INSTRUCTIONS_PER_BLOCK + 1u) /* see tg_mps2_tick_sync.S */

uint32_t tg_mps2_tick_sync(volatile const uint32_t *cvr, uint32_t *edge_value);

static volatile uint32_t systick_wraps;
static uint64_t start_ticks;
static uint64_t overhead; /* what start() and read() add between them, measured at start-up */

void tg_mps2_systick(void)
{
    systick_wraps = systick_wraps + 1u;
}

static inline uint32_t mask_interrupts(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void restore_interrupts(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* Ticks since the counter started, at the tick edge the vernier found (interrupts masked). */
static uint64_t ticks_at_edge(uint32_t edge_value)
{
    uint32_t wraps = systick_wraps;
    /* A wrap during the masked vernier is pending, not yet counted by the interrupt. A counter
     * value in the upper half means it was read after that wrap. */
    if ((TG_MPS2_ICSR & TG_MPS2_ICSR_PENDSTSET) != 0u && edge_value > (SYSTICK_RELOAD >> 1)) {
        wraps += 1u;
    }
    return ((uint64_t)wraps << SYSTICK_WIDTH_BITS) + (SYSTICK_RELOAD - edge_value);
}

void tg_port_counter_start(void)
{
    uint32_t primask = mask_interrupts();
    uint32_t edge_value;
    (void)tg_mps2_tick_sync(&TG_MPS2_SYST_CVR, &edge_value);
    start_ticks = ticks_at_edge(edge_value);
    restore_interrupts(primask);
}

uint64_t tg_port_counter_read(void)
{
    uint32_t primask = mask_interrupts();
    uint32_t edge_value;
    uint32_t iterations = tg_mps2_tick_sync(&TG_MPS2_SYST_CVR, &edge_value);
    uint64_t ticks = ticks_at_edge(edge_value) - start_ticks;
    restore_interrupts(primask);
    /* Both edges are exact block edges, so whole blocks times the block's instructions count every
     * instruction between them; take away the vernier's own iterations after the measured region
     * and the fixed overhead. */
    uint64_t blocks = ticks >> TG_MPS2_TICKS_PER_BLOCK_LOG2;
    return blocks * TG_MPS2_INSTRUCTIONS_PER_BLOCK - (uint64_t)iterations * SYNC_INSTRUCTIONS_PER_ITERATION
           - overhead;
}

void tg_mps2_counter_init(void)
{
    TG_MPS2_SYST_RVR = SYSTICK_RELOAD;
    TG_MPS2_SYST_CVR = 0u;
    TG_MPS2_SYST_CSR = TG_MPS2_SYST_CSR_ENABLE | TG_MPS2_SYST_CSR_TICKINT | TG_MPS2_SYST_CSR_CLKSOURCE;
    overhead = 0u;
    tg_port_counter_start();
    overhead = tg_port_counter_read();
}
