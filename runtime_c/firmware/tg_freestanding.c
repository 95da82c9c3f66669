/* The four functions GCC may call even in freestanding code (struct copies, zeroed arrays):
 * the firmware links no C library, so it brings its own, small and slow. */
#include <stddef.h>
#include <stdint.h>

/* Stop GCC from recognising these loops as memcpy/memset and calling themselves. */
#define TG_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

TG_NO_LIBCALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n-- > 0u) {
        *d++ = *s++;
    }
    return dst;
}

TG_NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n-- > 0u) {
            *d++ = *s++;
        }
    } else {
        while (n-- > 0u) {
            d[n] = s[n];
        }
    }
    return dst;
}

TG_NO_LIBCALLS void *memset(void *dst, int value, size_t n)
{
    uint8_t *d = dst;
    while (n-- > 0u) {
        *d++ = (uint8_t)value;
    }
    return dst;
}

TG_NO_LIBCALLS int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a;
    const uint8_t *y = b;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}
