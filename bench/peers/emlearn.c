/* emlearn's neural network (`eml_net.h`, from the emlearn package on PyPI)
 * running our f32 model: `emlearn_model.h` is what emlearn's own code
 * generator writes for it (see emlearn_model.py). emlearn takes float
 * features, so the bytes are scaled with the same table as ours first; its
 * own sums (bias added last), its softmax (newlib's expf and logf) and its
 * weights printed with six decimals make its probabilities differ from ours,
 * so `cargo xtask peers` compares its digits. */
#include <stdint.h>

#include "emlearn_model.h"
#include "model.h"
#include "peer.h"

static float features[PEER_INPUT];

void peer_classify(const uint8_t *frame, uint32_t len, struct peer_answer *answer) {
    (void)len; /* always the raw image */
    for (uint32_t i = 0; i < PEER_INPUT; i++) {
        features[i] = PIXEL_SCALE.v[frame[i]];
    }
    if (eml_net_predict_proba(&peer, features, PEER_INPUT, answer->probabilities, PEER_OUTPUT) != EmlOk) {
        answer->digit = UINT32_MAX;
        return;
    }
    answer->digit = (uint32_t)eml_net_argmax(answer->probabilities, PEER_OUTPUT);
}
