/*
 * Counts guest instructions executed between two marker addresses, once per
 * pass: `start` is the first instruction of a marker function called just
 * before the measured code, `end` that of one called just after. Inside a
 * pass, the instructions between `pre_start` and `pre_end` (a second pair of
 * markers, entered any number of times) are also summed apart.
 *
 *   qemu-system-arm ... -plugin ./libinsn_count.so,start=0x1234,end=0x1240,pre_start=0x1250,pre_end=0x1260,out=counts.txt
 *
 * Writes one line per pass to `out`, as it goes: the pass's count, then the
 * inner pieces' sum. With `profile=FILE` it also rewrites FILE after each
 * pass with how often each instruction address ran so far in the whole run
 * (`ADDR COUNT` lines; addresses taken modulo 2 MB): where the counts go. (The
 * host stops the emulator with a signal, so nothing is left for an exit hook.) Every instruction adds one to a counter inline (no
 * callback); only the markers call back. Counts include the marker calls
 * themselves; an empty pass measures that overhead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-min.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t executed;
static uint64_t started_at, piece_started_at, pieces;
static uint64_t start_addr, end_addr, pre_start_addr, pre_end_addr;
static FILE *out;
/* Per halfword address, how often the instruction there ran (profile= only). */
#define PROFILE_SLOTS (1u << 20)
static uint64_t *profile;
static const char *profile_path;
/* The slots translated so far, each once: what a dump writes. */
static uint32_t *touched;
static size_t n_touched;
static unsigned char *seen;

static void write_profile(void) {
    FILE *dump = fopen(profile_path, "w");
    if (!dump) {
        return;
    }
    for (size_t i = 0; i < n_touched; i++) {
        fprintf(dump, "%#" PRIx64 " %" PRIu64 "\n", (uint64_t)touched[i] << 1, profile[touched[i]]);
    }
    fclose(dump);
}

static void on_start(unsigned int vcpu, void *data) {
    (void)vcpu;
    (void)data;
    started_at = executed;
    pieces = 0;
}

static void on_pre_start(unsigned int vcpu, void *data) {
    (void)vcpu;
    (void)data;
    piece_started_at = executed;
}

static void on_pre_end(unsigned int vcpu, void *data) {
    (void)vcpu;
    (void)data;
    pieces += executed - piece_started_at;
}

static void on_end(unsigned int vcpu, void *data) {
    (void)vcpu;
    (void)data;
    fprintf(out, "%" PRIu64 " %" PRIu64 "\n", executed - started_at, pieces);
    if (profile) {
        write_profile();
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        /* Callbacks run before the instruction; the inline add too, in order. */
        if (addr == start_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (addr == pre_start_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_pre_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
        if (profile) {
            uint32_t index = (uint32_t)((addr >> 1) & (PROFILE_SLOTS - 1));
            if (!seen[index]) {
                seen[index] = 1;
                touched[n_touched++] = index;
            }
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &profile[index], 1);
        }
        if (addr == end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (addr == pre_end_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_pre_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
    }
}

static void at_qemu_exit(qemu_plugin_id_t id, void *data) {
    (void)id;
    (void)data;
    fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "start=", 6) == 0) {
            start_addr = strtoull(argv[i] + 6, NULL, 0);
        } else if (strncmp(argv[i], "end=", 4) == 0) {
            end_addr = strtoull(argv[i] + 4, NULL, 0);
        } else if (strncmp(argv[i], "pre_start=", 10) == 0) {
            pre_start_addr = strtoull(argv[i] + 10, NULL, 0);
        } else if (strncmp(argv[i], "pre_end=", 8) == 0) {
            pre_end_addr = strtoull(argv[i] + 8, NULL, 0);
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            path = argv[i] + 4;
        } else if (strncmp(argv[i], "profile=", 8) == 0) {
            profile_path = argv[i] + 8;
            profile = calloc(PROFILE_SLOTS, sizeof *profile);
            touched = calloc(PROFILE_SLOTS, sizeof *touched);
            seen = calloc(PROFILE_SLOTS, 1);
            if (!profile || !touched || !seen) {
                perror("insn_count: profile");
                return -1;
            }
        }
    }
    if (!start_addr || !end_addr || !pre_start_addr || !pre_end_addr || !path) {
        fprintf(stderr, "insn_count: needs start=ADDR,end=ADDR,pre_start=ADDR,pre_end=ADDR,out=FILE\n");
        return -1;
    }
    out = fopen(path, "w");
    if (!out) {
        perror(path);
        return -1;
    }
    /* One count per line, flushed as it goes, so a killed QEMU still leaves them. */
    setvbuf(out, NULL, _IOLBF, 0);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_qemu_exit, NULL);
    return 0;
}
