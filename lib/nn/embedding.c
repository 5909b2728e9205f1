/* embedding.c -- BERT's input embeddings: word + position + token type. */
#include "nn/ops.h"

#include <stddef.h>

void sm_embedding_forward(float *out, const int32_t *ids, const int32_t *segs, const float *word,
                          const float *pos, const float *type, int B, int L, int ld, int H)
{
#pragma omp parallel for schedule(static) if ((int64_t)B * L * H > SM_PAR_MIN)
    for (int64_t r = 0; r < (int64_t)B * L; r++) {
        int b = (int)(r / L), t = (int)(r % L);
        const float *w = word + (size_t)ids[(size_t)b * ld + t] * H;
        const float *p = pos + (size_t)t * H;
        const float *ty = type + (size_t)(segs ? segs[(size_t)b * ld + t] : 0) * H;
        float *o = out + (size_t)r * H;
        /* (words + positions) + token types: BertEmbeddings' order of the additions */
#pragma omp simd
        for (int h = 0; h < H; h++) o[h] = (w[h] + p[h]) + ty[h];
    }
}

void sm_embedding_backward(float *dword, float *dpos, float *dtype, const float *dout,
                           const int32_t *ids, const int32_t *segs, int B, int L, int ld, int H)
{
    /* Scatter-add: tokens may share a row, so threads split the H columns and each
     * walks all tokens in order (no races, thread-count independent sums). */
    const int blk = 64;
    int nblk = (H + blk - 1) / blk;
#pragma omp parallel for schedule(static) if ((int64_t)B * L * H > SM_PAR_MIN)
    for (int jb = 0; jb < nblk; jb++) {
        int h0 = jb * blk, h1 = h0 + blk < H ? h0 + blk : H;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < L; t++) {
                const float *d = dout + ((size_t)b * L + t) * H;
                int id = ids[(size_t)b * ld + t], sg = segs ? segs[(size_t)b * ld + t] : 0;
                if (dword && id != 0) { /* padding_idx = 0 gets no gradient */
                    float *g = dword + (size_t)id * H;
#pragma omp simd
                    for (int h = h0; h < h1; h++) g[h] += d[h];
                }
                if (dpos) {
                    float *g = dpos + (size_t)t * H;
#pragma omp simd
                    for (int h = h0; h < h1; h++) g[h] += d[h];
                }
                if (dtype) {
                    float *g = dtype + (size_t)sg * H;
#pragma omp simd
                    for (int h = h0; h < h1; h++) g[h] += d[h];
                }
            }
        }
    }
}
