/* bf16.h -- everything bfloat16 in one place: the check that this process may compute
 * in bf16 (CPU, operating system, oneDNN's effective ISA) and the float <-> bf16
 * conversions. The policy is in docs/PLATFORM.md §3.3: bf16 runs only where its
 * GEMMs are native and faster than fp32, and never falls back silently. */
#ifndef SM_NN_BF16_H
#define SM_NN_BF16_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef uint16_t sm_bf16;   /* storage: the upper 16 bits of an IEEE float */

/* SELFMM_OK when bf16 may be used; SELFMM_ERR_UNSUPPORTED naming the missing CPU
 * feature otherwise (docs/PLATFORM.md). Cheap after the first call. */
selfmm_status sm_bf16_check(selfmm_error *err);

/* Round to nearest even, as the vcvtne2ps2bf16 instruction does (a denormal input
 * becomes a signed zero, a NaN stays a NaN); for tests and as the reference. */
sm_bf16 sm_f2bf_scalar(float f);
static inline float sm_bf2f(sm_bf16 h)
{
    union { uint32_t u; float f; } x = {(uint32_t)h << 16};
    return x.f;
}
/* dst[i] = bf16(src[i]) and back. The vector loops need AVX512_BF16: call them only
 * after sm_bf16_check. The array forms are threaded (elementwise, so the bits do not
 * depend on the thread count); the row forms are not (for callers' parallel loops). */
void sm_bf16_pack(sm_bf16 *dst, const float *src, int64_t n);
void sm_bf16_unpack(float *dst, const sm_bf16 *src, int64_t n);
void sm_bf16_pack_row(sm_bf16 *dst, const float *src, int64_t n);
void sm_bf16_unpack_row(float *dst, const sm_bf16 *src, int64_t n);
/* What a dense layer's backward needs of its output gradient dY (N, OC), from one
 * read of it: d16 (N, OC) = bf16(dY) and dt16 (OC, N) = its transpose, each when not
 * NULL and rounded as sm_bf16_pack rounds, and dbias (OC) += dY's column sums when
 * not NULL, summed row after row as sm_linear_backward sums (so the bits are the
 * same). Threaded over columns. */
void sm_bf16_grad_pack(sm_bf16 *d16, sm_bf16 *dt16, float *dbias, const float *dY, int64_t N, int64_t OC);

#endif
