/* tinygen runtime: what the firmware application needs from a board, and nothing more.
 *
 * One port per board family lives in runtime_c/ports/<port>/ and implements these functions.
 * The application (runtime_c/firmware/) is written only against this header, so a new board
 * needs a new port, never a new application.
 */
#ifndef TINYGEN_TG_PORT_H
#define TINYGEN_TG_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bring up the serial line and the instruction counter. Called once, first thing in main(). */
void tg_port_init(void);

/* Blocking serial I/O: wait until a byte arrives / until the byte is accepted for sending. */
uint8_t tg_port_read_byte(void);
void tg_port_write_byte(uint8_t byte);

/* Block until every byte written so far has left the device (call before tg_port_exit). */
void tg_port_flush(void);

/* The instruction counter. tg_port_counter_start() marks the start of a measured region;
 * tg_port_counter_read() returns the instructions executed since then, or, where a port can
 * only count cycles, cycles. Each port documents which and how exact. The measured region must
 * not be nested. */
void tg_port_counter_start(void);
uint64_t tg_port_counter_read(void);

/* Exit statuses of the ports themselves (the application exits with 0 when the host asks it to),
 * the same on every port so that the host reads them alike. */
#define TG_PORT_EXIT_FAULT 3          /* a CPU fault or trap */
#define TG_PORT_EXIT_MAIN_RETURNED 4  /* main() returned, which it never should */

/* End the program with a status the host sees (QEMU's exit code, or a debugger's report). */
_Noreturn void tg_port_exit(int code);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_PORT_H */
