/* Reads Classify pixel strings from stdin (each a 2-byte little-endian
 * length, then the bytes, raw or zero runs) and prints, per string, the
 * digit and the ten probabilities' bit patterns, or "malformed". */
#include <stdio.h>
#include <string.h>

#include "tiny_mnist.h"

int main(void) {
    static uint8_t pixels[65535], image[TINY_MNIST_INPUT];
    uint8_t length[2];
    while (fread(length, 1, 2, stdin) == 2) {
        const size_t n = (size_t)length[0] | (size_t)length[1] << 8;
        tiny_mnist_result result;
        int k;
        if (fread(pixels, 1, n, stdin) != n) {
            return 2;
        }
        if (tiny_mnist_unpack(pixels, n, image) != 0) {
            puts("malformed");
            continue;
        }
        tiny_mnist_classify(image, &result);
        printf("%u", result.digit);
        for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
            uint32_t bits;
            memcpy(&bits, &result.probabilities[k], sizeof bits);
            printf(" %08lx", (unsigned long)bits);
        }
        putchar('\n');
    }
    return 0;
}
