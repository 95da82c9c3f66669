/* espidf port of the SMP runtime (tinygen/tg_smp_port.h): FreeRTOS, a task pinned to the other CPU
 * (tg_smp_freertos.h, from runtime_c/firmware). Untested on hardware. */
#include "tg_smp_freertos.h"
