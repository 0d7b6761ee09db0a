/* An Arduino Uno (ATmega328P, 16 MHz) classifying digits with the library
 * `tiny-mnist export --c` writes, for `cargo xtask uno` under simavr.
 *
 * Over USART0: per image, a 2-byte little-endian length and the pixels in
 * the form a tiny-mnist board receives (784 raw bytes, or zero runs), decoded
 * as they arrive (the Uno's 2 KB of RAM hold the image once, no frame
 * buffer); the answer goes back as 44 bytes: the digit as a 32-bit
 * little-endian number and the ten probabilities' bit patterns, or a digit of
 * 255 for pixels that do not make 784. Pin 13 (PB5) is high exactly while
 * tiny_mnist_classify() runs: the simulator counts the cycles in between. */
#include <avr/io.h>
#include <stdint.h>

#include "tiny_mnist.h"

static uint8_t receive(void) {
    while (!(UCSR0A & (1 << RXC0))) {
    }
    return UDR0;
}

static void send(uint8_t byte) {
    while (!(UCSR0A & (1 << UDRE0))) {
    }
    UDR0 = byte;
}

static uint8_t image[TINY_MNIST_INPUT];

/* Reads `length` pixel bytes into `image`; 0 if they make exactly 784 pixels. */
static int8_t read_pixels(uint16_t length) {
    uint16_t at = 0, b;
    int8_t bad = 0;
    for (b = 0; b < length; b++) {
        const uint8_t v = receive();
        if (length == TINY_MNIST_INPUT || v != 0) {
            if (at < TINY_MNIST_INPUT) {
                image[at] = v;
            }
            at++;
        } else if (++b < length) {
            uint8_t run = receive();
            if (run == 0) {
                bad = 1;
            }
            for (; run > 0; run--) {
                if (at < TINY_MNIST_INPUT) {
                    image[at] = 0;
                }
                at++;
            }
        } else {
            bad = 1;
        }
    }
    return bad || at != TINY_MNIST_INPUT ? -1 : 0;
}

int main(void) {
    /* 2 Mbaud (U2X, UBRR 0): the link costs little beside the inference. */
    UBRR0 = 0;
    UCSR0A = 1 << U2X0;
    UCSR0B = (1 << RXEN0) | (1 << TXEN0);
    UCSR0C = 3 << UCSZ00;
    DDRB |= 1 << DDB5;
    for (;;) {
        tiny_mnist_result result;
        uint16_t length = receive();
        uint8_t k, i;
        length |= (uint16_t)receive() << 8;
        if (read_pixels(length) != 0) {
            result.digit = 0xff;
            for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
                result.probabilities[k] = 0.0f;
            }
        } else {
            PORTB |= 1 << PORTB5;
            tiny_mnist_classify(image, &result);
            PORTB &= (uint8_t)~(1 << PORTB5);
        }
        send(result.digit);
        send(0);
        send(0);
        send(0);
        for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
            const uint8_t *bytes = (const uint8_t *)&result.probabilities[k];
            for (i = 0; i < 4; i++) {
                send(bytes[i]);
            }
        }
    }
}
