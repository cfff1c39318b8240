// quant: products of GGUF block-quantized weights with float activations, as ggml computes them.
//
// A weight row stays in its ggml block format (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 of 32 values per block;
// Q4_K, Q5_K, Q6_K of 256; F16, BF16, F32). For the quantized formats the activation row is quantized
// per block of 32 to 8 bits (quant_q8: a float scale d, the block's sum d·Σq, 32 int8 values), as
// ggml's Q8_0 / Q8_1 do, and each group of 32 weights contributes an integer dot product times its
// scales (a K-quant group's 6- or 8-bit sub-scale included; ggml uses one activation scale per 256
// values for K-quants, Q8_K, where these use one per 32). F16, BF16 and F32 rows are multiplied with
// the float activations.
// Every kernel has a portable C version and, where the CPU has AVX2 and FMA, a vector version chosen
// at run time (quant_kernel_name says which): a binary built without -march flags runs the fastest path
// of the CPU it runs on. Both versions sum a row in the same block order; the vector version's float
// additions are grouped differently, so the two agree to float rounding, not bit for bit.
#ifndef QUANT_H
#define QUANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ggml type ids (ggml.h).
enum {
    QUANT_F32 = 0, QUANT_F16 = 1, QUANT_Q4_0 = 2, QUANT_Q4_1 = 3, QUANT_Q5_0 = 6, QUANT_Q5_1 = 7,
    QUANT_Q8_0 = 8, QUANT_Q4_K = 12, QUANT_Q5_K = 13, QUANT_Q6_K = 14, QUANT_BF16 = 30
};

// One quantized block of 32 activations: x[j] ≈ d·q[j]; s = d·Σq[j].
typedef struct {
    float d;
    float s;
    int8_t q[32];
} quant_q8;

// Whether `type` is multiplied through quantized activations (every block format; not F16/BF16/F32).
int quant_uses_q8(int type);

// Quantizes n floats (n a multiple of 32) into n/32 blocks (round to nearest, ties to even).
void quant_q8_row(const float *x, int n, quant_q8 *out);

// y[r] = Σ_j w[r][j]·x[j] for rows r0 ..< r0 + count of a weight matrix of `cols` columns whose rows are
// `rowBytes` apart starting at w. xq: the activation row from quant_q8_row when quant_uses_q8(type),
// else NULL; xf: the float activation row (used by the other types).
void quant_matvec(int type, const void *w, size_t rowBytes, int cols, int r0, int count,
                  const quant_q8 *xq, const float *xf, float *y);

// Rows r0 ..< r0 + count as floats into dst (count × cols), exactly as ggml's dequantize_row_* (and
// GGUFQuant.swift) compute them: the same operations in the same order, bit for bit, on both kernels.
void quant_expand_rows(int type, const void *w, size_t rowBytes, int cols, int r0, int count, float *dst);

// The dot product of one weight row with one activation row, by the plain C loops only (for tests).
float quant_dot_reference(int type, const void *wrow, int cols, const quant_q8 *xq, const float *xf);

// The kernel family in use: "avx2" or "portable".
const char *quant_kernel_name(void);

// Forces the portable kernels (nonzero) or the best for this CPU (0); for tests and benchmarks.
void quant_force_portable(int on);

#ifdef __cplusplus
}
#endif
#endif
