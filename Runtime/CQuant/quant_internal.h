// Shared between the portable file and the per-instruction-set kernel files (not exported to Swift).
#ifndef QUANT_INTERNAL_H
#define QUANT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "quant.h"

float quant_half(uint16_t h);
static inline size_t quant_block_bytes(int type) {
    switch (type) {
    case QUANT_Q4_0: return 18;
    case QUANT_Q4_1: return 20;
    case QUANT_Q5_0: return 22;
    case QUANT_Q5_1: return 24;
    case QUANT_Q8_0: return 34;
    case QUANT_Q4_K: return 144;
    case QUANT_Q5_K: return 176;
    case QUANT_Q6_K: return 210;
    default: return 0;
    }
}
// A 256-value K-quant block as floats.
void quant_expand_k(int type, const uint8_t *blk, float *y);
// Values [c0, c0 + n) of an F32, F16 or BF16 row as floats.
void quant_expand_plain(int type, const uint8_t *w, int c0, int n, float *y);
void quant_expand_rows_portable(int type, const uint8_t *w, size_t rowBytes, int cols, int r0, int count, float *dst);
void quant_expand_rows_avx2(int type, const uint8_t *w, size_t rowBytes, int cols, int r0, int count, float *dst);
void quant_q8_row_avx2(const float *x, int n, quant_q8 *out);
void quant_matvec_avx2(int type, const void *w, size_t rowBytes, int cols, int r0, int count,
                       const quant_q8 *xq, const float *xf, float *y);
#endif
