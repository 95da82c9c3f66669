/* tinygen runtime: what runtime_c/firmware/tg_smp.c (the portable SMP runtime) needs from a port.
 * A port with one core implements tg_smp_cores_available() as 1 and the three hooks as nothing. */
#ifndef TINYGEN_TG_SMP_PORT_H
#define TINYGEN_TG_SMP_PORT_H

#include "tinygen/tg_smp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most cores tg_smp.c keeps a mailbox for. */
#ifndef TG_SMP_MAX_CORES
#define TG_SMP_MAX_CORES 8u
#endif

/* Make sure cores 1..cores-1 run tg_smp_worker(core): start them the first time (after the C
 * start-up has set up memory), do nothing once they run. A port that cannot ends the program. */
void tg_smp_port_start(unsigned cores);

/* Let this core idle until another core calls tg_smp_port_wake (WFE, WFI with a software
 * interrupt pending, a yield). It may also return early: callers check their condition again. */
void tg_smp_port_wait(void);

/* Wake the cores below `cores` that wait in tg_smp_port_wait (SEV, software interrupts). Called
 * after the store that they wait for. */
void tg_smp_port_wake(unsigned cores);

/* The loop a started core runs: wait for a job posted to it, run its share, meet the others at the
 * end of the job, again. Never returns. */
_Noreturn void tg_smp_worker(unsigned core);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_SMP_PORT_H */
