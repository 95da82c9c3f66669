/* arduino port: the counter is the core's cycle counter (tinygen/tg_cycles.h), so a real board
 * reports cycles, not instructions. Plain C with no Arduino header, so the tests compile it with
 * each board's own cross compiler and flags. */
#include "tinygen/tg_cycles.h"
#include "tinygen/tg_port.h"

void tg_arduino_counter_init(void);

static uint32_t start_cycles;

void tg_arduino_counter_init(void)
{
    tg_cycles_init();
}

void tg_port_counter_start(void)
{
    start_cycles = tg_cycles_now();
}

uint64_t tg_port_counter_read(void)
{
    return tg_cycles_elapsed(start_cycles, tg_cycles_now());
}
