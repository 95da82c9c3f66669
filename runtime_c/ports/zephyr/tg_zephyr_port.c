/* zephyr port: the serial protocol over Zephyr's console (the board's chosen zephyr,console UART,
 * CONFIG_CONSOLE_SUBSYS + CONFIG_CONSOLE_GETCHAR in prj.conf), the counter from the core's cycle
 * counter (tinygen/tg_cycles.h). Zephyr lets the application own main(). */
#include <zephyr/console/console.h>
#include <zephyr/kernel.h>

#include "tinygen/tg_cycles.h"
#include "tinygen/tg_port.h"

static uint32_t start_cycles;

void tg_port_init(void)
{
    console_init();
    tg_cycles_init();
}

uint8_t tg_port_read_byte(void)
{
    return (uint8_t)console_getchar();
}

void tg_port_write_byte(uint8_t byte)
{
    console_putchar((char)byte);
}

void tg_port_flush(void)
{
}

void tg_port_counter_start(void)
{
    start_cycles = tg_cycles_now();
}

uint64_t tg_port_counter_read(void)
{
    return tg_cycles_elapsed(start_cycles, tg_cycles_now());
}

void tg_port_exit(int code)
{
    (void)code;
    for (;;) {
        k_sleep(K_FOREVER);
    }
}
