/* Runs one peer under QEMU (lm3s6965evb or mps2-an386) for `cargo xtask peers`:
 * reads the network's inputs from `peer-in.bin` through semihosting, calls
 * `peer_classify` on each between the counting plugin's markers, and writes
 * each answer to `peer-out.bin`.
 *
 * peer-in.bin:  u32 count, then per image a u16 length and that many bytes.
 * peer-out.bin: per image a u32 digit and ten f32 probabilities (44 bytes). */
#include <stdint.h>

#include "peer.h"

/* The counting plugin's markers (tools/insn-count): it counts the
 * instructions from the first one's entry to the second one's. `noipa` keeps
 * gcc from merging or inlining them, so each has its own address. */
__attribute__((noipa)) void inference_start(void) { __asm volatile("" ::: "memory"); }
__attribute__((noipa)) void inference_end(void) { __asm volatile("nop" ::: "memory"); }
/* The plugin also takes a preprocessing pair; peers have no preprocessing. */
__attribute__((noipa)) void preprocess_start(void) { __asm volatile("nop\n nop" ::: "memory"); }
__attribute__((noipa)) void preprocess_end(void) { __asm volatile("nop\n nop\n nop" ::: "memory"); }

enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_EXIT = 0x18 };
enum { MODE_RB = 1, MODE_WB = 5 };
enum { EXIT_OK = 0x20026, EXIT_ERROR = 0x20023 };

static int semihost(int op, const void *arg) {
    register int r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

__attribute__((noreturn)) static void finish(int reason) {
    semihost(SYS_EXIT, (const void *)(uintptr_t)reason);
    for (;;) {
    }
}

static int open_file(const char *name, int mode) {
    uint32_t len = 0;
    while (name[len]) {
        len++;
    }
    const uint32_t args[3] = {(uint32_t)(uintptr_t)name, (uint32_t)mode, len};
    return semihost(SYS_OPEN, args);
}

/* Reads exactly `len` bytes, or ends the run with an error. */
static void read_exact(int fd, void *buf, uint32_t len) {
    const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    if (semihost(SYS_READ, args) != 0) {
        finish(EXIT_ERROR);
    }
}

static void write_all(int fd, const void *buf, uint32_t len) {
    const uint32_t args[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    if (semihost(SYS_WRITE, args) != 0) {
        finish(EXIT_ERROR);
    }
}

static uint8_t frame[PEER_INPUT];

static void run(void) {
    const int in = open_file("peer-in.bin", MODE_RB);
    const int out = open_file("peer-out.bin", MODE_WB);
    if (in < 0 || out < 0) {
        finish(EXIT_ERROR);
    }
    /* An empty pass first: the markers' own cost, which the counts subtract. */
    inference_start();
    inference_end();
    uint32_t count;
    read_exact(in, &count, sizeof count);
    for (uint32_t n = 0; n < count; n++) {
        uint16_t len;
        read_exact(in, &len, sizeof len);
        if (len == 0 || len > PEER_INPUT) {
            finish(EXIT_ERROR);
        }
        read_exact(in, frame, len);
        struct peer_answer answer;
        inference_start();
        peer_classify(frame, len, &answer);
        inference_end();
        write_all(out, &answer, sizeof answer);
    }
    semihost(SYS_CLOSE, (const uint32_t[1]){(uint32_t)out});
}

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;

__attribute__((noreturn)) void reset_handler(void) {
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11, the FPU. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");
#endif
    run();
    finish(EXIT_OK);
}

__attribute__((noreturn)) static void fault_handler(void) { finish(EXIT_ERROR); }

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
};
