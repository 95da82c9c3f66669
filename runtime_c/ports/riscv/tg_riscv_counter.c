/* riscv port: the instruction counter is the minstret CSR. Under `-icount shift=0` QEMU counts every
 * retired instruction there, exactly; the application subtracts the fixed cost of the two calls
 * around the measured region (its calibration against tg_return_zero). */
#include "tg_riscv.h"
#include "tinygen/tg_port.h"

static uint64_t start_count;

/* RV32 reads the 64-bit counter in two halves: read the high half again until it did not change. */
static uint64_t instret(void)
{
    uint32_t high, low;
    do {
        high = TG_RISCV_CSR_READ(minstreth);
        low = TG_RISCV_CSR_READ(minstret);
    } while (high != TG_RISCV_CSR_READ(minstreth));
    return ((uint64_t)high << 32) | low;
}

void tg_port_counter_start(void)
{
    start_count = instret();
}

uint64_t tg_port_counter_read(void)
{
    return instret() - start_count;
}
