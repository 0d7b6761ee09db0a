/* Runs tools/uno/board.c's firmware on simavr's ATmega328P (cycle-exact) as
 * a tiny-mnist board on a TCP port, for `cargo xtask uno`:
 *     simulate FIRMWARE.elf REPORT
 * It listens on 127.0.0.1 (any free port, printed as "listening PORT" on
 * stdout), serves one client (the host's board client: bytes in go to
 * USART0, bytes out come back) and, when it leaves, writes REPORT: one line
 * "frame CYCLES VARIANT" per delimiter the firmware handled (the cycles pin
 * 13 was high, and the response's postcard variant: 1 is a Prediction, -1 no
 * response), then "stack-low 0xADDR" (the lowest stack pointer while pin 13
 * was high) and "ramend 0xADDR". */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simavr/avr_ioport.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>

static avr_t *avr;
static avr_irq_t *uart_in;
static int xoff = 1; /* until the UART says XON */
static uint8_t inbox[4096];
static size_t inbox_start, inbox_end;
static uint8_t outbox[4096];
static size_t outbox_len;
static int client = -1;

/* Pin 13's pulses, and which response each one's frame got. */
#define MAX_FRAMES 100000
static unsigned long long frame_cycles[MAX_FRAMES];
static int frame_variant[MAX_FRAMES];
static size_t frames;
static int pulsing;
static avr_cycle_count_t pulse_start;
static uint16_t stack_low = 0xffff;
/* The response frame being sent: its first bytes tell its variant. */
static uint8_t response_head[2];
static size_t response_len;

static void feed(void) {
    while (!xoff && inbox_start < inbox_end) {
        avr_raise_irq(uart_in, inbox[inbox_start++]);
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

static void flush_outbox(void) {
    size_t sent = 0;
    while (sent < outbox_len) {
        const ssize_t n = send(client, outbox + sent, outbox_len - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            break; /* the client left: the main loop notices */
        }
        sent += (size_t)n;
    }
    outbox_len = 0;
}

static void on_output(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)param;
    const uint8_t byte = (uint8_t)value;
    if (response_len < 2) {
        response_head[response_len] = byte;
    }
    response_len++;
    if (byte == 0) {
        /* COBS: a first code of 1 means the message starts with a zero byte. */
        if (frames > 0 && frame_variant[frames - 1] == -1) {
            frame_variant[frames - 1] = response_head[0] == 1 ? 0 : response_head[1];
        }
        response_len = 0;
    }
    outbox[outbox_len++] = byte;
    if (byte == 0 || outbox_len == sizeof outbox) {
        flush_outbox();
    }
}

static void on_pin(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq, (void)param;
    if (value && !pulsing) {
        pulsing = 1;
        pulse_start = avr->cycle;
    } else if (!value && pulsing) {
        pulsing = 0;
        if (frames < MAX_FRAMES) {
            frame_cycles[frames] = (unsigned long long)(avr->cycle - pulse_start);
            frame_variant[frames] = -1;
            frames++;
        }
    }
}

static uint16_t stack_pointer(void) {
    return (uint16_t)(avr->data[0x5d] | avr->data[0x5e] << 8);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: simulate FIRMWARE.elf REPORT\n");
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

    const int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t address_len = sizeof address;
    if (server < 0 || bind(server, (struct sockaddr *)&address, sizeof address) != 0 || listen(server, 1) != 0 ||
        getsockname(server, (struct sockaddr *)&address, &address_len) != 0) {
        perror("cannot listen");
        return 1;
    }
    printf("listening %d\n", ntohs(address.sin_port));
    fflush(stdout);
    client = accept(server, NULL, NULL);
    if (client < 0) {
        perror("accept");
        return 1;
    }
    fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);

    for (unsigned long step = 0;; step++) {
        const int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "the firmware stopped\n");
            return 1;
        }
        if (pulsing) {
            const uint16_t sp = stack_pointer();
            stack_low = sp < stack_low ? sp : stack_low;
        }
        /* The socket every 256 instructions while the inbox is empty. */
        if (inbox_start == inbox_end && (step & 255) == 0) {
            const ssize_t n = recv(client, inbox, sizeof inbox, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                break; /* the client left */
            }
            if (n > 0) {
                inbox_start = 0;
                inbox_end = (size_t)n;
            }
        }
        feed();
    }
    FILE *report = fopen(argv[2], "w");
    if (!report) {
        perror("cannot write the report");
        return 1;
    }
    for (size_t i = 0; i < frames; i++) {
        fprintf(report, "frame %llu %d\n", frame_cycles[i], frame_variant[i]);
    }
    fprintf(report, "stack-low 0x%04x\nramend 0x%04x\n", stack_low, avr->ramend);
    fclose(report);
    return 0;
}
