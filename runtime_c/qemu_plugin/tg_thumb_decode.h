/* Thumb/Thumb-2 (ARMv7E-M, FPv4) instruction classes and base costs for the Cortex-M4 cycle
 * estimate (docs/cycle-model.md). One decode per translated instruction; the sequence rules (taken
 * flow changes, load/store pipelining) are applied at execution by the plugin. */
#ifndef TG_THUMB_DECODE_H
#define TG_THUMB_DECODE_H

#include <stdint.h>

/* The classes, in the order of the JSON's "classes" object (names: tg_class_names). */
typedef enum {
    TG_ALU,
    TG_MUL,
    TG_DSP_MAC,
    TG_DIV,
    TG_LOAD,
    TG_STORE,
    TG_LDRD_STRD,
    TG_LDM_POP,
    TG_STM_PUSH,
    TG_BRANCH,      /* B, BL, BX, BLX: always a flow change */
    TG_COND_BRANCH, /* B<cc>, CBZ, CBNZ */
    TG_TABLE_BRANCH,
    TG_IT,
    TG_FP,
    TG_FP_XFER,     /* VMOV between core and FP registers */
    TG_FP_MAC,
    TG_FP_DIV,
    TG_FP_LDST,
    TG_SYS,
    TG_UNKNOWN,
    TG_CLASS_COUNT
} tg_class_t;

extern const char *const tg_class_names[TG_CLASS_COUNT];

enum {
    TG_F_PC_WRITE = 1u << 0,    /* may write the PC: charged P when the next executed address is not sequential */
    TG_F_SINGLE_LDST = 1u << 1, /* a single LDR or STR (LDREX/STREX too): pipelines with a neighbour */
    TG_F_LOAD = 1u << 2,        /* ... and it is a load (its destination is in `loads`) */
    TG_F_STR_REGOFF = 1u << 3,  /* a STR with a register offset: nothing pipelines after it */
};

typedef struct {
    uint32_t address;
    uint8_t size;        /* 2 or 4, from the first halfword */
    uint8_t cls;         /* tg_class_t */
    uint8_t cost;        /* cycles before the sequence rules (P not included) */
    uint8_t flags;
    uint16_t loads;      /* core registers a single load writes (bit n = Rn) */
    uint16_t addr_regs;  /* registers a load/store forms its address from */
    uint16_t writes;     /* core registers a data-processing (ALU, multiply) instruction writes */
    uint16_t tag;        /* not the decoder's: the plugin's function index (tg_functions.h) */
} tg_insn_t;

/* size of the instruction whose first halfword is hw1 */
static inline unsigned tg_thumb_size(uint16_t hw1)
{
    const unsigned top5 = hw1 >> 11;
    return (top5 == 0x1D || top5 == 0x1E || top5 == 0x1F) ? 4u : 2u;
}

/* hw2 is ignored for a 16-bit instruction. */
tg_insn_t tg_thumb_decode(uint32_t address, uint16_t hw1, uint16_t hw2);

#endif
