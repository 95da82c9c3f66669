/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32), updated one byte at a time as bytes stream. */
#ifndef TINYGEN_TG_CRC32_H
#define TINYGEN_TG_CRC32_H

#include <stdint.h>

#define TG_CRC32_INIT 0xFFFFFFFFu

uint32_t tg_crc32_update(uint32_t state, uint8_t byte);

static inline uint32_t tg_crc32_final(uint32_t state)
{
    return state ^ 0xFFFFFFFFu;
}

#endif /* TINYGEN_TG_CRC32_H */
