/* The firmware's functions, for a flat profile: which function each executed instruction lies in.
 * Read from a text file of "START END NAME" lines (hex addresses, END exclusive), as
 * tinygen/device/cycles.py writes it from the ELF's symbol table. */
#ifndef TG_FUNCTIONS_H
#define TG_FUNCTIONS_H

#include <stdint.h>

#define TG_FUNCTIONS_MAX 8192u
#define TG_FUNCTION_NAME_MAX 128u

/* 0 on success, -1 if the file cannot be read or holds more than TG_FUNCTIONS_MAX functions. */
int tg_functions_load(const char *path);

/* The number of functions loaded. */
unsigned tg_functions_count(void);

/* 1 + the index of the function holding address, or 0 when no listed function holds it. */
uint16_t tg_functions_tag(uint32_t address);

/* The name of the function with tag (1..count). */
const char *tg_functions_name(uint16_t tag);

#endif
