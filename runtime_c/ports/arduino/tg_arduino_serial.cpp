/* arduino port: the serial protocol over the board's `Serial` (USB CDC or the UART bridge,
 * whichever the core maps it to). Needs only Arduino.h, so one file serves every Arduino core. */
#include <Arduino.h>

#include "tinygen/tg_port.h"

#ifndef TG_BAUDRATE
#define TG_BAUDRATE 115200
#endif

extern "C" void tg_arduino_counter_init(void);

extern "C" void tg_port_init(void)
{
    Serial.begin(TG_BAUDRATE);
    while (!Serial) {
        /* a USB CDC port is ready once the host opens it */
        delay(1);
    }
    tg_arduino_counter_init();
}

extern "C" uint8_t tg_port_read_byte(void)
{
    int byte;
    while ((byte = Serial.read()) < 0) {
        yield(); /* let the core's USB stack and watchdogs run */
    }
    return (uint8_t)byte;
}

extern "C" void tg_port_write_byte(uint8_t byte)
{
    Serial.write(byte);
}

extern "C" void tg_port_flush(void)
{
    Serial.flush();
}

/* A real board has nowhere to exit to: report nothing more and wait for a reset. */
extern "C" void tg_port_exit(int code)
{
    (void)code;
    Serial.flush();
    for (;;) {
        delay(1000);
    }
}
