/* reduce.c -- NumPy's and PyTorch's summation orders (see reduce.h).
 *
 * This file is compiled with the project's ISO C mode, where GCC does not contract
 * a * b + c into a fused multiply-add on its own: every fma below is written out
 * (fmaf), every other operation rounds on its own, exactly like the reference. */
#include "train/reduce.h"

#include <math.h>
#include <string.h>

/* ---- NumPy: pairwise_sum in numpy/core/src/umath/loops_utils.h.src ---- */

#define NP_PW_BLOCK 128    /* PW_BLOCKSIZE */
#define NP_BUFSIZE 8192    /* NPY_BUFSIZE: the reduction sees the array in such chunks */

/* pairwise_sum for one element type (NumPy writes it once as a @type@ template). */
#define NP_PAIRWISE(name, T)                                                           \
    static T name(const T *a, int64_t n)                                               \
    {                                                                                  \
        if (n < 8) {                                                                   \
            T res = 0;                                                                 \
            for (int64_t i = 0; i < n; i++) res += a[i];                               \
            return res;                                                                \
        }                                                                              \
        if (n <= NP_PW_BLOCK) {                                                        \
            T r[8];                                                                    \
            for (int k = 0; k < 8; k++) r[k] = a[k];                                   \
            int64_t i = 8;                                                             \
            for (; i < n - (n % 8); i += 8)                                            \
                for (int k = 0; k < 8; k++) r[k] += a[i + k];                          \
            T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
            for (; i < n; i++) res += a[i];                                            \
            return res;                                                                \
        }                                                                              \
        int64_t n2 = n / 2;                                                            \
        n2 -= n2 % 8;                                                                  \
        return name(a, n2) + name(a + n2, n - n2);                                     \
    }

NP_PAIRWISE(np_pairwise_f32, float)
NP_PAIRWISE(np_pairwise_f64, double)

float sm_np_sum_f32(const float *x, int64_t n)
{
    float s = 0.0f;
    for (int64_t lo = 0; lo < n; lo += NP_BUFSIZE)
        s += np_pairwise_f32(x + lo, n - lo < NP_BUFSIZE ? n - lo : NP_BUFSIZE);
    return s;
}

double sm_np_sum_f64(const double *x, int64_t n)
{
    double s = 0.0;
    for (int64_t lo = 0; lo < n; lo += NP_BUFSIZE)
        s += np_pairwise_f64(x + lo, n - lo < NP_BUFSIZE ? n - lo : NP_BUFSIZE);
    return s;
}

float sm_np_mean_f32(const float *x, int64_t n)
{
    /* numpy/core/_methods.py _mean: ret.dtype.type(ret / rcount), rcount an intp:
     * float32 / int64 promotes to float64. */
    return (float)((double)sm_np_sum_f32(x, n) / (double)n);
}

/* ---- PyTorch 1.13: aten/src/ATen/native/cpu/SumKernel.cpp ---- */

static int ceil_log2(int64_t x)
{
    int r = 0;
    while (((int64_t)1 << r) < x) r++;
    return r;
}

/* One multi_row_sum: w columns summed over `size` rows, row j starting at
 * x + rows[first + j * step] * ld (rows == NULL: the row index itself). Four
 * accumulator levels; level 0 takes 2^p rows at a time and is carried upward, a
 * level carrying on only when the row count is a multiple of its span. */
static void cascade(const float *x, int64_t ld, const int *rows, int64_t first, int64_t step,
                    int64_t size, int64_t w, float *acc /* 4 * w */, float *out /* w */)
{
    const int p = ceil_log2(size) / 4 > 4 ? ceil_log2(size) / 4 : 4;
    const int64_t level_step = (int64_t)1 << p, level_mask = level_step - 1;
    float *a0 = acc, *a[4] = {acc, acc + w, acc + 2 * w, acc + 3 * w};
    memset(acc, 0, (size_t)(4 * w) * sizeof *acc);
    int64_t i = 0;
#define ROW(j) (x + (rows ? (int64_t)rows[first + (j) * step] : first + (j) * step) * ld)
    while (i + level_step <= size) {
        for (int64_t j = 0; j < level_step; j++, i++) {
            const float *r = ROW(i);
            for (int64_t c = 0; c < w; c++) a0[c] += r[c];
        }
        for (int l = 1; l < 4; l++) {
            for (int64_t c = 0; c < w; c++) a[l][c] += a[l - 1][c], a[l - 1][c] = 0.0f;
            if ((i & (level_mask << (l * p))) != 0) break;
        }
    }
    for (; i < size; i++) {
        const float *r = ROW(i);
        for (int64_t c = 0; c < w; c++) a0[c] += r[c];
    }
#undef ROW
    for (int l = 1; l < 4; l++)
        for (int64_t c = 0; c < w; c++) a0[c] += a[l][c];
    memcpy(out, a0, (size_t)w * sizeof *out);
}

/* row_sum: the sequence seen as rows of 4 consecutive elements, each of the four
 * interleaved sub-sequences cascaded, the leftover elements added to the first,
 * then the four partial sums added in order. Elements are w-wide here. */
static void row_sum(const float *x, int64_t ld, const int *rows, int64_t size, int64_t w,
                    float *scratch /* 8 * w */, float *out /* w */)
{
    float *part = scratch, *acc = scratch + 4 * w;
    const int64_t n4 = size / 4;
    for (int k = 0; k < 4; k++) cascade(x, ld, rows, k, 4, n4, w, acc, part + k * w);
    for (int64_t i = n4 * 4; i < size; i++) {
        const float *r = x + (rows ? (int64_t)rows[i] : i) * ld;
        for (int64_t c = 0; c < w; c++) part[c] += r[c];
    }
    for (int k = 1; k < 4; k++)
        for (int64_t c = 0; c < w; c++) part[c] += part[k * w + c];
    memcpy(out, part, (size_t)w * sizeof *out);
}

#define TORCH_VEC 8 /* Vectorized<float>::size() in the AVX2 kernels */

void sm_torch_colsum_f32(const float *x, int64_t d, const int *rows, int64_t k, float *out,
                         float *scratch)
{
    if (d == 1 && k >= TORCH_VEC) {
        /* One column is a contiguous inner reduction (vectorized_inner_sum): vectors
         * of 8 consecutive values summed with row_sum, then the scalar tail, then the
         * 8 lanes in order. Gather the column so vector j is buf[8j .. 8j + 8). */
        float *buf = scratch + 8 * TORCH_VEC + 64, lanes[TORCH_VEC];
        for (int64_t e = 0; e < k; e++) buf[e] = x[rows ? (int64_t)rows[e] : e];
        const int64_t nvec = k / TORCH_VEC;
        row_sum(buf, TORCH_VEC, NULL, nvec, TORCH_VEC, scratch, lanes);
        float s = 0.0f;
        for (int64_t e = nvec * TORCH_VEC; e < k; e++) s += buf[e];
        for (int l = 0; l < TORCH_VEC; l++) s += lanes[l];
        out[0] = s;
        return;
    }
    /* Outer reduction: groups of 4 vectors of columns (32) take the cascade; below
     * one vector of columns the scalar kernel takes groups of 4 columns; the
     * remaining columns each take row_sum. */
    const int64_t ncas = d >= TORCH_VEC ? d / (4 * TORCH_VEC) * (4 * TORCH_VEC) : d / 4 * 4;
    if (ncas > 0) cascade(x, d, rows, 0, 1, k, ncas, scratch, out);
    if (ncas < d) row_sum(x + ncas, d, rows, k, d - ncas, scratch, out + ncas);
}

float sm_torch_norm2_f32(const float *x, int64_t n)
{
    /* ReduceOpsKernel.cpp norm_kernel_tensor_iterator_impl, p == 2, last dim:
     * acc_vec += data_vec * data_vec (fused) over whole vectors of 8, lanes stored
     * and added from lane 0, then the scalar tail loop `buffer[0] += x * x`. GCC
     * compiled that tail loop as an in-order (fold-left) reduction over groups of 4
     * -- squares rounded, then added one by one -- and a remainder loop where the
     * multiply-add is contracted into an fma. Measured: equal bits for every width
     * 1..40, 64, 100, 128, 131 on 500 rows each. */
    float lane[TORCH_VEC] = {0};
    int64_t i = 0;
    for (; i + TORCH_VEC <= n; i += TORCH_VEC)
        for (int l = 0; l < TORCH_VEC; l++) lane[l] = fmaf(x[i + l], x[i + l], lane[l]);
    float acc = lane[0];
    for (int l = 1; l < TORCH_VEC; l++) acc = acc + lane[l];
    const int64_t groups_end = i + (n - i) / 4 * 4;
    for (; i < groups_end; i++) acc = acc + x[i] * x[i];
    for (; i < n; i++) acc = fmaf(x[i], x[i], acc);
    return sqrtf(acc);
}
