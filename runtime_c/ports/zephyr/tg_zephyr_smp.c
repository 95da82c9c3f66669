/* zephyr port of the SMP runtime (tinygen/tg_smp_port.h): one core (the nRF5340's network core runs
 * an image of its own, not a share of the model). */
#include "tinygen/tg_port.h"
#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

unsigned tg_smp_cores_available(void)
{
    return 1u;
}

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
