/* arduino port of the SMP runtime (tinygen/tg_smp_port.h), by the Arduino core:
 * - ESP32 and ESP32-S3 (Arduino-ESP32, FreeRTOS on two CPUs): a task pinned to the CPU the loop task
 *   does not run on (tg_smp_freertos.h).
 * - RP2040 and RP2350 (Arduino's mbed core, Earle Philhower's Arduino-Pico; both bring the Pico SDK):
 *   core 1 launched with the SDK's multicore_launch_core1 on its own stack, sleeping in WFE between
 *   jobs and barriers, woken by SEV. The sketch must not use core 1 itself (no setup1/loop1).
 * - every other core: one core.
 * Only the one-core path compiles on tinygen's machines (no ESP or Pico SDK there): the others are
 * untested on hardware. */
#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

#if defined(ARDUINO_ARCH_ESP32) /* one CPU (ESP32-C3): portNUM_PROCESSORS says so */

#include "tg_smp_freertos.h"

#elif defined(ARDUINO_ARCH_RP2040) || defined(ARDUINO_ARCH_MBED_RP2040)

#include <stdlib.h>

#include "hardware/sync.h"
#include "pico/multicore.h"

static int core1_launched;

static void core1_main(void)
{
    tg_smp_worker(1u);
}

unsigned tg_smp_cores_available(void)
{
    return 2u;
}

void tg_smp_port_start(unsigned cores)
{
    if (cores > 2u) {
        abort();
    }
    if (!core1_launched) {
        core1_launched = 1;
        multicore_launch_core1(core1_main);
    }
}

void tg_smp_port_wait(void)
{
    __wfe();
}

void tg_smp_port_wake(unsigned cores)
{
    (void)cores;
    __dmb();
    __sev();
}

#if defined(__ARM_ARCH_6M__)
/* Cortex-M0+ (RP2040) has no exclusive loads and stores: GCC calls these for the runtime's
 * read-modify-writes. Weak, for an SDK that brings its own; a hardware spinlock makes them atomic
 * across the two cores. */
#include "hardware/spin_lock.h"

#define TG_SMP_SPINLOCK 31u

__attribute__((weak)) unsigned int __atomic_fetch_add_4(volatile void *ptr, unsigned int value, int order)
{
    (void)order;
    spin_lock_t *lock = spin_lock_instance(TG_SMP_SPINLOCK);
    const uint32_t saved = spin_lock_blocking(lock);
    volatile unsigned int *word = ptr;
    const unsigned int old = *word;
    *word = old + value;
    spin_unlock(lock, saved);
    return old;
}
#endif

#else /* one core */

#include "tinygen/tg_port.h"

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

#endif
