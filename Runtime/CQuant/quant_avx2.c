// AVX2 + FMA (+ F16C) kernels, compiled for those instructions whatever the build's -march, and
// called only when the CPU has them (quant.c). The integer block products follow ggml's AVX2 code
// (ggml-cpu/arch/x86/quants.c): nibbles widened to bytes, u8×s8 pairs summed by maddubs/madd, each
// block's integer sum scaled by both scales into eight float lanes.
#if defined(__x86_64__)
#include "quant_internal.h"
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum8(__m256 x) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

// 16 bytes of nibbles → 32 bytes: low nibbles first (values 0..15), then high nibbles (16..31).
AVX2 static inline __m256i nibbles32(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    const __m256i b = _mm256_insertf128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(_mm256_set1_epi8(0x0F), b);
}

// 32 bits → 32 bytes of 0xFF (bit set) or 0x00.
AVX2 static inline __m256i bits32(const uint8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000);
    __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(b, _mm256_set1_epi64x(-1));
}

// Σ u8·s8 over 32 byte pairs, as 8 float lanes.
AVX2 static inline __m256 sum_us8(__m256i ax, __m256i sy) {
    const __m256i dot = _mm256_maddubs_epi16(ax, sy);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), dot));
}

// Σ s8·s8 over 32 byte pairs.
AVX2 static inline __m256 sum_i8(__m256i x, __m256i y) {
    return sum_us8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
// A half-precision scale by F16C (the portable converter is a call with branches: too slow per block).
AVX2 static inline float h2f(const uint8_t *p) { return _cvtsh_ss(ld16(p)); }

// One weight block's product with one activation block, as 8 float lanes (before the scales).
AVX2 __attribute__((always_inline)) static inline __m256 block_sum(int type, const uint8_t *w, __m256i qy) {
    switch (type) {
    case QUANT_Q4_0: return sum_i8(_mm256_sub_epi8(nibbles32(w + 2), _mm256_set1_epi8(8)), qy);
    case QUANT_Q4_1: return sum_us8(nibbles32(w + 4), qy);
    case QUANT_Q5_0:  // (q | h<<4) - 16 as a signed byte
        return sum_i8(_mm256_or_si256(nibbles32(w + 6), _mm256_andnot_si256(bits32(w + 2), _mm256_set1_epi8((char)0xF0))), qy);
    case QUANT_Q5_1: return sum_us8(_mm256_or_si256(nibbles32(w + 8), _mm256_and_si256(bits32(w + 4), _mm256_set1_epi8(0x10))), qy);
    default: return sum_i8(_mm256_loadu_si256((const __m256i *)(w + 2)), qy);  // Q8_0
    }
}

// Weights are read this many bytes ahead: the hardware's stream prefetchers stop at 4 KB page
// boundaries, and a memory-mapped file comes in 4 KB pages (measured on Zen 2: 9.8 GB/s from 7.0-9.3).
#define PREFETCH 1024

// One row: y = Σ_b d_w·d_x·Σq_w·q_x (+ m_w·s_x for the formats with a minimum), blocks alternating
// between two accumulators (two FMA chains in flight). One row at a time streams the weights best
// (measured: 2, 4 and 8 interleaved rows were slower on Zen for matrices larger than the caches).
AVX2 __attribute__((always_inline)) static inline float dot_row(int type, const uint8_t *w, int nb, const quant_q8 *x) {
    const size_t bb = quant_block_bytes(type);
    const int hasMin = type == QUANT_Q4_1 || type == QUANT_Q5_1;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    int b = 0;
    for (; b + 1 < nb; b += 2) {
        const uint8_t *p0 = w + b * bb, *p1 = p0 + bb;
        _mm_prefetch((const char *)(p0 + PREFETCH), _MM_HINT_T0);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(p0) * x[b].d), block_sum(type, p0, _mm256_loadu_si256((const __m256i *)x[b].q)), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(p1) * x[b + 1].d), block_sum(type, p1, _mm256_loadu_si256((const __m256i *)x[b + 1].q)), acc1);
        if (hasMin) mins += h2f(p0 + 2) * x[b].s + h2f(p1 + 2) * x[b + 1].s;
    }
    if (b < nb) {
        const uint8_t *p0 = w + b * bb;
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(p0) * x[b].d), block_sum(type, p0, _mm256_loadu_si256((const __m256i *)x[b].q)), acc0);
        if (hasMin) mins += h2f(p0 + 2) * x[b].s;
    }
    return hsum8(_mm256_add_ps(acc0, acc1)) + mins;
}

// The 6-bit scales and mins of a Q4_K/Q5_K block's 8 groups.
static inline void scales_mins_k4(const uint8_t *q, int *sc, int *m) {
    for (int j = 0; j < 4; j++) { sc[j] = q[j] & 63; m[j] = q[j + 4] & 63; }
    for (int j = 4; j < 8; j++) {
        sc[j] = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m[j] = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// A K-quant row against 32-value activation blocks: each group of 32 weights is an integer block
// product times its scale (as the legacy formats), Q4_K/Q5_K with their per-group minimum, Q6_K with a
// scale per 16 values applied by madd. (ggml multiplies K-quants against one 8-bit scale per 256
// activations, Q8_K; per-32 activation scales are the finer quantization, and reuse the legacy blocks.)
AVX2 __attribute__((always_inline)) static inline float dot_k(int type, const uint8_t *w, int nb, const quant_q8 *x) {
    const size_t bb = quant_block_bytes(type);
    const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1), three = _mm256_set1_epi8(3);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0;
    for (int b = 0; b < nb / 8; b++, w += bb, x += 8) {
        _mm_prefetch((const char *)(w + PREFETCH), _MM_HINT_T0);
        _mm_prefetch((const char *)(w + PREFETCH + 64), _MM_HINT_T0);
        _mm_prefetch((const char *)(w + PREFETCH + 128), _MM_HINT_T0);
        if (type == QUANT_Q6_K) {
            const float d = h2f(w + 208);
            const int8_t *sc = (const int8_t *)(w + 192);
            for (int g = 0; g < 8; g++) {
                const int half = g / 4, k = g % 4;
                const __m256i ql = _mm256_loadu_si256((const __m256i *)(w + 64 * half + (k & 1) * 32));
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(w + 128 + 32 * half));
                const __m256i lo = k < 2 ? _mm256_and_si256(ql, low4) : _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4);
                const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), three), 4);
                const __m256i q = _mm256_or_si256(lo, hi);  // 0..63
                const __m256i qy = _mm256_loadu_si256((const __m256i *)x[g].q);
                const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q, qy), _mm256_maddubs_epi16(_mm256_set1_epi8(32), qy));
                const __m256i scales = _mm256_setr_m128i(_mm_set1_epi16(sc[8 * half + 2 * k]), _mm_set1_epi16(sc[8 * half + 2 * k + 1]));
                const __m256 v = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, scales));
                if (g & 1) acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d * x[g].d), v, acc1);
                else acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d * x[g].d), v, acc0);
            }
        } else {
            const int five = type == QUANT_Q5_K;
            const float d = h2f(w), dmin = h2f(w + 2);
            int sc[8], m[8];
            scales_mins_k4(w + 4, sc, m);
            const __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
            for (int pair = 0; pair < 4; pair++) {
                const __m256i qs = _mm256_loadu_si256((const __m256i *)(w + (five ? 48 : 16) + 32 * pair));
                __m256i q0 = _mm256_and_si256(qs, low4), q1 = _mm256_and_si256(_mm256_srli_epi16(qs, 4), low4);
                if (five) {
                    q0 = _mm256_or_si256(q0, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * pair), one), 4));
                    q1 = _mm256_or_si256(q1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * pair + 1), one), 4));
                }
                const int g = 2 * pair;
                acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d * sc[g] * x[g].d), sum_us8(q0, _mm256_loadu_si256((const __m256i *)x[g].q)), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d * sc[g + 1] * x[g + 1].d), sum_us8(q1, _mm256_loadu_si256((const __m256i *)x[g + 1].q)), acc1);
                mins += dmin * (m[g] * x[g].s + m[g + 1] * x[g + 1].s);
            }
        }
    }
    return hsum8(_mm256_add_ps(acc0, acc1)) - mins;
}

AVX2 static void matvec_q8(int type, const uint8_t *w, size_t rowBytes, int nb, int count, const quant_q8 *x, float *y) {
    switch (type) {  // literal types: one specialized loop per format
    case QUANT_Q4_K: for (int r = 0; r < count; r++) y[r] = dot_k(QUANT_Q4_K, w + (size_t)r * rowBytes, nb, x); break;
    case QUANT_Q5_K: for (int r = 0; r < count; r++) y[r] = dot_k(QUANT_Q5_K, w + (size_t)r * rowBytes, nb, x); break;
    case QUANT_Q6_K: for (int r = 0; r < count; r++) y[r] = dot_k(QUANT_Q6_K, w + (size_t)r * rowBytes, nb, x); break;
    case QUANT_Q4_0: for (int r = 0; r < count; r++) y[r] = dot_row(QUANT_Q4_0, w + (size_t)r * rowBytes, nb, x); break;
    case QUANT_Q4_1: for (int r = 0; r < count; r++) y[r] = dot_row(QUANT_Q4_1, w + (size_t)r * rowBytes, nb, x); break;
    case QUANT_Q5_0: for (int r = 0; r < count; r++) y[r] = dot_row(QUANT_Q5_0, w + (size_t)r * rowBytes, nb, x); break;
    case QUANT_Q5_1: for (int r = 0; r < count; r++) y[r] = dot_row(QUANT_Q5_1, w + (size_t)r * rowBytes, nb, x); break;
    default: for (int r = 0; r < count; r++) y[r] = dot_row(QUANT_Q8_0, w + (size_t)r * rowBytes, nb, x); break;
    }
}

AVX2 static inline __m256 fma_block(const float *a, const float *b, int n, __m256 acc, float *tail) {
    int j = 0;
    for (; j + 8 <= n; j += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), acc);
    for (; j < n; j++) *tail += a[j] * b[j];
    return acc;
}

AVX2 static float dot_float_like(int type, const uint8_t *w, int cols, const float *x) {
    __m256 acc = _mm256_setzero_ps();
    float tail = 0;
    if (type == QUANT_F16) {
        int j = 0;
        for (; j + 8 <= cols; j += 8) {
            const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * (size_t)j)));
            acc = _mm256_fmadd_ps(v, _mm256_loadu_ps(x + j), acc);
        }
        for (; j < cols; j++) tail += quant_half(ld16(w + 2 * (size_t)j)) * x[j];
        return hsum8(acc) + tail;
    }
    if (type == QUANT_F32) return hsum8(fma_block((const float *)w, x, cols, acc, &tail)) + tail;
    float buf[256];
    const int k = type == QUANT_Q4_K || type == QUANT_Q5_K || type == QUANT_Q6_K;
    for (int c0 = 0; c0 < cols; c0 += 256) {
        const int n = cols - c0 < 256 ? cols - c0 : 256;
        if (k) quant_expand_k(type, w + (size_t)(c0 / 256) * quant_block_bytes(type), buf);
        else quant_expand_plain(type, w, c0, n, buf);
        acc = fma_block(buf, x + c0, n, acc, &tail);
    }
    return hsum8(acc) + tail;
}

// 32 bytes (unsigned, or signed when `sign`) → 4 × 8 floats.
AVX2 static inline void bytes_to_floats(__m256i b, int sign, __m256 *f) {
    const __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
    if (sign) {
        f[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)); f[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
        f[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)); f[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
    } else {
        f[0] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)); f[1] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
        f[2] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)); f[3] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
    }
}

// Legacy Q4_0/Q4_1/Q8_0 blocks and Q4_K groups vectorized (products and sums rounded separately, as
// the portable loops, so the floats are the same bits); the other formats by the portable loops.
AVX2 void quant_expand_rows_avx2(int type, const uint8_t *w, size_t rowBytes, int cols, int r0, int count, float *dst) {
    if (type != QUANT_Q4_0 && type != QUANT_Q4_1 && type != QUANT_Q8_0 && type != QUANT_Q4_K) {
        quant_expand_rows_portable(type, w, rowBytes, cols, r0, count, dst);
        return;
    }
    const size_t bb = quant_block_bytes(type);
    for (int r = 0; r < count; r++) {
        const uint8_t *row = w + (size_t)(r0 + r) * rowBytes;
        float *y = dst + (size_t)r * cols;
        __m256 f[4];
        if (type == QUANT_Q4_K) {
            for (int b = 0; b < cols / 256; b++) {
                const uint8_t *blk = row + b * bb;
                const float d = h2f(blk), dmin = h2f(blk + 2);
                int sc[8], m[8];
                scales_mins_k4(blk + 4, sc, m);
                for (int pair = 0; pair < 4; pair++) {
                    const __m256i qs = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * pair));
                    for (int hi = 0; hi < 2; hi++) {
                        const int g = 2 * pair + hi;
                        const __m256i q = hi ? _mm256_and_si256(_mm256_srli_epi16(qs, 4), _mm256_set1_epi8(0x0F))
                                             : _mm256_and_si256(qs, _mm256_set1_epi8(0x0F));
                        const __m256 dv = _mm256_set1_ps(d * (float)sc[g]), mv = _mm256_set1_ps(dmin * (float)m[g]);
                        bytes_to_floats(q, 0, f);
                        for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + 256 * b + 32 * g + 8 * k, _mm256_sub_ps(_mm256_mul_ps(dv, f[k]), mv));
                    }
                }
            }
            continue;
        }
        for (int b = 0; b < cols / 32; b++) {
            const uint8_t *blk = row + b * bb;
            const __m256 d = _mm256_set1_ps(h2f(blk));
            if (type == QUANT_Q8_0) {
                bytes_to_floats(_mm256_loadu_si256((const __m256i *)(blk + 2)), 1, f);
                for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + 32 * b + 8 * k, _mm256_mul_ps(f[k], d));
            } else if (type == QUANT_Q4_0) {
                bytes_to_floats(_mm256_sub_epi8(nibbles32(blk + 2), _mm256_set1_epi8(8)), 1, f);
                for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + 32 * b + 8 * k, _mm256_mul_ps(f[k], d));
            } else {
                const __m256 m = _mm256_set1_ps(h2f(blk + 2));
                bytes_to_floats(nibbles32(blk + 4), 0, f);
                for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + 32 * b + 8 * k, _mm256_add_ps(_mm256_mul_ps(f[k], d), m));
            }
        }
    }
}

// quant_q8_row with the same rounding (round to nearest even) and the same scale: identical blocks.
AVX2 void quant_q8_row_avx2(const float *x, int n, quant_q8 *out) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    for (int b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v0), _mm256_andnot_ps(signBit, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(signBit, v2), _mm256_andnot_ps(signBit, v3)));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.0f, id = amax != 0 ? 127.0f / amax : 0.0f;
        const __m256 mul = _mm256_set1_ps(id);
#define MODE (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), MODE));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), MODE));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), MODE));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), MODE));
        const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_extracti128_si256(sum, 1), _mm256_castsi256_si128(sum));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        // int32 → int8 in order: packs interleave 128-bit lanes, the permute restores the order.
        i0 = _mm256_packs_epi32(i0, i1);
        i2 = _mm256_packs_epi32(i2, i3);
        i0 = _mm256_packs_epi16(i0, i2);
        i0 = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)out[b].q, i0);
        out[b].d = d;
        out[b].s = d * (float)_mm_cvtsi128_si32(s4);
    }
}

AVX2 void quant_matvec_avx2(int type, const void *w, size_t rowBytes, int cols, int r0, int count,
                            const quant_q8 *xq, const float *xf, float *y) {
    const uint8_t *base = w;
    if (quant_uses_q8(type)) {
        matvec_q8(type, base + (size_t)r0 * rowBytes, rowBytes, cols / 32, count, xq, y);
    } else {
        for (int r = 0; r < count; r++) y[r] = dot_float_like(type, base + (size_t)(r0 + r) * rowBytes, cols, xf);
    }
}
#endif
