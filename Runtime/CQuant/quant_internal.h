// Shared between the portable file and the per-instruction-set kernel files (not exported to Swift).
#ifndef QUANT_INTERNAL_H
#define QUANT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "quant.h"

float quant_half(uint16_t h);
size_t quant_block_bytes(int type);
// A 256-value K-quant block as floats.
void quant_expand_k(int type, const uint8_t *blk, float *y);
// Values [c0, c0 + n) of an F32, F16 or BF16 row as floats.
void quant_expand_plain(int type, const uint8_t *w, int c0, int n, float *y);
void quant_matvec_avx2(int type, const void *w, size_t rowBytes, int cols, int r0, int count,
                       const quant_q8 *xq, const float *xf, float *y);
#endif
