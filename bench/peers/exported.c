/* The library `tiny-mnist export --c` writes, as a peer: it receives the raw
 * image in our zero-run form (what a board receives) and does everything
 * itself, the model's preprocessing included, so its count is compared with
 * our firmware's network and preprocessing together. */
#include <stdint.h>

#include "peer.h"
#include "tiny_mnist.h"

void peer_classify(const uint8_t *frame, uint32_t len, struct peer_answer *answer) {
    uint8_t image[TINY_MNIST_INPUT];
    tiny_mnist_result result;
    if (tiny_mnist_unpack(frame, len, image) != 0) {
        answer->digit = 0xff;
        return;
    }
    tiny_mnist_classify(image, &result);
    answer->digit = result.digit;
    for (int k = 0; k < PEER_OUTPUT; k++) {
        answer->probabilities[k] = result.probabilities[k];
    }
}
