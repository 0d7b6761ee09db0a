/* Feeds stdin to tiny_mnist_link_byte() byte by byte and writes every
 * response frame to stdout: the device side of the protocol, on the host. */
#include <stdio.h>

#include "tiny_mnist.h"

int main(void) {
    static tiny_mnist_link link;
    uint8_t response[TINY_MNIST_RESPONSE_MAX];
    int c;
    tiny_mnist_link_init(&link, "c-library");
    while ((c = getchar()) != EOF) {
        const size_t n = tiny_mnist_link_byte(&link, (uint8_t)c, response);
        if (n > 0 && fwrite(response, 1, n, stdout) != n) {
            return 1;
        }
    }
    return 0;
}
