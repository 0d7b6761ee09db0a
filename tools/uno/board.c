/* An Arduino Uno (ATmega328P, 16 MHz) as a tiny-mnist board, built on the
 * library `tiny-mnist export --c` writes: every byte from USART0 goes to
 * tiny_mnist_link_byte(), every response frame goes back. So the host checks
 * it like any board: `tiny-mnist classify --device tcp:...` through
 * tools/uno/simulate.c, or a serial port on a real Uno.
 *
 * Pin 13 (PB5) is high while the link handles a frame's delimiter, which is
 * where it classifies: the simulator counts the cycles in between. */
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

static tiny_mnist_link link;

int main(void) {
    uint8_t response[TINY_MNIST_RESPONSE_MAX];
    /* 2 Mbaud (U2X, UBRR 0) in the simulator; a real Uno's USB bridge would want 115200 (UBRR 16). */
    UBRR0 = 0;
    UCSR0A = 1 << U2X0;
    UCSR0B = (1 << RXEN0) | (1 << TXEN0);
    UCSR0C = 3 << UCSZ00;
    DDRB |= 1 << DDB5;
    tiny_mnist_link_init(&link, "arduino-uno");
    for (;;) {
        const uint8_t byte = receive();
        size_t n, i;
        if (byte == 0) {
            PORTB |= 1 << PORTB5;
        }
        n = tiny_mnist_link_byte(&link, byte, response);
        PORTB &= (uint8_t)~(1 << PORTB5);
        for (i = 0; i < n; i++) {
            send(response[i]);
        }
    }
}
