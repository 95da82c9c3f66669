/* tinygen runtime: running one model's static schedule on several cores (issue 12).
 *
 * The generated model calls tg_smp_run(core_entry, &ctx, N) from its invoke(): core 0 (the caller)
 * and cores 1..N-1 each run core_entry(core, ctx), their share of every operator, and meet in
 * tg_barrier_wait() wherever a core reads what another one wrote. tg_smp_run returns once every
 * core has returned. No OS and no C library: C11 atomics, plus a port's way to start the other
 * cores and to let a waiting core sleep (runtime_c/firmware/tg_smp.c is the portable part; the
 * ports supply tg_smp_port.h's functions).
 *
 * tg_barrier_wait is an out-of-line function on purpose: the cycle plugin cuts each core's run
 * into intervals at its entry (tinygen/device/cycles.py).
 */
#ifndef TINYGEN_TG_SMP_H
#define TINYGEN_TG_SMP_H

#ifdef __cplusplus
extern "C" {
#define TG_SMP_ATOMIC(type) volatile type /* same layout; only C code touches the members */
#else
#include <stdatomic.h>
#define TG_SMP_ATOMIC(type) _Atomic type
#endif

/* A generation barrier for a fixed number of cores: the last core to arrive resets the count and
 * starts the next generation, which releases the others. Reusable at once, from any number of
 * call sites, as long as the same `cores` arrive at it each time. */
typedef struct {
    TG_SMP_ATOMIC(unsigned) count;
    TG_SMP_ATOMIC(unsigned) generation;
} tg_barrier_t;

#define TG_BARRIER_INIT {0, 0}

/* Returns once `cores` cores have called it (cores <= 1: at once). Sequentially consistent: what a
 * core wrote before it is visible to every core after it. */
void tg_barrier_wait(tg_barrier_t *b, unsigned cores);

/* Every call is followed by an empty asm statement, so that it is never compiled as a tail call
 * (a branch that returns straight to the caller's caller): the cycle plugin ends the wait at the
 * instruction after the call. (tg_barrier_wait) in parentheses names the function itself. */
#define tg_barrier_wait(b, cores)                \
    do {                                         \
        (tg_barrier_wait)((b), (cores));         \
        __asm__ volatile("");                    \
    } while (0)

typedef void (*tg_core_fn)(unsigned core, void *ctx);

/* Runs fn(core, ctx) on cores 0..cores-1 (the caller is core 0) and returns when all have
 * returned. cores == 1 just calls fn(0, ctx). More cores than tg_smp_cores_available() is a fault
 * (the firmware ends with TG_PORT_EXIT_FAULT; the host aborts): the generator never asks for it.
 * Not reentrant: one tg_smp_run at a time. */
void tg_smp_run(tg_core_fn fn, void *ctx, unsigned cores);

/* The cores this build can run on: the board's (1 on a single-core port). */
unsigned tg_smp_cores_available(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_SMP_H */
