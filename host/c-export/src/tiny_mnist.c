/* tiny_mnist.c: the 784 -> 10 -> 10 digit classifier of tiny-mnist in C99,
 * written from docs/format.md section 2: the model's preprocessing (none,
 * deskew, or stroke maps), the network (f32 or int8) and its softmax, with
 * the host's bits. The model itself is in tiny_mnist.h (its kind) and
 * tiny_mnist_weights.c (its numbers). No heap, no libm, no global state.
 *
 * Integer types are spelled out everywhere: an int is 16 bits on AVR. */
#include <float.h>
#include <stddef.h>
#include <stdint.h>

#include "tiny_mnist.h"

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && !TINY_MNIST_INT8
#error "an f32 model needs float arithmetic in float (FLT_EVAL_METHOD 0: SSE, an FPU, soft-float), not x87's excess precision"
#endif

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Kept out of line: fewer bytes of flash, and avr-gcc 5.4 runs out of
 * registers (an internal error) with the 64-bit softmax steps inlined. */
#if defined(__GNUC__)
#define TM_OUT_OF_LINE __attribute__((noinline))
#else
#define TM_OUT_OF_LINE
#endif

#define TM_SIDE 28
#define TM_ONE INT64_C(65536)

/* ---- Reading the weights (from flash with PROGMEM on AVR) ---- */

#if TINY_MNIST_INT8
static int8_t tm_i8(const int8_t *at) {
#ifdef __AVR__
    return (int8_t)pgm_read_byte(at);
#else
    return *at;
#endif
}
#endif

static uint32_t tm_u32(const uint32_t *at) {
#ifdef __AVR__
    return pgm_read_dword(at);
#else
    return *at;
#endif
}

static float tm_float(uint32_t bits) {
    union { uint32_t u; float f; } v;
    v.u = bits;
    return v.f;
}

static uint32_t tm_bits(float f) {
    union { float f; uint32_t u; } v;
    v.f = f;
    return v.u;
}

/* ---- Integer helpers (section 2.0's conventions) ---- */
#if TINY_MNIST_PREPROCESSING != 0

/* a >> n rounding toward minus infinity, for any sign (C leaves >> of a
 * negative number to the compiler). */
static int64_t tm_asr(int64_t a, unsigned n) {
    return a >= 0 ? a >> n : -(int64_t)((uint64_t)(-(a + 1)) >> n) - 1;
}

static uint64_t tm_isqrt(uint64_t v) {
    uint64_t root = 0, bit = UINT64_C(1) << 62;
    while (bit > v) {
        bit >>= 2;
    }
    while (bit != 0) {
        if (v >= root + bit) {
            v -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

static int64_t tm_clamp(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}
#endif

/* ---- The network's first layer, fed one input byte at a time in index order ---- */

#if TINY_MNIST_INT8
typedef int32_t tm_hidden;
#else
typedef float tm_hidden;
#endif

static void tm_first_layer_start(tm_hidden z[TINY_MNIST_HIDDEN]) {
    int j;
    for (j = 0; j < TINY_MNIST_HIDDEN; j++) {
#if TINY_MNIST_INT8
        z[j] = (int32_t)tm_u32((const uint32_t *)&tiny_mnist_b1[j]);
#else
        z[j] = tm_float(tm_u32(&tiny_mnist_b1[j]));
#endif
    }
}

/* Section 2.1 step 2 and 2.2 step 1: a zero input is skipped, not added as 0 * w. */
static void tm_first_layer_add(tm_hidden z[TINY_MNIST_HIDDEN], uint16_t i, uint8_t p) {
    int j;
    if (p == 0) {
        return;
    }
#if TINY_MNIST_INT8
    for (j = 0; j < TINY_MNIST_HIDDEN; j++) {
        z[j] += (int32_t)p * tm_i8(&tiny_mnist_w1[i][j]);
    }
#else
    {
        const float x = (float)p / 255.0f;
        for (j = 0; j < TINY_MNIST_HIDDEN; j++) {
            const float product = x * tm_float(tm_u32(&tiny_mnist_w1[i][j]));
            z[j] = z[j] + product;
        }
    }
#endif
}

/* ---- Preprocessing: section 2.0 (deskew) and 2.3 (stroke maps) ---- */

#if TINY_MNIST_PREPROCESSING != 0
/* Where output pixel (xo, yo) samples the source: start and step, Q16. */
typedef struct {
    int64_t cx, cy, k, kx, alpha;
} tm_plan;

/* Steps 1-4; 0 if the image has no ink. `wide`: section 2.3's width scale kx. */
static int tm_measure(const uint8_t image[TINY_MNIST_INPUT], int wide, tm_plan *plan) {
    /* Each sum fits 32 bits (at most 784 * 255 * 27 * 27 < 2^28); their products need 64. */
    int32_t m32 = 0, sx32 = 0, sy32 = 0, sxy32 = 0, syy32 = 0, sxx32 = 0;
    int64_t m, sx, sy, sxy, syy, sxx, m11, m02;
    int32_t x, y;
    for (y = 0; y < TM_SIDE; y++) {
        for (x = 0; x < TM_SIDE; x++) {
            const int32_t p = image[y * TM_SIDE + x];
            if (p != 0) {
                m32 += p;
                sx32 += p * x;
                sy32 += p * y;
                sxy32 += p * x * y;
                syy32 += p * y * y;
                sxx32 += p * x * x;
            }
        }
    }
    if (m32 == 0) {
        return 0;
    }
    m = m32, sx = sx32, sy = sy32, sxy = sxy32, syy = syy32, sxx = sxx32;
    plan->cx = sx * TM_ONE / m;
    plan->cy = sy * TM_ONE / m;
    m11 = m * sxy - sx * sy;
    m02 = m * syy - sy * sy;
    plan->alpha = m02 > 0 ? tm_clamp(m11 * TM_ONE / m02, -TM_ONE, TM_ONE) : 0;
    plan->k = tm_clamp((int64_t)(tm_isqrt((uint64_t)m02) << 32) / (m * 327680), TM_ONE / 2, 2 * TM_ONE);
    plan->kx = plan->k;
    if (wide) {
        const int64_t m20 = m * sxx - sx * sx;
        const int64_t a = plan->alpha;
        int64_t t = m20 - tm_asr(2 * a * m11, 16) + tm_asr(a * tm_asr(a * m02, 16), 16);
        int64_t kx;
        t = t > 0 ? t : 0;
        kx = (int64_t)(tm_isqrt((uint64_t)t) << 32) / (m * 229376);
        plan->kx = tm_clamp(kx, 7 * plan->k / 10, 16 * plan->k / 10);
    }
    return 1;
}

static int32_t tm_at(const uint8_t image[TINY_MNIST_INPUT], int32_t x, int32_t y) {
    return x < 0 || y < 0 || x >= TM_SIDE || y >= TM_SIDE ? 0 : (int32_t)image[y * TM_SIDE + x];
}

/* a >> n rounding toward minus infinity, in 32 bits. */
static int32_t tm_asr32(int32_t a, unsigned n) {
    return a >= 0 ? a >> n : -(int32_t)((uint32_t)(-(a + 1)) >> n) - 1;
}

/* Step 6: the source at (xs, ys), Q16, with 8-bit bilinear weights.
 * Coordinates stay within +-2^23 (k <= 2, alpha <= 1, centres inside). */
static uint8_t tm_sample(const uint8_t image[TINY_MNIST_INPUT], int32_t xs, int32_t ys) {
    const int32_t x0 = tm_asr32(xs, 16), y0 = tm_asr32(ys, 16);
    const int32_t fx = tm_asr32(xs, 8) & 255, fy = tm_asr32(ys, 8) & 255;
    const int32_t top = tm_at(image, x0, y0) * (256 - fx) + tm_at(image, x0 + 1, y0) * fx;
    const int32_t bottom = tm_at(image, x0, y0 + 1) * (256 - fx) + tm_at(image, x0 + 1, y0 + 1) * fx;
    return (uint8_t)((top * (256 - fy) + bottom * fy + INT32_C(32768)) >> 16);
}

/* Step 5: output row yo (0-27) of the deskewed image; the row's start in
 * 64 bits, then 32 bits along it. */
static void tm_deskewed_row(const uint8_t image[TINY_MNIST_INPUT], const tm_plan *plan, int yo, uint8_t row[TM_SIDE]) {
    const int64_t ys = plan->cy + tm_asr(plan->k * ((int64_t)yo * TM_ONE - 14 * TM_ONE), 16);
    int32_t xs = (int32_t)(plan->cx + tm_asr(plan->kx * (-14 * TM_ONE), 16) + tm_asr(plan->alpha * (ys - plan->cy), 16));
    const int32_t step = (int32_t)plan->kx;
    int xo;
    for (xo = 0; xo < TM_SIDE; xo++) {
        row[xo] = tm_sample(image, xs, (int32_t)ys);
        xs += step;
    }
}
#endif

#if TINY_MNIST_PREPROCESSING == 2
/* Directions as the table the stroke maps step through: COS then SIN. */
static TINY_MNIST_FLASH const int16_t TM_DIRECTIONS[2][16] = {
    {128, 118, 91, 49, 0, -49, -91, -118, -128, -118, -91, -49, 0, 49, 91, 118},
    {0, 49, 91, 118, 128, 118, 91, 49, 0, -49, -91, -118, -128, -118, -91, -49},
};

static int32_t tm_direction(int axis, int k) {
#ifdef __AVR__
    return (int16_t)pgm_read_word(&TM_DIRECTIONS[axis][k]);
#else
    return TM_DIRECTIONS[axis][k];
#endif
}

/* Section 2.3, one cell row (r) at a time from the six deskewed rows it
 * needs, 7 cells of 16 bytes, straight into the first layer. */
static void tm_stroke_maps(const uint8_t image[TINY_MNIST_INPUT], tm_hidden z[TINY_MNIST_HIDDEN]) {
    uint8_t rows[6][TM_SIDE + 2]; /* rows 4r-1 .. 4r+4, a zero column on each side */
    tm_plan plan;
    int r, c, i, k;
    if (!tm_measure(image, 1, &plan)) {
        return; /* every byte 0: nothing to add */
    }
    for (r = 0; r < 7; r++) {
        for (i = 0; i < 6; i++) {
            const int y = 4 * r - 1 + i;
            rows[i][0] = 0;
            rows[i][TM_SIDE + 1] = 0;
            if (y < 0 || y >= TM_SIDE) {
                for (k = 1; k <= TM_SIDE; k++) {
                    rows[i][k] = 0;
                }
            } else {
                tm_deskewed_row(image, &plan, y, &rows[i][1]);
            }
        }
        for (c = 0; c < 7; c++) {
            int32_t sums[16] = {0};
            int dy, dx;
            for (dy = 1; dy <= 4; dy++) {
                for (dx = 1; dx <= 4; dx++) {
                    const int x = 4 * c + dx; /* padded column */
                    const int32_t gx = (int32_t)rows[dy][x + 1] - rows[dy][x - 1];
                    const int32_t gy = (int32_t)rows[dy + 1][x] - rows[dy - 1][x];
                    int32_t p[16], strongest;
                    if (gx == 0 && gy == 0) {
                        continue; /* every projection 0, every response 0 */
                    }
                    strongest = INT32_MIN;
                    for (k = 0; k < 16; k++) {
                        p[k] = gx * tm_direction(0, k) + gy * tm_direction(1, k);
                        strongest = p[k] > strongest ? p[k] : strongest;
                    }
                    for (k = 0; k < 16; k++) {
                        const int32_t response = 4 * p[k] - 3 * strongest;
                        sums[k] += response > 0 ? response : 0;
                    }
                }
            }
            for (k = 0; k < 16; k++) {
                const int32_t b = (sums[k] + 256) >> 9;
                tm_first_layer_add(z, (uint16_t)((7 * r + c) * 16 + k), (uint8_t)(b < 255 ? b : 255));
            }
        }
    }
}
#endif

/* The model's preprocessing and the first layer, in index order. */
static void tm_first_layer(const uint8_t image[TINY_MNIST_INPUT], tm_hidden z[TINY_MNIST_HIDDEN]) {
    tm_first_layer_start(z);
#if TINY_MNIST_PREPROCESSING == 2
    tm_stroke_maps(image, z);
#else
    {
        uint16_t i;
#if TINY_MNIST_PREPROCESSING == 1
        tm_plan plan;
        if (tm_measure(image, 0, &plan)) {
            uint8_t row[TM_SIDE];
            int y, x;
            for (y = 0; y < TM_SIDE; y++) {
                tm_deskewed_row(image, &plan, y, row);
                for (x = 0; x < TM_SIDE; x++) {
                    tm_first_layer_add(z, (uint16_t)(y * TM_SIDE + x), row[x]);
                }
            }
            return;
        }
#endif
        /* No preprocessing, or no ink to deskew: the image as it is. */
        for (i = 0; i < TINY_MNIST_INPUT; i++) {
            tm_first_layer_add(z, i, image[i]);
        }
    }
#endif
}

#if TINY_MNIST_INT8
/* ---- Section 2.2: the second layer and the softmax, in integers ---- */

static TINY_MNIST_FLASH const uint32_t TM_TABLE[32] = {
    UINT32_C(2147483648), UINT32_C(2101467502), UINT32_C(2056437387), UINT32_C(2012372174),
    UINT32_C(1969251188), UINT32_C(1927054196), UINT32_C(1885761398), UINT32_C(1845353420),
    UINT32_C(1805811301), UINT32_C(1767116489), UINT32_C(1729250827), UINT32_C(1692196547),
    UINT32_C(1655936265), UINT32_C(1620452965), UINT32_C(1585730000), UINT32_C(1551751076),
    UINT32_C(1518500250), UINT32_C(1485961921), UINT32_C(1454120821), UINT32_C(1422962010),
    UINT32_C(1392470869), UINT32_C(1362633090), UINT32_C(1333434672), UINT32_C(1304861917),
    UINT32_C(1276901417), UINT32_C(1249540052), UINT32_C(1222764986), UINT32_C(1196563654),
    UINT32_C(1170923762), UINT32_C(1145833280), UINT32_C(1121280436), UINT32_C(1097253708),
};
#define TM_CAP (UINT64_C(1) << 29)

/* Step 5.2: x, Q24 of d * output_scale * log2(e), capped at 2^29. */
TM_OUT_OF_LINE static uint64_t tm_exponent(uint64_t d, uint64_t c, int32_t e) {
    int32_t beyond = 0, shift;
    uint64_t product;
    while ((d >> beyond) > UINT64_C(0xffffffff)) {
        beyond++;
    }
    product = (d >> beyond) * c;
    shift = e + 17 + beyond;
    if (product == 0) {
        return 0;
    }
    if (shift >= 0) {
        if (shift >= 64 || product >= (TM_CAP >> shift)) {
            return TM_CAP;
        }
        return product << shift;
    }
    product = -shift >= 64 ? 0 : product >> -shift;
    return product < TM_CAP ? product : TM_CAP;
}

/* Step 5.3: e = 2^(-x / 2^24), Q31. */
TM_OUT_OF_LINE static uint64_t tm_power_of_half(uint64_t x) {
    const uint64_t whole = x >> 24;
    const uint64_t r = x & ((UINT64_C(1) << 19) - 1);
    const uint64_t a = (r * UINT64_C(1488522236)) >> 24;
    const uint64_t a2 = (a * a) >> 31, a3 = (a2 * a) >> 31, a4 = (a3 * a) >> 31;
    const uint64_t poly = ((UINT64_C(1) << 31) + a2 / 2 + a4 / 24) - (a + a3 / 6);
    const uint64_t v = ((uint64_t)tm_u32(&TM_TABLE[(x >> 19) & 31]) * poly) >> 31;
    return whole >= 64 ? 0 : v >> whole;
}

/* Step 5.5: f32(q) * 2^-32 for q <= 2^32, rounded to nearest-even in integers
 * (no float routine is called, so a core without an FPU links none). */
TM_OUT_OF_LINE static float tm_q32_to_f32(uint64_t q) {
    int32_t top = 32;
    uint64_t mantissa;
    if (q == 0) {
        return 0.0f;
    }
    while (!(q >> top)) {
        top--;
    }
    if (top <= 23) {
        mantissa = q << (23 - top);
    } else {
        const int32_t shift = top - 23;
        const uint64_t rest = q & ((UINT64_C(1) << shift) - 1), half = UINT64_C(1) << (shift - 1);
        mantissa = q >> shift;
        if (rest > half || (rest == half && (mantissa & 1))) {
            mantissa++;
            if (mantissa >> 24) {
                mantissa >>= 1;
                top++;
            }
        }
    }
    return tm_float(((uint32_t)(top + 127 - 32) << 23) | ((uint32_t)mantissa & UINT32_C(0x7fffff)));
}

static uint8_t tm_second_layer(const tm_hidden z[TINY_MNIST_HIDDEN], float probabilities[TINY_MNIST_OUTPUT]) {
    const uint32_t bits = TINY_MNIST_OUTPUT_SCALE_BITS;
    const uint32_t field = (bits >> 23) & 0xff;
    const uint64_t c = ((uint64_t)((bits & UINT32_C(0x7fffff)) | UINT32_C(0x800000)) * UINT64_C(3098164009)) >> 24;
    const int32_t e = (int32_t)field - 150;
    int64_t acc2[TINY_MNIST_OUTPUT];
    uint64_t exps[TINY_MNIST_OUTPUT], sum = 0, reciprocal;
    uint8_t digit = 0;
    int j, k;
    for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
        int64_t a = (int32_t)tm_u32((const uint32_t *)&tiny_mnist_b2[k]);
        for (j = 0; j < TINY_MNIST_HIDDEN; j++) {
            if (z[j] > 0) {
                a += (int64_t)z[j] * tm_i8(&tiny_mnist_w2[k][j]);
            }
        }
        acc2[k] = a;
        if (a > acc2[digit]) {
            digit = (uint8_t)k;
        }
    }
    for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
        exps[k] = tm_power_of_half(tm_exponent((uint64_t)acc2[digit] - (uint64_t)acc2[k], c, e));
        sum += exps[k];
    }
    reciprocal = (UINT64_C(1) << 62) / sum;
    for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
        probabilities[k] = tm_q32_to_f32((exps[k] * reciprocal) >> 30);
    }
    return digit;
}

#else
/* ---- Section 2.1: the second layer and the softmax, in f32 ---- */

static float tm_scalbnf(float x, int32_t n) {
    const float two127 = tm_float(UINT32_C(0x7f000000));
    const float down = tm_float(UINT32_C(0x00800000)) * tm_float(UINT32_C(0x4b800000));
    if (n > 127) {
        x = x * two127;
        n -= 127;
        if (n > 127) {
            x = x * two127;
            n -= 127;
            if (n > 127) {
                n = 127;
            }
        }
    } else if (n < -126) {
        x = x * down;
        n += 102;
        if (n < -126) {
            x = x * down;
            n += 102;
            if (n < -126) {
                n = -126;
            }
        }
    }
    return x * tm_float((uint32_t)(0x7f + n) << 23);
}

/* Rust libm's expf (FreeBSD's e_expf.c), operation for operation. */
static float tm_expf(float x) {
    const float ln2_hi = tm_float(UINT32_C(0x3f317200)), ln2_lo = tm_float(UINT32_C(0x35bfbe8e));
    const float inv_ln2 = tm_float(UINT32_C(0x3fb8aa3b));
    const float p1 = tm_float(UINT32_C(0x3e2aaa8f)), p2 = tm_float(UINT32_C(0xbb355215));
    uint32_t hx = tm_bits(x);
    const int sign = (int)(hx >> 31);
    int32_t k;
    float hi, lo, xx, c, y;
    hx &= UINT32_C(0x7fffffff);
    if (hx >= UINT32_C(0x42aeac50)) {
        if (hx > UINT32_C(0x7f800000)) {
            return x;
        }
        if (hx >= UINT32_C(0x42b17218) && !sign) {
            return x * tm_float(UINT32_C(0x7f000000));
        }
        if (sign && hx >= UINT32_C(0x42cff1b5)) {
            return 0.0f;
        }
    }
    if (hx > UINT32_C(0x3eb17218)) {
        float kf;
        if (hx > UINT32_C(0x3f851592)) {
            const float t = inv_ln2 * x;
            k = (int32_t)(t + (sign ? -0.5f : 0.5f));
        } else {
            k = 1 - sign - sign;
        }
        kf = (float)k;
        hi = x - kf * ln2_hi;
        lo = kf * ln2_lo;
        x = hi - lo;
    } else if (hx > UINT32_C(0x39000000)) {
        k = 0;
        hi = x;
        lo = 0.0f;
    } else {
        return 1.0f + x;
    }
    xx = x * x;
    c = x - xx * (p1 + xx * p2);
    y = 1.0f + (x * c / (2.0f - c) - lo + hi);
    return k == 0 ? y : tm_scalbnf(y, k);
}

static uint8_t tm_second_layer(const tm_hidden z[TINY_MNIST_HIDDEN], float probabilities[TINY_MNIST_OUTPUT]) {
    float z2[TINY_MNIST_OUTPUT], total = 0.0f;
    uint8_t digit = 0;
    int j, k;
    for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
        float sum = tm_float(tm_u32(&tiny_mnist_b2[k]));
        for (j = 0; j < TINY_MNIST_HIDDEN; j++) {
            const float a = z[j] > 0.0f ? z[j] : 0.0f;
            const float product = tm_float(tm_u32(&tiny_mnist_w2[k][j])) * a;
            sum = sum + product;
        }
        z2[k] = sum;
        if (sum > z2[digit]) {
            digit = (uint8_t)k;
        }
    }
    for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
        const float shifted = z2[k] - z2[digit];
        probabilities[k] = tm_expf(shifted);
        total = total + probabilities[k];
    }
    for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
        probabilities[k] = probabilities[k] / total;
    }
    return digit;
}
#endif

/* ---- The API ---- */

void tiny_mnist_classify(const uint8_t image[TINY_MNIST_INPUT], tiny_mnist_result *out) {
    tm_hidden z[TINY_MNIST_HIDDEN];
    tm_first_layer(image, z);
    out->digit = tm_second_layer(z, out->probabilities);
}

/* One byte of the pixels in either form (section 3.3) into `image` at `*at`:
 * `raw` copies it; else a nonzero byte is a pixel and `0, n` is n zero
 * pixels (`*run_next` says a run's length comes next). -1 once the bytes
 * cannot make 784 pixels: a run of 0, or past the end. The one reader of the
 * pixel forms, for tiny_mnist_unpack() and the link. */
static int tm_pixel_byte(uint8_t image[TINY_MNIST_INPUT], uint16_t *at, uint8_t *run_next, int raw, uint8_t byte) {
    if (*run_next) {
        *run_next = 0;
        if (byte == 0 || TINY_MNIST_INPUT - *at < byte) {
            return -1;
        }
        for (; byte > 0; byte--) {
            image[(*at)++] = 0;
        }
        return 0;
    }
    if (byte == 0 && !raw) {
        *run_next = 1;
        return 0;
    }
    if (*at >= TINY_MNIST_INPUT) {
        return -1;
    }
    image[(*at)++] = byte;
    return 0;
}

int tiny_mnist_unpack(const uint8_t *pixels, size_t length, uint8_t image[TINY_MNIST_INPUT]) {
    const int raw = length == TINY_MNIST_INPUT;
    uint16_t at = 0;
    uint8_t run_next = 0;
    size_t b;
    for (b = 0; b < length; b++) {
        if (tm_pixel_byte(image, &at, &run_next, raw, pixels[b]) != 0) {
            return -1;
        }
    }
    return at == TINY_MNIST_INPUT && !run_next ? 0 : -1;
}

/* ---- The serial protocol, device side (section 3) ---- */

enum { TM_ERROR_OVERSIZED = 0, TM_ERROR_BAD_FRAMING = 1, TM_ERROR_TRUNCATED = 2, TM_ERROR_MALFORMED = 3 };
/* Where the request's parser is: postcard's fields in order. */
enum { TM_VARIANT, TM_LENGTH, TM_PIXELS, TM_DONE, TM_FAILED };

/* Ready for the next frame. */
static void tm_link_reset(tiny_mnist_link *link) {
    link->frame_length = 0;
    link->block_left = 0;
    link->block_zero = 0;
    link->stage = TM_VARIANT;
    link->varint = 0;
    link->varint_bytes = 0;
    link->request = 0;
    link->string_left = 0;
    link->at = 0;
    link->run_next = 0;
    link->pixels_bad = 0;
    link->raw = 0;
}

void tiny_mnist_link_init(tiny_mnist_link *link, const char *board) {
    link->board = board;
    link->stack_peak = 0;
    link->stack_size = 0;
    tm_link_reset(link);
}

/* The next byte of a varint of at most 32 bits (postcard: 5 bytes, the last
 * below 16); 1 when it is complete, 0 when more follow, -1 if malformed. */
static int tm_varint(tiny_mnist_link *link, uint8_t byte) {
    link->varint |= (uint32_t)(byte & 0x7f) << (7 * link->varint_bytes);
    link->varint_bytes++;
    if (!(byte & 0x80)) {
        return link->varint_bytes == 5 && byte > 0x0f ? -1 : 1;
    }
    return link->varint_bytes == 5 ? -1 : 0;
}

/* One decoded byte of the request. */
static void tm_parse(tiny_mnist_link *link, uint8_t byte) {
    int done;
    switch (link->stage) {
    case TM_VARIANT:
        done = tm_varint(link, byte);
        if (done < 0 || (done > 0 && link->varint > 2)) {
            link->stage = TM_FAILED;
        } else if (done > 0) {
            link->request = (uint8_t)link->varint; /* 0 Info, 1 Classify, 2 Stats */
            link->varint = 0;
            link->varint_bytes = 0;
            link->stage = link->request == 1 ? TM_LENGTH : TM_DONE;
        }
        break;
    case TM_LENGTH:
        done = tm_varint(link, byte);
        if (done < 0) {
            link->stage = TM_FAILED;
        } else if (done > 0) {
            link->string_left = link->varint;
            link->at = 0;
            link->run_next = 0;
            link->pixels_bad = 0;
            link->raw = link->string_left == TINY_MNIST_INPUT; /* else zero runs */
            /* An empty string makes no pixels. */
            link->stage = link->string_left == 0 ? TM_FAILED : TM_PIXELS;
        }
        break;
    case TM_PIXELS:
        link->string_left--;
        if (!link->pixels_bad && tm_pixel_byte(link->image, &link->at, &link->run_next, link->raw, byte) != 0) {
            link->pixels_bad = 1; /* said when the string ends: cut short, it is Truncated */
        }
        if (link->string_left == 0) {
            const int whole = link->at == TINY_MNIST_INPUT && !link->pixels_bad && !link->run_next;
            link->stage = whole ? TM_DONE : TM_FAILED;
        }
        break;
    case TM_DONE:
        link->stage = TM_FAILED; /* bytes after a whole request */
        break;
    default:
        break;
    }
}

static size_t tm_put_varint(uint8_t *message, size_t n, uint32_t value) {
    while (value >= 0x80) {
        message[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    message[n++] = (uint8_t)value;
    return n;
}

/* COBS, then the 0x00 delimiter; a last block of 254 bytes gets no code after it. */
static size_t tm_frame(const uint8_t *message, size_t length, uint8_t *out) {
    size_t code_at = 0, n = 1, i;
    uint8_t code = 1;
    for (i = 0; i < length; i++) {
        if (code == 0xff) {
            out[code_at] = code;
            code_at = n++;
            code = 1;
        }
        if (message[i] == 0) {
            out[code_at] = code;
            code_at = n++;
            code = 1;
        } else {
            out[n++] = message[i];
            code++;
        }
    }
    out[code_at] = code;
    out[n++] = 0;
    return n;
}

/* The answer to a finished frame of `length` bytes before its delimiter. */
static size_t tm_answer(tiny_mnist_link *link, uint8_t *out) {
    uint8_t message[48];
    size_t n = 0;
    int error = -1;
    if (link->frame_length > TINY_MNIST_REQUEST_MAX) {
        error = TM_ERROR_OVERSIZED;
    } else if (link->block_left > 0) {
        error = TM_ERROR_BAD_FRAMING;
    } else if (link->stage == TM_FAILED) {
        error = TM_ERROR_MALFORMED;
    } else if (link->stage != TM_DONE) {
        error = TM_ERROR_TRUNCATED;
    }
    if (error >= 0) {
        message[n++] = 2;
        message[n++] = (uint8_t)error;
    } else if (link->request == 0) {
        size_t length = 0;
        message[n++] = 0;
        n = tm_put_varint(message, n, 1); /* protocol version */
        n = tm_put_varint(message, n, 1); /* weight format version */
        n = tm_put_varint(message, n, TINY_MNIST_MODEL_CRC);
        while (link->board && link->board[length] && length < 24) {
            length++;
        }
        message[n++] = (uint8_t)length;
        for (size_t i = 0; i < length; i++) {
            message[n++] = (uint8_t)link->board[i];
        }
    } else if (link->request == 2) {
        message[n++] = 3;
        n = tm_put_varint(message, n, link->stack_peak);
        n = tm_put_varint(message, n, link->stack_size);
    } else {
        tiny_mnist_result result;
        int k, b;
        tiny_mnist_classify(link->image, &result);
        message[n++] = 1;
        message[n++] = result.digit;
        for (k = 0; k < TINY_MNIST_OUTPUT; k++) {
            const uint32_t bits = tm_bits(result.probabilities[k]);
            for (b = 0; b < 4; b++) {
                message[n++] = (uint8_t)(bits >> (8 * b));
            }
        }
    }
    return tm_frame(message, n, out);
}

size_t tiny_mnist_link_byte(tiny_mnist_link *link, uint8_t byte, uint8_t response[TINY_MNIST_RESPONSE_MAX]) {
    size_t n = 0;
    if (byte == 0) {
        if (link->frame_length > 0) {
            n = tm_answer(link, response);
        }
        tm_link_reset(link);
        return n;
    }
    if (link->frame_length <= TINY_MNIST_REQUEST_MAX) {
        link->frame_length++;
    }
    if (link->frame_length > TINY_MNIST_REQUEST_MAX) {
        return 0; /* dropped up to the delimiter: Oversized */
    }
    if (link->block_left == 0) {
        /* A code byte: the zero that ended the block before, if any, then a new block. */
        if (link->block_zero) {
            tm_parse(link, 0);
        }
        link->block_left = (uint8_t)(byte - 1);
        link->block_zero = byte != 0xff;
    } else {
        tm_parse(link, byte);
        link->block_left--;
    }
    return 0;
}
