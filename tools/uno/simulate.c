/* Runs tools/uno/board.c's firmware on simavr's ATmega328P (cycle-accurate)
 * for `cargo xtask uno`: sends each image of IN (a u32 count, then per image
 * a u16 length and its bytes) over USART0, writes each 44-byte answer to
 * OUT, and prints the cycles of every inference (pin 13 high) and the lowest
 * stack pointer seen while one ran:
 *     simulate FIRMWARE.elf IN OUT
 * Output lines: "cycles N" per image, then "stack-low 0xADDR" and "ramend 0xADDR". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <simavr/avr_ioport.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>

static avr_t *avr;
static avr_irq_t *uart_in;
static int xoff = 1; /* until the UART says XON */
static const uint8_t *pending;
static size_t pending_left;
static uint8_t answer[44];
static size_t answer_len;
static int inferring;
static avr_cycle_count_t started;
static unsigned long long last_cycles;
static int finished_one;

static void feed(void) {
    while (!xoff && pending_left > 0) {
        pending_left--;
        avr_raise_irq(uart_in, *pending++);
    }
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)value, (void)param;
    xoff = 0;
    feed();
}

static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)value, (void)param;
    xoff = 1;
}

static void on_output(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)param;
    if (answer_len < sizeof answer) {
        answer[answer_len++] = (uint8_t)value;
    }
}

static void on_pin(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)param;
    if (value && !inferring) {
        inferring = 1;
        started = avr->cycle;
    } else if (!value && inferring) {
        inferring = 0;
        last_cycles = (unsigned long long)(avr->cycle - started);
        finished_one = 1;
    }
}

static uint16_t stack_pointer(void) {
    return (uint16_t)(avr->data[0x5d] | avr->data[0x5e] << 8);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: simulate FIRMWARE.elf IN OUT\n");
        return 2;
    }
    elf_firmware_t firmware;
    memset(&firmware, 0, sizeof firmware);
    if (elf_read_firmware(argv[1], &firmware) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    firmware.frequency = 16000000;
    strcpy(firmware.mmcu, "atmega328p");
    avr = avr_make_mcu_by_name(firmware.mmcu);
    if (!avr) {
        fprintf(stderr, "simavr has no atmega328p\n");
        return 1;
    }
    avr_init(avr);
    avr->log = 0;
    avr_load_firmware(avr, &firmware);
    uint32_t flags = 0; /* no console echo, no sleeping while the firmware polls */
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), on_output, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), IOPORT_IRQ_PIN5), on_pin, NULL);

    FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "wb");
    if (!in || !out) {
        fprintf(stderr, "cannot open %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    uint32_t count;
    if (fread(&count, 4, 1, in) != 1) {
        return 1;
    }
    uint16_t stack_low = 0xffff;
    static uint8_t record[2 + 784];
    for (uint32_t n = 0; n < count; n++) {
        uint16_t length;
        if (fread(&length, 2, 1, in) != 1 || length > 784 || fread(record + 2, 1, length, in) != length) {
            fprintf(stderr, "truncated input at image %u\n", n);
            return 1;
        }
        memcpy(record, &length, 2);
        pending = record;
        pending_left = 2u + length;
        answer_len = 0;
        finished_one = 0;
        feed();
        /* At most a billion cycles per image (a minute at 16 MHz): a hang is an error. */
        const avr_cycle_count_t limit = avr->cycle + 1000000000ull;
        while (answer_len < sizeof answer) {
            const int state = avr_run(avr);
            if (state == cpu_Done || state == cpu_Crashed) {
                fprintf(stderr, "the firmware stopped at image %u\n", n);
                return 1;
            }
            if (inferring) {
                const uint16_t sp = stack_pointer();
                stack_low = sp < stack_low ? sp : stack_low;
            }
            if (avr->cycle > limit) {
                fprintf(stderr, "no answer to image %u\n", n);
                return 1;
            }
            feed();
        }
        fwrite(answer, 1, sizeof answer, out);
        if (finished_one) {
            printf("cycles %llu\n", last_cycles);
        } else {
            printf("cycles 0\n");
        }
    }
    printf("stack-low 0x%04x\nramend 0x%04x\n", stack_low, avr->ramend);
    fclose(out);
    return 0;
}
