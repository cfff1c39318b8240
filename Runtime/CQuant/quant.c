// The portable kernels, activation quantization, block expansion and the run-time dispatch.
// Block layouts (ggml-common.h): Q4_0 {f16 d; u8 qs[16]}, Q4_1 {f16 d, m; u8 qs[16]},
// Q5_0 {f16 d; u32 qh; u8 qs[16]}, Q5_1 {f16 d, m; u32 qh; u8 qs[16]}, Q8_0 {f16 d; i8 qs[32]};
// value j < 16 is the low nibble of qs[j], value j + 16 its high nibble; Q5's fifth bit of value j is
// bit j of qh. K-quants as in GGUFQuant.swift.
#include "quant.h"
#include "quant_internal.h"
#include <math.h>
#include <string.h>

float quant_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else {  // subnormal: normalize
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t load16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t load32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

// MARK: dispatch

static int forcePortable = 0;

static int has_avx2(void) {
#if defined(__x86_64__) || defined(__i386__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return cached;
#else
    return 0;
#endif
}

int quant_uses_q8(int type) {
    return type == QUANT_Q4_0 || type == QUANT_Q4_1 || type == QUANT_Q5_0 || type == QUANT_Q5_1 || type == QUANT_Q8_0
        || type == QUANT_Q4_K || type == QUANT_Q5_K || type == QUANT_Q6_K;
}

void quant_q8_row(const float *x, int n, quant_q8 *out) {
#if defined(__x86_64__)
    if (!forcePortable && has_avx2()) { quant_q8_row_avx2(x, n, out); return; }
#endif
    for (int b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
        const float d = amax / 127.0f, id = amax != 0 ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const int q = (int)nearbyintf(v[j] * id);  // ties to even, as _mm256_round_ps
            out[b].q[j] = (int8_t)q;
            sum += q;
        }
        out[b].d = d;
        out[b].s = d * (float)sum;
    }
}

// MARK: portable dot products of one row

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block's 12 scale bytes.
static inline void scale_min_k4(int j, const uint8_t *q, float *d, float *m) {
    if (j < 4) { *d = q[j] & 63; *m = q[j + 4] & 63; return; }
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
}

// Group g (0..7) of a K-quant block: its 32 integer values (Q4_K/Q5_K: 0..31; Q6_K: -32..31) and the
// integer scale of each value (Q6_K: one per 16 values; Q4_K/Q5_K: the group's 6-bit scale), and the
// group's 6-bit min (Q4_K/Q5_K).
void quant_k_group(int type, const uint8_t *blk, int g, int8_t *q, int *scale, int *min) {
    if (type == QUANT_Q6_K) {
        const int half = g / 4, k = g % 4;
        const uint8_t *ql = blk + 64 * half, *qh = blk + 128 + 32 * half;
        const int8_t *sc = (const int8_t *)(blk + 192 + 8 * half);
        for (int l = 0; l < 32; l++) {
            const int lo = k & 1 ? ql[l + 32] : ql[l];
            const int v = (k < 2 ? lo & 0xF : lo >> 4) | (((qh[l] >> (2 * k)) & 3) << 4);
            q[l] = (int8_t)(v - 32);
            scale[l] = sc[2 * k + l / 16];
        }
        *min = 0;
        return;
    }
    const int five = type == QUANT_Q5_K, pair = g / 2, hi = g % 2;
    const uint8_t *qs = blk + (five ? 48 : 16) + 32 * pair, *qh = blk + 16;
    float sc, m;
    scale_min_k4(g, blk + 4, &sc, &m);
    for (int l = 0; l < 32; l++) {
        q[l] = (int8_t)((hi ? qs[l] >> 4 : qs[l] & 0xF) + (five && (qh[l] >> g) & 1 ? 16 : 0));
        scale[l] = (int)sc;
    }
    *min = (int)m;
}

static float dot_k(int type, const uint8_t *w, int nb, const quant_q8 *x) {
    const size_t bb = quant_block_bytes(type);
    float sum = 0;
    for (int b = 0; b < nb / 8; b++, w += bb) {
        const float d = quant_half(load16(type == QUANT_Q6_K ? w + 208 : w));
        const float dmin = type == QUANT_Q6_K ? 0 : quant_half(load16(w + 2));
        for (int g = 0; g < 8; g++) {
            const quant_q8 *y = x + 8 * b + g;
            int8_t q[32];
            int scale[32], min, sumi = 0;
            quant_k_group(type, w, g, q, scale, &min);
            for (int l = 0; l < 32; l++) sumi += scale[l] * q[l] * y->q[l];
            sum += d * y->d * (float)sumi - dmin * (float)min * y->s;
        }
    }
    return sum;
}

static float dot_legacy(int type, const uint8_t *w, int nb, const quant_q8 *x) {
    const size_t bb = quant_block_bytes(type);
    float sum = 0;
    for (int b = 0; b < nb; b++, w += bb) {
        const quant_q8 *y = x + b;
        const float d = quant_half(load16(w));
        int sumi = 0;
        switch (type) {
        case QUANT_Q4_0:
            for (int j = 0; j < 16; j++) sumi += ((w[2 + j] & 0xF) - 8) * y->q[j] + ((w[2 + j] >> 4) - 8) * y->q[j + 16];
            sum += d * y->d * (float)sumi;
            break;
        case QUANT_Q4_1:
            for (int j = 0; j < 16; j++) sumi += (w[4 + j] & 0xF) * y->q[j] + (w[4 + j] >> 4) * y->q[j + 16];
            sum += d * y->d * (float)sumi + quant_half(load16(w + 2)) * y->s;
            break;
        case QUANT_Q5_0: {
            const uint32_t qh = load32(w + 2);
            for (int j = 0; j < 16; j++) {
                const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
                sumi += (((w[6 + j] & 0xF) | h0) - 16) * y->q[j] + (((w[6 + j] >> 4) | h1) - 16) * y->q[j + 16];
            }
            sum += d * y->d * (float)sumi;
            break;
        }
        case QUANT_Q5_1: {
            const uint32_t qh = load32(w + 4);
            for (int j = 0; j < 16; j++) {
                const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
                sumi += ((w[8 + j] & 0xF) | h0) * y->q[j] + ((w[8 + j] >> 4) | h1) * y->q[j + 16];
            }
            sum += d * y->d * (float)sumi + quant_half(load16(w + 2)) * y->s;
            break;
        }
        case QUANT_Q8_0:
            for (int j = 0; j < 32; j++) sumi += (int8_t)w[2 + j] * y->q[j];
            sum += d * y->d * (float)sumi;
            break;
        }
    }
    return sum;
}

void quant_expand_k(int type, const uint8_t *blk, float *y) {
    if (type == QUANT_Q6_K) {
        const uint8_t *ql = blk, *qh = blk + 128;
        const int8_t *sc = (const int8_t *)(blk + 192);
        const float d = quant_half(load16(blk + 208));
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                const int s = l / 16;
                const int q1 = (int)((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[s] * q1;
                y[l + 32] = d * sc[s + 2] * q2;
                y[l + 64] = d * sc[s + 4] * q3;
                y[l + 96] = d * sc[s + 6] * q4;
            }
            y += 128; ql += 64; qh += 32; sc += 8;
        }
        return;
    }
    const int five = type == QUANT_Q5_K;
    const float d = quant_half(load16(blk)), dmin = quant_half(load16(blk + 2));
    const uint8_t *scales = blk + 4, *qh = blk + 16, *q = blk + (five ? 48 : 16);
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
        float sc1, m1, sc2, m2;
        scale_min_k4(j / 32, scales, &sc1, &m1);
        scale_min_k4(j / 32 + 1, scales, &sc2, &m2);
        const float d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2;
        for (int l = 0; l < 32; l++) y[l] = d1 * ((q[l] & 0xF) + (five && (qh[l] & u1) ? 16 : 0)) - mm1;
        for (int l = 0; l < 32; l++) y[l + 32] = d2 * ((q[l] >> 4) + (five && (qh[l] & u2) ? 16 : 0)) - mm2;
        y += 64; q += 32; u1 <<= 2; u2 <<= 2;
    }
}

// Values [c0, c0 + n) of a float-like row (F32, F16, BF16) as floats.
void quant_expand_plain(int type, const uint8_t *w, int c0, int n, float *y) {
    for (int j = 0; j < n; j++) {
        if (type == QUANT_F32) memcpy(y + j, w + 4 * (size_t)(c0 + j), 4);
        else if (type == QUANT_F16) y[j] = quant_half(load16(w + 2 * (size_t)(c0 + j)));
        else { uint32_t bits = (uint32_t)load16(w + 2 * (size_t)(c0 + j)) << 16; memcpy(y + j, &bits, 4); }
    }
}

// One 32-value legacy block as floats, in GGUFQuant.swift's operation order (q·d + m: a product, then a sum).
static void expand_legacy(int type, const uint8_t *blk, float *y) {
    const float d = quant_half(load16(blk));
    switch (type) {
    case QUANT_Q4_0:
        for (int j = 0; j < 16; j++) { y[j] = (float)((blk[2 + j] & 0xF) - 8) * d; y[j + 16] = (float)((blk[2 + j] >> 4) - 8) * d; }
        break;
    case QUANT_Q4_1: {
        const float m = quant_half(load16(blk + 2));
        for (int j = 0; j < 16; j++) { y[j] = (float)(blk[4 + j] & 0xF) * d + m; y[j + 16] = (float)(blk[4 + j] >> 4) * d + m; }
        break;
    }
    case QUANT_Q5_0: case QUANT_Q5_1: {
        const int hasMin = type == QUANT_Q5_1, off = hasMin ? 4 : 2;
        const float m = hasMin ? quant_half(load16(blk + 2)) : 0;
        const uint32_t qh = load32(blk + off);
        for (int j = 0; j < 16; j++) {
            const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
            const int x0 = (blk[off + 4 + j] & 0xF) | h0, x1 = (blk[off + 4 + j] >> 4) | h1;
            if (hasMin) { y[j] = (float)x0 * d + m; y[j + 16] = (float)x1 * d + m; }
            else { y[j] = (float)(x0 - 16) * d; y[j + 16] = (float)(x1 - 16) * d; }
        }
        break;
    }
    default:  // Q8_0
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)blk[2 + j] * d;
    }
}

void quant_expand_rows_portable(int type, const uint8_t *w, size_t rowBytes, int cols, int r0, int count, float *dst) {
    for (int r = 0; r < count; r++) {
        const uint8_t *row = w + (size_t)(r0 + r) * rowBytes;
        float *y = dst + (size_t)r * cols;
        if (type == QUANT_F32 || type == QUANT_F16 || type == QUANT_BF16) quant_expand_plain(type, row, 0, cols, y);
        else if (type == QUANT_Q4_K || type == QUANT_Q5_K || type == QUANT_Q6_K)
            for (int b = 0; b < cols / 256; b++) quant_expand_k(type, row + (size_t)b * quant_block_bytes(type), y + 256 * b);
        else
            for (int b = 0; b < cols / 32; b++) expand_legacy(type, row + (size_t)b * quant_block_bytes(type), y + 32 * b);
    }
}

void quant_expand_rows(int type, const void *w, size_t rowBytes, int cols, int r0, int count, float *dst) {
#if defined(__x86_64__)
    if (!forcePortable && has_avx2()) { quant_expand_rows_avx2(type, w, rowBytes, cols, r0, count, dst); return; }
#endif
    quant_expand_rows_portable(type, w, rowBytes, cols, r0, count, dst);
}

static float dot_float_like(int type, const uint8_t *w, int cols, const float *x) {
    float buf[256], sum = 0;
    const int k = type == QUANT_Q4_K || type == QUANT_Q5_K || type == QUANT_Q6_K;
    for (int c0 = 0; c0 < cols; c0 += 256) {
        const int n = cols - c0 < 256 ? cols - c0 : 256;
        if (k) quant_expand_k(type, w + (size_t)(c0 / 256) * quant_block_bytes(type), buf);
        else quant_expand_plain(type, w, c0, n, buf);
        float part = 0;
        for (int j = 0; j < n; j++) part += buf[j] * x[c0 + j];
        sum += part;
    }
    return sum;
}

float quant_dot_reference(int type, const void *wrow, int cols, const quant_q8 *xq, const float *xf) {
    if (type == QUANT_Q4_K || type == QUANT_Q5_K || type == QUANT_Q6_K) return dot_k(type, wrow, cols / 32, xq);
    return quant_uses_q8(type) ? dot_legacy(type, wrow, cols / 32, xq) : dot_float_like(type, wrow, cols, xf);
}

static void matvec_portable(int type, const uint8_t *w, size_t rowBytes, int cols, int r0, int count,
                            const quant_q8 *xq, const float *xf, float *y) {
    for (int r = r0; r < r0 + count; r++) y[r - r0] = quant_dot_reference(type, w + (size_t)r * rowBytes, cols, xq, xf);
}

void quant_force_portable(int on) { forcePortable = on; }

const char *quant_kernel_name(void) { return !forcePortable && has_avx2() ? "avx2" : "portable"; }

void quant_matvec(int type, const void *w, size_t rowBytes, int cols, int r0, int count,
                  const quant_q8 *xq, const float *xf, float *y) {
#if defined(__x86_64__)
    if (!forcePortable && has_avx2()) { quant_matvec_avx2(type, w, rowBytes, cols, r0, count, xq, xf, y); return; }
#endif
    matvec_portable(type, w, rowBytes, cols, r0, count, xq, xf, y);
}
