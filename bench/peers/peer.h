/* One peer implementation of the 784→10→10 network, as `cargo xtask peers`
 * builds it: `peer_classify` takes what our firmware receives (784 raw bytes,
 * or the zero-run form when shorter) and gives the digit and the ten
 * probabilities. The harness counts its instructions between markers. */
#ifndef PEER_H
#define PEER_H

#include <stdint.h>

#define PEER_INPUT 784
#define PEER_HIDDEN 10
#define PEER_OUTPUT 10

struct peer_answer {
    uint32_t digit;
    float probabilities[PEER_OUTPUT];
};

void peer_classify(const uint8_t *frame, uint32_t len, struct peer_answer *answer);

#endif
