/* tinygen's QEMU TCG plugin: exact instruction counts and a Cortex-M4 cycle estimate of a region.
 *
 * Load with `-plugin libtg_cycles.so,out=FILE[,start=ADDR][,barrier=ADDR][,p=2][,div=7][,itfold=0][,p_unaligned=0]
 * [,agu=0][,functions=FILE]`.
 * Each instruction is decoded once, at translation (tg_thumb_decode.c: class, base cost, the registers
 * a single load writes and those a load/store addresses with); at execution one callback applies the
 * sequence rules of docs/cycle-model.md and adds up, per virtual CPU.
 *
 * Region: with start=ADDR, from the first instruction at ADDR (a function's entry) to its return,
 * i.e. until execution reaches the address after the call that entered it (the previous executed
 * instruction's address + size). Every region becomes one JSON line in FILE as soon as it ends.
 * Without start=, the whole run is one region, written at exit.
 *
 * With barrier=ADDR (the entry of the firmware's barrier-wait function), each virtual CPU's run is
 * also cut into intervals at every entry of that function: one JSON line per interval gives the
 * instructions executed outside the barrier ("busy") and inside it ("wait", entry to return). The
 * modelled N-core latency is the sum over intervals of the busiest core's count (issue 12).
 * With start= too, intervals are counted only while the region runs on the core that entered it
 * (the model's invoke() on core 0, which posts work to the others): at its entry every virtual CPU
 * starts interval 0 of the region, at its return every core's open interval is written, and the
 * lines carry the region's number. A core still inside the barrier that ended the previous region
 * counts that as wait, not as an interval's end.
 *
 * On RISC-V (riscv32) the instructions are counted but not decoded: intervals and instruction
 * counts mean something there, cycles do not.
 *
 * With functions=FILE ("START END NAME" lines), each region also gives a flat profile: the
 * instructions and cycles spent in each function (by the address of the instruction).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_functions.h"
#include "tg_qemu_plugin_api.h"
#include "tg_thumb_decode.h"

TG_QEMU_PLUGIN_EXPORT int qemu_plugin_version = TG_QEMU_PLUGIN_API_VERSION;

#define MAX_VCPUS 16u
#define TABLE_BITS 16u /* decoded instructions cached by address; code does not change */
#define TABLE_SIZE (1u << TABLE_BITS)

typedef struct {
    uint64_t instructions;
    uint64_t cycles;
    uint64_t taken;            /* flow changes charged P */
    uint64_t pipelined;        /* single loads/stores charged 1 after another */
    uint64_t it_foldable;      /* ITs after a 16-bit instruction (itfold=1 charges them 0) */
    uint64_t nonsequential;    /* flow changes after an instruction that cannot write the PC */
    uint64_t agu_pairs;        /* loads/stores addressed with the register the previous ALU/multiply wrote */
    uint64_t class_count[TG_CLASS_COUNT];
    uint64_t class_cycles[TG_CLASS_COUNT];
} counts_t;

typedef struct {
    uint64_t busy, wait;
    uint32_t index;
    uint32_t return_address; /* of the barrier call being waited in */
    int in_barrier;
    int stale_barrier;       /* in the barrier since before the region began: its return is no boundary */
    int active;              /* this vCPU has executed something */
} interval_t;

typedef struct {
    const tg_insn_t *prev;
    int in_region;
    uint32_t return_address;
    uint32_t regions;
    counts_t counts;
    interval_t interval;
    uint64_t *function_instructions; /* by tag (tg_functions.h), with functions= only */
    uint64_t *function_cycles;
} vcpu_t;

static struct {
    char out_path[4096];
    int have_start;
    uint32_t start;
    int have_barrier;
    uint32_t barrier;
    int riscv;               /* the riscv32 target: sizes only, no Thumb decoding */
    int region_active;       /* with start= and barrier=: intervals are counted in the region only */
    unsigned region_vcpu;    /* the virtual CPU whose region it is */
    uint32_t region_index;
    unsigned p, p_unaligned, div, itfold, agu;
    unsigned vcpus_seen;
    vcpu_t vcpu[MAX_VCPUS];
    tg_insn_t *table[TABLE_SIZE];
    pthread_mutex_t lock;
} g = {.p = 2u, .div = 7u, .lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- decoded instructions, by address ---------------------------------------------------------- */

/* RISC-V: the two low bits of the first halfword give the size; every instruction counts 1. */
static tg_insn_t riscv_decode(uint32_t address, const uint8_t *bytes)
{
    tg_insn_t insn;
    memset(&insn, 0, sizeof insn);
    insn.address = address;
    insn.size = (bytes[0] & 3u) == 3u ? 4u : 2u;
    insn.cls = TG_UNKNOWN;
    insn.cost = 1u;
    insn.flags = TG_F_PC_WRITE; /* unknown: a flow change is never "nonsequential" */
    return insn;
}

static const tg_insn_t *decoded(uint32_t address, const uint8_t *bytes, size_t api_size)
{
    if (g.riscv) {
        tg_insn_t *insn = NULL;
        pthread_mutex_lock(&g.lock);
        uint32_t slot = (address >> 1) & (TABLE_SIZE - 1u);
        for (unsigned probe = 0; probe < TABLE_SIZE; ++probe, slot = (slot + 1u) & (TABLE_SIZE - 1u)) {
            if (g.table[slot] == NULL || g.table[slot]->address == address) {
                if (g.table[slot] == NULL && (g.table[slot] = malloc(sizeof *insn)) != NULL) {
                    *g.table[slot] = riscv_decode(address, bytes);
                    g.table[slot]->tag = tg_functions_tag(address);
                }
                insn = g.table[slot];
                break;
            }
        }
        pthread_mutex_unlock(&g.lock);
        return insn;
    }
    const uint16_t hw1 = (uint16_t)(bytes[0] | (bytes[1] << 8));
    /* The size comes from the first halfword: at the end of a guest page QEMU reads ahead and the
     * API's size can include the next instruction's halfword. */
    const unsigned size = tg_thumb_size(hw1);
    const uint16_t hw2 = (size == 4u && api_size >= 4u) ? (uint16_t)(bytes[2] | (bytes[3] << 8)) : 0u;
    pthread_mutex_lock(&g.lock);
    uint32_t slot = (address >> 1) & (TABLE_SIZE - 1u);
    tg_insn_t *found = NULL;
    for (unsigned probe = 0; probe < TABLE_SIZE; ++probe, slot = (slot + 1u) & (TABLE_SIZE - 1u)) {
        tg_insn_t *entry = g.table[slot];
        if (entry == NULL) {
            found = malloc(sizeof *found);
            if (found != NULL) {
                *found = tg_thumb_decode(address, hw1, hw2);
                found->tag = tg_functions_tag(address);
                g.table[slot] = found;
            }
            break;
        }
        if (entry->address == address) {
            found = entry;
            break;
        }
    }
    if (found == NULL) { /* table full (more than 64 Ki distinct instructions): decode without caching */
        found = malloc(sizeof *found);
        if (found != NULL) {
            *found = tg_thumb_decode(address, hw1, hw2);
            found->tag = tg_functions_tag(address);
        }
    }
    pthread_mutex_unlock(&g.lock);
    return found;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void write_functions(FILE *f, const vcpu_t *s)
{
    const char *sep = "";
    fputs(", \"functions\": {", f);
    for (unsigned tag = 0; tag <= tg_functions_count(); ++tag) {
        if (s->function_instructions[tag] != 0u) {
            fprintf(f, "%s\"%s\": [%" PRIu64 ", %" PRIu64 "]", sep, tg_functions_name((uint16_t)tag),
                    s->function_instructions[tag], s->function_cycles[tag]);
            sep = ", ";
        }
    }
    fputs("}", f);
}

static void write_counts(FILE *f, unsigned vcpu, uint32_t region, const vcpu_t *s)
{
    const counts_t *c = &s->counts;
    fprintf(f, "{\"vcpu\": %u, \"region\": %" PRIu32 ", \"start\": %" PRIu32 ", \"instructions\": %" PRIu64
               ", \"cycles\": %" PRIu64 ", \"taken_branches\": %" PRIu64 ", \"pipelined\": %" PRIu64
               ", \"it_foldable\": %" PRIu64 ", \"nonsequential_after_non_branch\": %" PRIu64
               ", \"agu_pairs\": %" PRIu64,
            vcpu, region, g.start, c->instructions, c->cycles, c->taken, c->pipelined, c->it_foldable,
            c->nonsequential, c->agu_pairs);
    fprintf(f, ", \"settings\": {\"p\": %u, \"p_unaligned\": %u, \"div\": %u, \"itfold\": %u, \"agu\": %u}",
            g.p, g.p_unaligned, g.div, g.itfold, g.agu);
    const char *sep = "";
    fputs(", \"classes\": {", f);
    for (unsigned k = 0; k < TG_CLASS_COUNT; ++k) {
        fprintf(f, "%s\"%s\": %" PRIu64, sep, tg_class_names[k], c->class_count[k]);
        sep = ", ";
    }
    sep = "";
    fputs("}, \"class_cycles\": {", f);
    for (unsigned k = 0; k < TG_CLASS_COUNT; ++k) {
        fprintf(f, "%s\"%s\": %" PRIu64, sep, tg_class_names[k], c->class_cycles[k]);
        sep = ", ";
    }
    fputs("}", f);
    if (s->function_instructions != NULL) {
        write_functions(f, s);
    }
    fputs("}\n", f);
}

static void emit(unsigned vcpu, vcpu_t *s)
{
    pthread_mutex_lock(&g.lock);
    FILE *f = fopen(g.out_path, "a");
    if (f != NULL) {
        write_counts(f, vcpu, s->regions, s);
        fclose(f);
    } else {
        qemu_plugin_outs("tg_cycles: cannot write the output file\n");
    }
    pthread_mutex_unlock(&g.lock);
    s->regions++;
}

static void emit_interval(unsigned vcpu, interval_t *iv, int last)
{
    pthread_mutex_lock(&g.lock);
    FILE *f = fopen(g.out_path, "a");
    if (f != NULL) {
        fprintf(f, "{\"vcpu\": %u, \"interval\": %" PRIu32 ", \"busy\": %" PRIu64 ", \"wait\": %" PRIu64
                   ", \"last\": %s", vcpu, iv->index, iv->busy, iv->wait, last ? "true" : "false");
        if (g.have_start) {
            fprintf(f, ", \"region\": %" PRIu32, g.region_index);
        }
        fputs("}\n", f);
        fclose(f);
    }
    pthread_mutex_unlock(&g.lock);
    iv->index++;
    iv->busy = 0u;
    iv->wait = 0u;
}

/* Intervals between barriers: a barrier entry closes the interval, its return starts the next one. */
static void count_interval(unsigned vcpu, interval_t *iv, const tg_insn_t *x, const tg_insn_t *p)
{
    const int counted = !g.have_start || g.region_active;
    iv->active |= counted;
    if (iv->in_barrier && x->address == iv->return_address) {
        iv->in_barrier = 0;
        if (counted && !iv->stale_barrier) {
            emit_interval(vcpu, iv, 0);
        }
        iv->stale_barrier = 0;
    }
    if (!iv->in_barrier && x->address == g.barrier) {
        iv->in_barrier = 1;
        iv->return_address = p != NULL ? p->address + p->size : 0u;
    }
    if (!counted) {
        return;
    }
    if (iv->in_barrier) {
        iv->wait++;
    } else {
        iv->busy++;
    }
}

/* The region (start=) begins or ends on `vcpu`: every core's intervals begin or end with it. */
static void region_intervals(unsigned vcpu, int begin)
{
    if (!g.have_barrier) {
        return;
    }
    if (begin) {
        g.region_active = 1;
        g.region_vcpu = vcpu;
        for (unsigned v = 0; v < MAX_VCPUS; ++v) {
            interval_t *iv = &g.vcpu[v].interval;
            iv->index = 0u;
            iv->busy = iv->wait = 0u;
            iv->active = 0;
            iv->stale_barrier = iv->in_barrier;
        }
        return;
    }
    for (unsigned v = 0; v < MAX_VCPUS; ++v) {
        if (g.vcpu[v].interval.active) {
            emit_interval(v, &g.vcpu[v].interval, 1);
        }
        g.vcpu[v].interval.active = 0;
    }
    g.region_active = 0;
    g.region_index++;
}

/* ---- execution ------------------------------------------------------------------------------- */

static void charge(vcpu_t *s, const tg_insn_t *insn, unsigned cycles)
{
    s->counts.cycles += cycles;
    s->counts.class_cycles[insn->cls] += cycles;
    if (s->function_cycles != NULL) {
        s->function_cycles[insn->tag] += cycles;
    }
}

static void reset_counts(vcpu_t *s)
{
    memset(&s->counts, 0, sizeof s->counts);
    if (s->function_instructions != NULL) {
        memset(s->function_instructions, 0, (tg_functions_count() + 1u) * sizeof *s->function_instructions);
        memset(s->function_cycles, 0, (tg_functions_count() + 1u) * sizeof *s->function_cycles);
    }
}

/* "A load or store that generates an address dependent on the result of a preceding data processing
 * operation stalls the pipeline for an additional cycle": counted, charged only with agu=1. */
static unsigned address_stall(const tg_insn_t *x, const tg_insn_t *p, counts_t *c)
{
    if (p != NULL && (x->addr_regs & p->writes) != 0u) {
        c->agu_pairs++;
        return g.agu;
    }
    return 0u;
}

static unsigned base_cost(const tg_insn_t *x, const tg_insn_t *p, counts_t *c)
{
    if (x->cls == TG_DIV) {
        return g.div;
    }
    if (x->cls == TG_IT && p != NULL && p->size == 2u) {
        c->it_foldable++;
        return g.itfold ? 0u : 1u;
    }
    if ((x->flags & TG_F_SINGLE_LDST) && p != NULL && (p->flags & TG_F_SINGLE_LDST)
        && !(p->flags & TG_F_STR_REGOFF) && !((p->flags & TG_F_LOAD) && (p->loads & x->addr_regs))) {
        c->pipelined++;
        return x->cost - 1u; /* the address phase overlaps the previous one's data phase */
    }
    return x->cost;
}

static void on_exec(unsigned int vcpu_index, void *userdata)
{
    const tg_insn_t *x = userdata;
    vcpu_t *s = &g.vcpu[vcpu_index < MAX_VCPUS ? vcpu_index : MAX_VCPUS - 1u];
    const tg_insn_t *p = s->prev;
    const int counting = s->in_region || !g.have_start;

    /* The previous instruction's flow change is known only now, from where execution went. */
    if (counting && p != NULL && p->address + p->size != x->address) {
        if (p->flags & TG_F_PC_WRITE) {
            s->counts.taken++;
            charge(s, p, g.p + ((x->size == 4u && (x->address & 2u)) ? g.p_unaligned : 0u));
        } else {
            s->counts.nonsequential++; /* an exception entered, or a decoding error */
        }
    }
    if (s->in_region && x->address == s->return_address) {
        emit(vcpu_index, s);
        s->in_region = 0;
        if (g.region_active && g.region_vcpu == vcpu_index) {
            region_intervals(vcpu_index, 0);
        }
    }
    if (g.have_start && !s->in_region && x->address == g.start) {
        s->in_region = 1;
        if (!g.region_active) {
            region_intervals(vcpu_index, 1);
        }
        s->return_address = p != NULL ? p->address + p->size : 0u;
        reset_counts(s);
        p = NULL; /* the caller's instruction is outside the region: no pipelining across the entry */
    }
    if (g.have_barrier) {
        count_interval(vcpu_index, &s->interval, x, s->prev);
    }
    if (s->in_region || !g.have_start) {
        s->counts.instructions++;
        s->counts.class_count[x->cls]++;
        if (s->function_instructions != NULL) {
            s->function_instructions[x->tag]++;
        }
        charge(s, x, base_cost(x, p, &s->counts) + address_stall(x, p, &s->counts));
    }
    s->prev = x;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const tg_insn_t *d = decoded((uint32_t)qemu_plugin_insn_vaddr(insn), qemu_plugin_insn_data(insn),
                                     qemu_plugin_insn_size(insn));
        if (d != NULL) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)d);
        }
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    for (unsigned v = 0; g.have_barrier && !g.have_start && v < g.vcpus_seen && v < MAX_VCPUS; ++v) {
        if (g.vcpu[v].interval.active) {
            emit_interval(v, &g.vcpu[v].interval, 1); /* what ran after the last barrier */
        }
    }
    if (g.have_start) {
        return; /* regions were written as they ended */
    }
    for (unsigned v = 0; v < g.vcpus_seen && v < MAX_VCPUS; ++v) {
        if (g.vcpu[v].counts.instructions != 0u) {
            emit(v, &g.vcpu[v]);
        }
    }
}

/* ---- options --------------------------------------------------------------------------------- */

static int parse_unsigned(const char *text, unsigned long *value)
{
    char *end = NULL;
    *value = strtoul(text, &end, 0);
    return end != text && *end == '\0';
}

static int parse_option(const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL) {
        return 0;
    }
    const size_t key_len = (size_t)(eq - arg);
    const char *value = eq + 1;
    unsigned long number = 0;
    if (key_len == 9 && strncmp(arg, "functions", 9) == 0) {
        if (tg_functions_load(value) != 0) {
            return 0;
        }
        for (unsigned v = 0; v < MAX_VCPUS; ++v) {
            g.vcpu[v].function_instructions = calloc(tg_functions_count() + 1u, sizeof(uint64_t));
            g.vcpu[v].function_cycles = calloc(tg_functions_count() + 1u, sizeof(uint64_t));
            if (g.vcpu[v].function_instructions == NULL || g.vcpu[v].function_cycles == NULL) {
                return 0;
            }
        }
        return 1;
    }
    if (key_len == 3 && strncmp(arg, "out", 3) == 0) {
        if (strlen(value) >= sizeof g.out_path) {
            return 0;
        }
        strcpy(g.out_path, value);
        return 1;
    }
    if (!parse_unsigned(value, &number)) {
        return 0;
    }
    if (key_len == 5 && strncmp(arg, "start", 5) == 0) {
        g.have_start = 1;
        g.start = (uint32_t)number & ~1u; /* a Thumb function pointer has bit 0 set */
    } else if (key_len == 7 && strncmp(arg, "barrier", 7) == 0) {
        g.have_barrier = 1;
        g.barrier = (uint32_t)number & ~1u;
    } else if (key_len == 1 && arg[0] == 'p') {
        g.p = (unsigned)number;
    } else if (key_len == 11 && strncmp(arg, "p_unaligned", 11) == 0) {
        g.p_unaligned = (unsigned)number;
    } else if (key_len == 3 && strncmp(arg, "div", 3) == 0) {
        g.div = (unsigned)number;
    } else if (key_len == 6 && strncmp(arg, "itfold", 6) == 0) {
        g.itfold = number != 0u;
    } else if (key_len == 3 && strncmp(arg, "agu", 3) == 0) {
        g.agu = number != 0u;
    } else {
        return 0;
    }
    return 1;
}

TG_QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    for (int i = 0; i < argc; ++i) {
        if (!parse_option(argv[i])) {
            fprintf(stderr, "tg_cycles: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    if (g.out_path[0] == '\0') {
        fprintf(stderr, "tg_cycles: out=FILE is required\n");
        return -1;
    }
    if (info == NULL || info->target_name == NULL
        || (strcmp(info->target_name, "arm") != 0 && strcmp(info->target_name, "riscv32") != 0)) {
        fprintf(stderr, "tg_cycles: only the arm (Thumb) and riscv32 targets are known\n");
        return -1;
    }
    g.riscv = strcmp(info->target_name, "riscv32") == 0;
    g.vcpus_seen = info->system_emulation ? (unsigned)info->system.max_vcpus : 1u;
    FILE *f = fopen(g.out_path, "w"); /* truncate: one run, one file */
    if (f == NULL) {
        fprintf(stderr, "tg_cycles: cannot write %s\n", g.out_path);
        return -1;
    }
    fclose(f);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
