/* The SMP port on FreeRTOS with two CPUs (ESP32, ESP32-S3 under ESP-IDF or Arduino-ESP32), shared by
 * runtime_c/ports/espidf and runtime_c/ports/arduino: core 1 of tinygen/tg_smp.h is a task pinned
 * to the CPU the caller does not run on (Arduino's loop task runs on CPU 1, so that is CPU 0 there),
 * created the first time a job needs it. A waiting core blocks on its task notification (at most
 * one tick, then looks again); the core that changes what it waits for notifies it. Compiled on no
 * hardware here (no Xtensa toolchain on tinygen's machines): untested on a board. Include once. */
#ifndef TINYGEN_TG_SMP_FREERTOS_H
#define TINYGEN_TG_SMP_FREERTOS_H

#include <stdlib.h>

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "tinygen/tg_smp.h"
#include "tinygen/tg_smp_port.h"

#define TG_SMP_FREERTOS_STACK_BYTES 4096 /* ESP-IDF counts task stacks in bytes */

static TaskHandle_t tg_smp_freertos_tasks[2]; /* the caller's task (core 0), the worker's (core 1) */

static void tg_smp_freertos_worker(void *arg)
{
    (void)arg;
    tg_smp_worker(1u);
}

unsigned tg_smp_cores_available(void)
{
    return portNUM_PROCESSORS >= 2 ? 2u : 1u;
}

void tg_smp_port_start(unsigned cores)
{
    if (cores > tg_smp_cores_available()) {
        abort();
    }
    if (tg_smp_freertos_tasks[1] == NULL) {
        tg_smp_freertos_tasks[0] = xTaskGetCurrentTaskHandle();
        const BaseType_t other_cpu = xPortGetCoreID() == 0 ? 1 : 0;
        if (xTaskCreatePinnedToCore(tg_smp_freertos_worker, "tg_core1", TG_SMP_FREERTOS_STACK_BYTES, NULL,
                                    uxTaskPriorityGet(NULL), &tg_smp_freertos_tasks[1], other_cpu) != pdPASS) {
            abort();
        }
    }
}

void tg_smp_port_wait(void)
{
    (void)ulTaskNotifyTake(pdTRUE, 1);
}

void tg_smp_port_wake(unsigned cores)
{
    const TaskHandle_t self = xTaskGetCurrentTaskHandle();
    for (unsigned core = 0u; core < cores && core < 2u; ++core) {
        if (tg_smp_freertos_tasks[core] != NULL && tg_smp_freertos_tasks[core] != self) {
            xTaskNotifyGive(tg_smp_freertos_tasks[core]);
        }
    }
}

#endif /* TINYGEN_TG_SMP_FREERTOS_H */
