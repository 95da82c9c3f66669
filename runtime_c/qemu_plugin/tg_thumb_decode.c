/* Thumb/Thumb-2 decoding into the Cortex-M4 timing classes of docs/cycle-model.md.
 *
 * Encodings after the ARMv7-M Architecture Reference Manual's Thumb instruction set encoding
 * tables (16-bit: opcode in bits 15:10; 32-bit: op1 in hw1[12:11], op2 in hw1[10:4], op in hw2[15]).
 * Only what the timing table distinguishes is decoded: the class, the registers a single load
 * writes and the registers a single load/store forms its address from. */
#include "tg_thumb_decode.h"

const char *const tg_class_names[TG_CLASS_COUNT] = {
    "alu", "mul", "dsp_mac", "div", "load", "store", "ldrd_strd", "ldm_pop", "stm_push", "branch",
    "cond_branch", "table_branch", "it", "fp", "fp_xfer", "fp_mac", "fp_div", "fp_ldst", "sys", "unknown",
};

#define BIT(r) ((uint16_t)(1u << (r)))
#define REG_SP 13u
#define REG_PC 15u

static unsigned popcount16(uint32_t v)
{
    return (unsigned)__builtin_popcount(v & 0xFFFFu);
}

static tg_insn_t make(uint32_t address, unsigned size, tg_class_t cls, unsigned cost)
{
    tg_insn_t insn = {address, (uint8_t)size, (uint8_t)cls, (uint8_t)(cost > 255u ? 255u : cost), 0u, 0u, 0u, 0u, 0u};
    return insn;
}

/* A data-processing instruction writing register rd (none for 15: TST/TEQ/CMP/CMN in 32-bit form). */
static tg_insn_t writing(tg_insn_t insn, unsigned rd)
{
    if (rd != REG_PC) {
        insn.writes = (uint16_t)(insn.writes | BIT(rd));
    }
    return insn;
}

static tg_insn_t addressing(tg_insn_t insn, unsigned rn)
{
    insn.addr_regs = BIT(rn);
    return insn;
}

static tg_insn_t single_load(uint32_t address, unsigned size, unsigned rt, uint16_t addr_regs)
{
    tg_insn_t insn = make(address, size, TG_LOAD, 2u);
    insn.flags = TG_F_SINGLE_LDST | TG_F_LOAD;
    insn.loads = BIT(rt);
    insn.addr_regs = addr_regs;
    return insn;
}

static tg_insn_t single_store(uint32_t address, unsigned size, uint16_t addr_regs, int register_offset)
{
    tg_insn_t insn = make(address, size, TG_STORE, 2u);
    insn.flags = (uint8_t)(TG_F_SINGLE_LDST | (register_offset ? TG_F_STR_REGOFF : 0u));
    insn.addr_regs = addr_regs;
    return insn;
}

static tg_insn_t with_flags(tg_insn_t insn, unsigned flags)
{
    insn.flags = (uint8_t)(insn.flags | flags);
    return insn;
}

static tg_insn_t decode16(uint32_t a, uint16_t hw)
{
    const unsigned op = hw >> 10;
    if (op < 0x08u) {
        return writing(make(a, 2, TG_ALU, 1), hw & 7u); /* shift (immediate), add, subtract */
    }
    if (op < 0x10u) { /* MOV, CMP, ADD, SUB (8-bit immediate) */
        const tg_insn_t insn = make(a, 2, TG_ALU, 1);
        return ((hw >> 11) & 3u) == 1u ? insn : writing(insn, (hw >> 8) & 7u);
    }
    if (op == 0x10u) { /* data processing (register); MULS. TST, CMP, CMN write no register. */
        const unsigned opc = (hw >> 6) & 0xFu;
        const tg_insn_t insn = make(a, 2, opc == 0xDu ? TG_MUL : TG_ALU, 1);
        return (opc == 0x8u || opc == 0xAu || opc == 0xBu) ? insn : writing(insn, hw & 7u);
    }
    if (op == 0x11u) { /* special data processing, branch and exchange */
        const unsigned opc = (hw >> 8) & 3u;
        const unsigned rd = ((hw >> 4) & 8u) | (hw & 7u);
        if (opc == 3u) {
            return with_flags(make(a, 2, TG_BRANCH, 1), TG_F_PC_WRITE); /* BX, BLX (register) */
        }
        if (opc != 1u && rd == REG_PC) {
            return with_flags(make(a, 2, TG_ALU, 1), TG_F_PC_WRITE); /* ADD PC / MOV PC */
        }
        return opc == 1u ? make(a, 2, TG_ALU, 1) : writing(make(a, 2, TG_ALU, 1), rd);
    }
    if ((op & 0x3Eu) == 0x12u) {
        return single_load(a, 2, (hw >> 8) & 7u, BIT(REG_PC)); /* LDR (literal) */
    }
    if ((op & 0x3Cu) == 0x14u) { /* load/store, register offset */
        const unsigned opb = (hw >> 9) & 7u;
        const uint16_t addr = (uint16_t)(BIT((hw >> 3) & 7u) | BIT((hw >> 6) & 7u));
        return opb >= 3u ? single_load(a, 2, hw & 7u, addr) : single_store(a, 2, addr, 1);
    }
    if ((op & 0x38u) == 0x18u || (op & 0x3Cu) == 0x20u) { /* LDR/STR(B) (immediate), LDRH/STRH (immediate) */
        const uint16_t addr = BIT((hw >> 3) & 7u);
        return (hw & 0x0800u) ? single_load(a, 2, hw & 7u, addr) : single_store(a, 2, addr, 0);
    }
    if ((op & 0x3Cu) == 0x24u) { /* LDR/STR SP-relative */
        return (hw & 0x0800u) ? single_load(a, 2, (hw >> 8) & 7u, BIT(REG_SP)) : single_store(a, 2, BIT(REG_SP), 0);
    }
    if ((op & 0x3Cu) == 0x28u) {
        return writing(make(a, 2, TG_ALU, 1), (hw >> 8) & 7u); /* ADR, ADD (SP plus immediate) */
    }
    if ((op & 0x3Cu) == 0x2Cu) { /* miscellaneous 16-bit */
        if ((hw & 0x0500u) == 0x0100u) {
            return with_flags(make(a, 2, TG_COND_BRANCH, 1), TG_F_PC_WRITE); /* CBZ, CBNZ */
        }
        const unsigned registers = popcount16(hw & 0xFFu) + ((hw >> 8) & 1u);
        if ((hw & 0x0E00u) == 0x0400u) {
            return addressing(make(a, 2, TG_STM_PUSH, 1u + registers), REG_SP); /* PUSH */
        }
        if ((hw & 0x0E00u) == 0x0C00u) { /* POP */
            const tg_insn_t pop = addressing(make(a, 2, TG_LDM_POP, 1u + registers), REG_SP);
            return (hw & 0x0100u) ? with_flags(pop, TG_F_PC_WRITE) : pop;
        }
        if ((hw & 0x0F00u) == 0x0F00u) {
            return (hw & 0xFu) ? make(a, 2, TG_IT, 1) : make(a, 2, TG_SYS, 1); /* IT; NOP, YIELD, WFI ... */
        }
        if ((hw & 0x0F00u) == 0x0E00u || (hw & 0x0FE0u) == 0x0660u) {
            return make(a, 2, TG_SYS, 1); /* BKPT, CPS */
        }
        /* ADD/SUB SP (immediate); SXTH/SXTB/UXTH/UXTB, REV/REV16/REVSH */
        return writing(make(a, 2, TG_ALU, 1), (hw & 0x0F00u) == 0x0000u ? REG_SP : hw & 7u);
    }
    if ((op & 0x3Cu) == 0x30u) { /* STM / LDM */
        const unsigned n = popcount16(hw & 0xFFu);
        return addressing(make(a, 2, (hw & 0x0800u) ? TG_LDM_POP : TG_STM_PUSH, 1u + n), (hw >> 8) & 7u);
    }
    if ((op & 0x3Cu) == 0x34u) { /* conditional branch, UDF, SVC */
        const unsigned cond = (hw >> 8) & 0xFu;
        return cond >= 0xEu ? make(a, 2, TG_SYS, 1) : with_flags(make(a, 2, TG_COND_BRANCH, 1), TG_F_PC_WRITE);
    }
    if ((op & 0x3Eu) == 0x38u) {
        return with_flags(make(a, 2, TG_BRANCH, 1), TG_F_PC_WRITE); /* B (unconditional) */
    }
    return make(a, 2, TG_UNKNOWN, 1);
}

/* Coprocessor space: the FPv4-SP instructions (coprocessors 10 and 11). */
static tg_insn_t decode_fp(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned coproc = (hw2 >> 8) & 0xFu;
    if (coproc != 10u && coproc != 11u) {
        return make(a, 4, TG_UNKNOWN, 1);
    }
    if ((hw1 & 0x0300u) == 0x0200u) {
        if (hw2 & 0x10u) { /* 8, 16 and 32-bit transfers */
            if (((hw1 >> 5) & 7u) == 7u || coproc == 11u) {
                return make(a, 4, TG_FP, 1); /* VMRS, VMSR, VMOV scalar */
            }
            return make(a, 4, TG_FP_XFER, 2); /* VMOV core register <-> S register */
        }
        const unsigned opc1 = (hw1 >> 4) & 0xBu;
        switch (opc1) {
        case 0x0u: case 0x1u: case 0x9u: case 0xAu:
            return make(a, 4, TG_FP_MAC, 3); /* VMLA VMLS VNMLA VNMLS VFNMA VFNMS VFMA VFMS */
        case 0x8u:
            return make(a, 4, TG_FP_DIV, 14); /* VDIV */
        case 0xBu:
            if ((hw1 & 0xFu) == 1u && ((hw2 >> 6) & 3u) == 3u) {
                return make(a, 4, TG_FP_DIV, 14); /* VSQRT */
            }
            return make(a, 4, TG_FP, 1); /* VMOV (immediate, register), VABS, VNEG, VCVT, VCMP */
        default:
            return make(a, 4, TG_FP, 1); /* VMUL, VNMUL, VADD, VSUB */
        }
    }
    if ((hw1 & 0x0200u) == 0u) {
        const unsigned opcode = (hw1 >> 4) & 0x1Fu;
        if ((opcode & 0x1Eu) == 0x04u) {
            return make(a, 4, TG_FP_XFER, 2); /* VMOV two core registers <-> two S or one D */
        }
        if ((opcode & 0x12u) == 0x10u) {
            return make(a, 4, TG_FP_LDST, coproc == 11u ? 3u : 2u); /* VLDR, VSTR */
        }
        return make(a, 4, TG_FP_LDST, 1u + (hw2 & 0xFFu)); /* VLDM VSTM VPUSH VPOP: 1+N singles, 1+2N doubles */
    }
    return make(a, 4, TG_UNKNOWN, 1);
}

static tg_insn_t decode_ldst_multiple_dual(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned rn = hw1 & 0xFu;
    if ((hw1 & 0x0040u) == 0u) { /* LDM, STM, PUSH.W, POP.W */
        const unsigned n = popcount16(hw2);
        if (hw1 & 0x0010u) {
            const tg_insn_t ldm = addressing(make(a, 4, TG_LDM_POP, 1u + n), rn);
            return (hw2 & 0x8000u) ? with_flags(ldm, TG_F_PC_WRITE) : ldm;
        }
        return addressing(make(a, 4, TG_STM_PUSH, 1u + n), rn);
    }
    const unsigned pu = (hw1 >> 7) & 3u, op2 = (hw1 >> 4) & 3u, op3 = (hw2 >> 4) & 0xFu;
    if (pu == 0u && op2 == 0u) {
        return single_store(a, 4, BIT(rn), 0); /* STREX */
    }
    if (pu == 0u && op2 == 1u) {
        return single_load(a, 4, hw2 >> 12, BIT(rn)); /* LDREX */
    }
    if (pu == 1u && op2 == 0u) {
        return single_store(a, 4, BIT(rn), 0); /* STREXB, STREXH */
    }
    if (pu == 1u && op2 == 1u) {
        if (op3 <= 1u) {
            return with_flags(make(a, 4, TG_TABLE_BRANCH, 2), TG_F_PC_WRITE); /* TBB, TBH */
        }
        return single_load(a, 4, hw2 >> 12, BIT(rn)); /* LDREXB, LDREXH */
    }
    return addressing(make(a, 4, TG_LDRD_STRD, 3), rn); /* LDRD, STRD: 1 + N, N = 2 */
}

static tg_insn_t decode_branch_misc(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw2 >> 12) & 5u; /* hw2 bits 14 and 12 */
    if (op1 == 1u || op1 == 4u || op1 == 5u) {
        return with_flags(make(a, 4, TG_BRANCH, 1), TG_F_PC_WRITE); /* B.W, BLX (immediate), BL */
    }
    if ((hw1 & 0x0380u) != 0x0380u) {
        return with_flags(make(a, 4, TG_COND_BRANCH, 1), TG_F_PC_WRITE); /* B<cc>.W */
    }
    if (((hw1 >> 4) & 0x7Fu) == 0x3Bu && ((hw2 >> 4) & 0xFu) == 6u) {
        return make(a, 4, TG_SYS, 3); /* ISB: 1 + P, P = 2 always (the pipeline is flushed) */
    }
    return make(a, 4, TG_SYS, 1); /* MSR, MRS, hints (NOP.W ...), DSB, DMB, UDF.W */
}

static tg_insn_t decode_single_load(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned rn = hw1 & 0xFu, rt = hw2 >> 12, width = (hw1 >> 5) & 3u;
    if (rt == REG_PC) {
        if (width != 2u) {
            return make(a, 4, TG_SYS, 1); /* PLD, PLI */
        }
        return with_flags(make(a, 4, TG_LOAD, 2), TG_F_PC_WRITE); /* LDR PC: 2 + P, never pipelined */
    }
    uint16_t addr = BIT(rn);
    if (rn != REG_PC && (hw1 & 0x0080u) == 0u && (hw2 & 0x0FC0u) == 0u) {
        addr = (uint16_t)(addr | BIT(hw2 & 0xFu)); /* register offset */
    }
    return single_load(a, 4, rt, addr);
}

static tg_insn_t decode_single_store(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned rn = hw1 & 0xFu;
    const int register_offset = (hw1 & 0x0080u) == 0u && (hw2 & 0x0FC0u) == 0u;
    const uint16_t addr = (uint16_t)(BIT(rn) | (register_offset ? BIT(hw2 & 0xFu) : 0u));
    return single_store(a, 4, addr, register_offset);
}

static tg_insn_t decode_multiply(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    /* MUL, MLA, MLS (op1 = 0); SMLA<x><y> SMLAD SMLAW SMLSD SMMLA SMMLS USADA8 and their
     * accumulate-free forms (op1 = 1..7) */
    return writing(make(a, 4, ((hw1 >> 4) & 7u) == 0u ? TG_MUL : TG_DSP_MAC, 1), (hw2 >> 8) & 0xFu);
}

static tg_insn_t long_multiply_class(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 4) & 7u, op2 = (hw2 >> 4) & 0xFu;
    switch (op1) {
    case 1u: case 3u:
        return make(a, 4, TG_DIV, 7); /* SDIV, UDIV (2..12, fixed; option div=) */
    case 4u:
        return make(a, 4, op2 == 0u ? TG_MUL : TG_DSP_MAC, 1); /* SMLAL; SMLAL<x><y>, SMLALD */
    case 5u:
        return make(a, 4, TG_DSP_MAC, 1); /* SMLSLD */
    default:
        return make(a, 4, TG_MUL, 1); /* SMULL, UMULL, UMLAL, UMAAL */
    }
}

static tg_insn_t decode_long_multiply(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 4) & 7u;
    const tg_insn_t insn = writing(long_multiply_class(a, hw1, hw2), (hw2 >> 8) & 0xFu); /* RdHi, or Rd of a divide */
    return (op1 == 1u || op1 == 3u) ? insn : writing(insn, hw2 >> 12); /* RdLo */
}

static tg_insn_t decode32(uint32_t a, uint16_t hw1, uint16_t hw2)
{
    const unsigned op1 = (hw1 >> 11) & 3u;
    if (op1 == 1u) {
        if ((hw1 & 0x0600u) == 0u) {
            return decode_ldst_multiple_dual(a, hw1, hw2);
        }
        if ((hw1 & 0x0600u) == 0x0200u) {
            /* data processing (shifted register), PKHBT/PKHTB */
            return writing(make(a, 4, TG_ALU, 1), (hw2 >> 8) & 0xFu);
        }
        return decode_fp(a, hw1, hw2);
    }
    if (op1 == 2u) {
        /* data processing (immediate), BFI UBFX SSAT MOVW MOVT */
        return (hw2 & 0x8000u) ? decode_branch_misc(a, hw1, hw2) : writing(make(a, 4, TG_ALU, 1), (hw2 >> 8) & 0xFu);
    }
    if (hw1 & 0x0400u) {
        return decode_fp(a, hw1, hw2);
    }
    if ((hw1 & 0x0710u) == 0x0000u) {
        return decode_single_store(a, hw1, hw2);
    }
    if ((hw1 & 0x0610u) == 0x0010u) {
        return decode_single_load(a, hw1, hw2);
    }
    if ((hw1 & 0x0700u) == 0x0200u) {
        /* data processing (register): shifts, SXT/UXT(A)(B16), parallel, CLZ, QADD */
        return writing(make(a, 4, TG_ALU, 1), (hw2 >> 8) & 0xFu);
    }
    switch (hw1 & 0x0780u) {
    case 0x0300u:
        return decode_multiply(a, hw1, hw2);
    case 0x0380u:
        return decode_long_multiply(a, hw1, hw2);
    default:
        return make(a, 4, TG_UNKNOWN, 1);
    }
}

tg_insn_t tg_thumb_decode(uint32_t address, uint16_t hw1, uint16_t hw2)
{
    return tg_thumb_size(hw1) == 4u ? decode32(address, hw1, hw2) : decode16(address, hw1);
}
