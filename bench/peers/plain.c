/* The network in plain C, as a careful C programmer would write it for a
 * microcontroller: one of three first-layer loops (`-DPEER_DENSE`: every
 * pixel; `-DPEER_SKIP`: the raw image's nonzero pixels; `-DPEER_ZERO_RUN`:
 * our zero-run frames, decoded on the fly), then the second layer and the
 * softmax. The arithmetic is the contract of `shared` (docs/format.md): the
 * same sums in the same order, Rust libm's `expf` ported below, and for an
 * int8 model (`model.h` defines MODEL_INT8) the integer softmax of §2.2. So
 * every answer can be compared bit for bit with the host's. */
#include <stdint.h>

#include "model.h"
#include "peer.h"

#if MODEL_INT8
typedef int32_t hidden_t;

static inline void add_pixel(hidden_t z[PEER_HIDDEN], uint32_t i, uint8_t pixel) {
    const int32_t x = pixel;
    for (int j = 0; j < PEER_HIDDEN; j++) {
        z[j] += x * W1[i][j];
    }
}
#else
typedef float hidden_t;

static inline void add_pixel(hidden_t z[PEER_HIDDEN], uint32_t i, uint8_t pixel) {
    const float x = PIXEL_SCALE.v[pixel];
    for (int j = 0; j < PEER_HIDDEN; j++) {
        z[j] = z[j] + x * W1.v[i][j];
    }
}
#endif

static inline void first_layer(const uint8_t *frame, uint32_t len, hidden_t z[PEER_HIDDEN]) {
#if defined(PEER_DENSE)
    (void)len;
    for (uint32_t i = 0; i < PEER_INPUT; i++) {
        add_pixel(z, i, frame[i]);
    }
#elif defined(PEER_SKIP)
    (void)len;
    for (uint32_t i = 0; i < PEER_INPUT; i++) {
        if (frame[i] != 0) {
            add_pixel(z, i, frame[i]);
        }
    }
#elif defined(PEER_ZERO_RUN)
    if (len == PEER_INPUT) { /* sent raw: it was not shorter in zero runs */
        for (uint32_t i = 0; i < PEER_INPUT; i++) {
            if (frame[i] != 0) {
                add_pixel(z, i, frame[i]);
            }
        }
        return;
    }
    /* A nonzero byte is a pixel; a 0 is followed by the length of a zero run. */
    uint32_t at = 0;
    for (uint32_t b = 0; b < len; b++) {
        const uint8_t v = frame[b];
        if (v != 0) {
            if (at < PEER_INPUT) {
                add_pixel(z, at, v);
            }
            at++;
        } else if (++b < len) {
            at += frame[b];
        }
    }
#else
#error "choose a first layer: -DPEER_DENSE, -DPEER_SKIP or -DPEER_ZERO_RUN"
#endif
}

#if MODEL_INT8
/* The integer softmax of docs/format.md §2.2 (shared/src/int_softmax.rs). */
#define LOG2E_Q31 3098164009ull
#define LN2_Q31 1488522236ull
#define FRAC 24
#define CAP (32ull << FRAC)

static const uint32_t TABLE[32] = {
    2147483648u, 2101467502u, 2056437387u, 2012372174u, 1969251188u, 1927054196u, 1885761398u, 1845353420u,
    1805811301u, 1767116489u, 1729250827u, 1692196547u, 1655936265u, 1620452965u, 1585730000u, 1551751076u,
    1518500250u, 1485961921u, 1454120821u, 1422962010u, 1392470869u, 1362633090u, 1333434672u, 1304861917u,
    1276901417u, 1249540052u, 1222764986u, 1196563654u, 1170923762u, 1145833280u, 1121280436u, 1097253708u,
};

static uint64_t exponent(uint64_t d, uint64_t c, int32_t e) {
    const int32_t leading = d ? __builtin_clzll(d) : 64;
    const uint32_t beyond = leading < 32 ? (uint32_t)(32 - leading) : 0;
    const uint64_t product = (d >> beyond) * c;
    const int32_t shift = e + (FRAC - 7) + (int32_t)beyond;
    if (product == 0) {
        return 0;
    }
    if (shift >= 0) {
        if (shift >= 64 || product >= (CAP >> shift)) {
            return CAP;
        }
        return product << shift;
    }
    const uint64_t v = -shift >= 64 ? 0 : product >> -shift;
    return v < CAP ? v : CAP;
}

static uint64_t fraction(uint64_t r) {
    const uint64_t a = (r * LN2_Q31) >> FRAC;
    const uint64_t a2 = (a * a) >> 31;
    const uint64_t a3 = (a2 * a) >> 31;
    const uint64_t a4 = (a3 * a) >> 31;
    return ((1ull << 31) + (uint32_t)a2 / 2 + (uint32_t)a4 / 24) - (a + (uint32_t)a3 / 6);
}

static uint64_t power_of_half(uint64_t x) {
    const uint64_t whole = x >> FRAC;
    const uint64_t t = TABLE[(x >> (FRAC - 5)) & 31];
    const uint64_t v = (t * fraction(x & ((1ull << (FRAC - 5)) - 1))) >> 31;
    return whole >= 64 ? 0 : v >> whole;
}

static float q32_to_f32(uint64_t q) {
    if (q == 0) {
        return 0.0f;
    }
    if (q > UINT32_MAX) {
        return 1.0f;
    }
    union { float f; uint32_t u; } v = {.f = (float)(uint32_t)q};
    v.u -= 32u << 23;
    return v.f;
}

static void softmax(const int64_t acc2[PEER_OUTPUT], float p[PEER_OUTPUT]) {
    const uint32_t bits = OUTPUT_SCALE_BITS;
    const uint32_t field = (bits >> 23) & 0xff;
    uint64_t c = 0;
    int32_t e = 0;
    if (!(bits >> 31) && field != 0 && field != 0xff) {
        c = ((uint64_t)((bits & 0x7fffff) | 0x800000) * LOG2E_Q31) >> 24;
        e = (int32_t)field - 150;
    }
    int64_t best = acc2[0];
    for (int k = 1; k < PEER_OUTPUT; k++) {
        best = acc2[k] > best ? acc2[k] : best;
    }
    uint64_t exps[PEER_OUTPUT], sum = 0;
    for (int k = 0; k < PEER_OUTPUT; k++) {
        exps[k] = power_of_half(exponent((uint64_t)best - (uint64_t)acc2[k], c, e));
        sum += exps[k];
    }
    const uint64_t reciprocal = (1ull << 62) / sum;
    for (int k = 0; k < PEER_OUTPUT; k++) {
        p[k] = q32_to_f32((exps[k] * reciprocal) >> 30);
    }
}

void peer_classify(const uint8_t *frame, uint32_t len, struct peer_answer *answer) {
    int32_t acc1[PEER_HIDDEN];
    for (int j = 0; j < PEER_HIDDEN; j++) {
        acc1[j] = B1[j];
    }
    first_layer(frame, len, acc1);
    int64_t acc2[PEER_OUTPUT];
    uint32_t digit = 0;
    for (int k = 0; k < PEER_OUTPUT; k++) {
        int64_t sum = B2[k];
        for (int j = 0; j < PEER_HIDDEN; j++) {
            sum += (int64_t)(acc1[j] > 0 ? acc1[j] : 0) * W2[k][j];
        }
        acc2[k] = sum;
        if (sum > acc2[digit]) {
            digit = (uint32_t)k;
        }
    }
    answer->digit = digit;
    softmax(acc2, answer->probabilities);
}

#else
/* Rust libm's expf (FreeBSD's e_expf.c), with its scalbnf, operation for operation. */
static float from_bits(uint32_t u) {
    union { uint32_t u; float f; } v = {.u = u};
    return v.f;
}

static uint32_t to_bits(float f) {
    union { float f; uint32_t u; } v = {.f = f};
    return v.u;
}

static float scalbnf_(float x, int n) {
    const float two127 = from_bits(0x7f000000), down = from_bits(0x00800000) * from_bits(0x4b800000);
    if (n > 127) {
        x *= two127;
        n -= 127;
        if (n > 127) {
            x *= two127;
            n -= 127;
            if (n > 127) {
                n = 127;
            }
        }
    } else if (n < -126) {
        x *= down;
        n += 102;
        if (n < -126) {
            x *= down;
            n += 102;
            if (n < -126) {
                n = -126;
            }
        }
    }
    return x * from_bits((uint32_t)(0x7f + n) << 23);
}

static float expf_(float x) {
    static const float half[2] = {0.5f, -0.5f};
    const float ln2_hi = 6.9314575195e-01f, ln2_lo = 1.4286067653e-06f, inv_ln2 = 1.4426950216e+00f;
    const float p1 = 1.6666625440e-1f, p2 = -2.7667332906e-3f;
    uint32_t hx = to_bits(x);
    const int sign = (int)(hx >> 31);
    hx &= 0x7fffffff;
    if (hx >= 0x42aeac50) {
        if (hx > 0x7f800000) {
            return x;
        }
        if (hx >= 0x42b17218 && !sign) {
            return x * from_bits(0x7f000000);
        }
        if (sign && hx >= 0x42cff1b5) {
            return 0.0f;
        }
    }
    int k;
    float hi, lo;
    if (hx > 0x3eb17218) {
        if (hx > 0x3f851592) {
            k = (int)(inv_ln2 * x + half[sign]);
        } else {
            k = 1 - sign - sign;
        }
        const float kf = (float)k;
        hi = x - kf * ln2_hi;
        lo = kf * ln2_lo;
        x = hi - lo;
    } else if (hx > 0x39000000) {
        k = 0;
        hi = x;
        lo = 0.0f;
    } else {
        return 1.0f + x;
    }
    const float xx = x * x;
    const float c = x - xx * (p1 + xx * p2);
    const float y = 1.0f + (x * c / (2.0f - c) - lo + hi);
    return k == 0 ? y : scalbnf_(y, k);
}

void peer_classify(const uint8_t *frame, uint32_t len, struct peer_answer *answer) {
    float z1[PEER_HIDDEN];
    for (int j = 0; j < PEER_HIDDEN; j++) {
        z1[j] = B1.v[j];
    }
    first_layer(frame, len, z1);
    float z2[PEER_OUTPUT];
    uint32_t digit = 0;
    float max = -__builtin_inff();
    for (int k = 0; k < PEER_OUTPUT; k++) {
        float sum = B2.v[k];
        for (int j = 0; j < PEER_HIDDEN; j++) {
            sum = sum + W2.v[k][j] * (z1[j] > 0.0f ? z1[j] : 0.0f);
        }
        z2[k] = sum;
        if (sum > max) {
            max = sum;
            digit = (uint32_t)k;
        }
    }
    float total = 0.0f;
    for (int k = 0; k < PEER_OUTPUT; k++) {
        z2[k] = expf_(z2[k] - max);
        total += z2[k];
    }
    for (int k = 0; k < PEER_OUTPUT; k++) {
        answer->probabilities[k] = z2[k] / total;
    }
    answer->digit = digit;
}
#endif
