/* The portable part of the SMP runtime (tinygen/tg_smp.h): the barrier, and jobs posted to the
 * other cores through one mailbox each in shared RAM. C11 atomics only; the port starts the cores
 * and lets a waiting core sleep (tinygen/tg_smp_port.h). */
#include <stdatomic.h>

#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

/* One job for one core. Core 0 writes fn/ctx/cores, then bumps `posted`; the core reads them after
 * seeing the bump. Core 0 posts the next job only after the job's closing barrier, which the core
 * reaches only when it is done with these fields: no field is rewritten while it is read. */
typedef struct {
    atomic_uint posted;
    tg_core_fn fn;
    void *ctx;
    unsigned cores;
} tg_smp_mailbox_t;

static tg_smp_mailbox_t mailboxes[TG_SMP_MAX_CORES];
static tg_barrier_t job_end = TG_BARRIER_INIT;

/* Out of line: the cycle plugin cuts every core's run into intervals at its entry. */
__attribute__((noinline)) void(tg_barrier_wait)(tg_barrier_t *b, unsigned cores)
{
    if (cores <= 1u) {
        return;
    }
    /* Read the generation before arriving: the last arrival moves it on only after every core has
     * arrived, so each waiter waits for exactly its own generation to end. */
    const unsigned generation = atomic_load(&b->generation);
    if (atomic_fetch_add(&b->count, 1u) + 1u == cores) {
        atomic_store(&b->count, 0u); /* before the release: a released core may arrive again at once */
        atomic_fetch_add(&b->generation, 1u);
        tg_smp_port_wake(cores);
        return;
    }
    while (atomic_load(&b->generation) == generation) {
        tg_smp_port_wait();
    }
}

void tg_smp_run(tg_core_fn fn, void *ctx, unsigned cores)
{
    if (cores <= 1u) {
        fn(0u, ctx);
        return;
    }
    tg_smp_port_start(cores); /* ends the program if the port has fewer cores */
    for (unsigned core = 1u; core < cores; ++core) {
        tg_smp_mailbox_t *box = &mailboxes[core];
        box->fn = fn;
        box->ctx = ctx;
        box->cores = cores;
        atomic_fetch_add(&box->posted, 1u); /* seq_cst: publishes the fields above */
    }
    tg_smp_port_wake(cores);
    fn(0u, ctx);
    tg_barrier_wait(&job_end, cores);
}

_Noreturn void tg_smp_worker(unsigned core)
{
    tg_smp_mailbox_t *box = &mailboxes[core];
    /* Nothing is posted to a core before it is started, so it has seen job 0. */
    unsigned seen = 0u;
    for (;;) {
        unsigned posted;
        while ((posted = atomic_load(&box->posted)) == seen) {
            tg_smp_port_wait();
        }
        seen = posted;
        box->fn(core, box->ctx);
        tg_barrier_wait(&job_end, box->cores);
    }
}
