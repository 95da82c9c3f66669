/* espidf port: the serial protocol over UART0 (the DevKits' USB-UART bridge) with ESP-IDF's UART
 * driver, the counter from the core's cycle counter (tinygen/tg_cycles.h). */
#include "driver/uart.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"

#include "tinygen/tg_cycles.h"
#include "tinygen/tg_port.h"

#ifndef TG_BAUDRATE
#define TG_BAUDRATE 115200
#endif
#define TG_UART UART_NUM_0
#define TG_UART_BUFFER 1024

static uint32_t start_cycles;

void tg_port_init(void)
{
    const uart_config_t config = {
        .baud_rate = TG_BAUDRATE,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
    };
    uart_driver_install(TG_UART, TG_UART_BUFFER, TG_UART_BUFFER, 0, NULL, 0);
    uart_param_config(TG_UART, &config);
    tg_cycles_init();
}

uint8_t tg_port_read_byte(void)
{
    uint8_t byte;
    while (uart_read_bytes(TG_UART, &byte, 1, portMAX_DELAY) != 1) {
    }
    return byte;
}

void tg_port_write_byte(uint8_t byte)
{
    uart_write_bytes(TG_UART, (const char *)&byte, 1);
}

void tg_port_flush(void)
{
    uart_wait_tx_done(TG_UART, portMAX_DELAY);
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
    tg_port_flush();
    for (;;) {
        vTaskDelay(portMAX_DELAY);
    }
}
