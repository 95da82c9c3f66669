/* Host port of the SMP runtime (tinygen/tg_smp_port.h) with POSIX threads: core k > 0 is a thread,
 * started the first time a job needs it and kept for the process's life. A waiting core yields its
 * CPU, so that more cores than the machine has still make progress. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

static unsigned started = 1u; /* core 0 is the caller; only core 0 starts threads */

static void *worker_thread(void *arg)
{
    tg_smp_worker((unsigned)(size_t)arg);
}

unsigned tg_smp_cores_available(void)
{
    return TG_SMP_MAX_CORES;
}

void tg_smp_port_start(unsigned cores)
{
    if (cores > tg_smp_cores_available()) {
        fprintf(stderr, "tg_smp_run: %u cores asked, at most %u\n", cores, tg_smp_cores_available());
        abort();
    }
    for (; started < cores; ++started) {
        pthread_t thread;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0 || pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0
            || pthread_create(&thread, &attr, worker_thread, (void *)(size_t)started) != 0) {
            fprintf(stderr, "tg_smp_run: cannot start a thread for core %u\n", started);
            abort();
        }
        pthread_attr_destroy(&attr);
    }
}

void tg_smp_port_wait(void)
{
    sched_yield();
}

void tg_smp_port_wake(unsigned cores)
{
    (void)cores; /* waiting threads poll */
}
