/* relu.c -- ReLU as the heads use it (F.relu, not in place). */
#include "nn/ops.h"

void sm_relu_forward(float *out, const float *inp, int64_t n)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void sm_relu_backward(float *dinp, const float *dout, const float *out, int64_t n)
{
    /* out = max(inp, 0): the gradient passes where the result is positive */
#pragma omp simd
    for (int64_t i = 0; i < n; i++) dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}
