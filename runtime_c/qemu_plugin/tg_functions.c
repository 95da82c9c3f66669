#include "tg_functions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t start, end;
    char name[TG_FUNCTION_NAME_MAX];
} function_t;

static function_t *functions;
static unsigned count;

static int by_start(const void *a, const void *b)
{
    const function_t *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

int tg_functions_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    functions = calloc(TG_FUNCTIONS_MAX, sizeof *functions);
    if (functions == NULL) {
        fclose(f);
        return -1;
    }
    unsigned start, end;
    char name[TG_FUNCTION_NAME_MAX];
    int status = 0;
    while (fscanf(f, "%x %x %127s", &start, &end, name) == 3) {
        if (count == TG_FUNCTIONS_MAX) {
            status = -1;
            break;
        }
        functions[count].start = start & ~1u;
        functions[count].end = end;
        strcpy(functions[count].name, name);
        count++;
    }
    fclose(f);
    qsort(functions, count, sizeof *functions, by_start);
    return status;
}

unsigned tg_functions_count(void)
{
    return count;
}

uint16_t tg_functions_tag(uint32_t address)
{
    unsigned lo = 0, hi = count; /* the last function starting at or below address */
    while (lo < hi) {
        const unsigned mid = (lo + hi) / 2u;
        if (functions[mid].start <= address) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    if (lo == 0u || address >= functions[lo - 1u].end) {
        return 0u;
    }
    return (uint16_t)lo;
}

const char *tg_functions_name(uint16_t tag)
{
    return (tag >= 1u && tag <= count) ? functions[tag - 1u].name : "(other)";
}
