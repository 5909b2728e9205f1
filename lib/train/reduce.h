/* reduce.h -- sums in the exact order the reference's libraries use.
 *
 * Float32 addition is not associative, so "the same sum" differs in the last bits
 * with the order. The metrics are NumPy code and the label generation is PyTorch
 * code; reproducing their orders makes the C results equal to theirs bit for bit
 * (tests compare with ==), instead of "close". Each function names the library
 * routine whose order it follows; the orders were confirmed against NumPy 1.24 and
 * PyTorch 1.13 (Debian 12, AVX2 kernels) with random inputs. */
#ifndef SM_TRAIN_REDUCE_H
#define SM_TRAIN_REDUCE_H

#include <stdint.h>

/* np.add.reduce of a contiguous float32 array: pairwise summation (8 accumulators
 * under 128 elements) inside blocks of 8192 elements (the ufunc buffer size),
 * blocks added left to right onto 0. */
float sm_np_sum_f32(const float *x, int64_t n);
/* The same for float64. */
double sm_np_sum_f64(const double *x, int64_t n);
/* np.mean of a float32 array: the float32 sum above divided by n in double (NumPy
 * divides the float32 scalar by an intp count) and rounded back to float32. */
float sm_np_mean_f32(const float *x, int64_t n);

/* torch.sum(X[rows], dim=0) for the k rows rows[0..k) (NULL = rows 0..k-1) of a
 * row-major matrix X with d columns: torch 1.13's cascade_sum on the CPU, serial
 * path (multi_row_sum with 4 levels of 16 for groups of 32 columns, 4-way
 * interleaved row_sum for the rest, the contiguous inner reduction for d = 1).
 * scratch holds SM_COLSUM_SCRATCH(d, k) floats. k = 0 gives zeros. */
#define SM_COLSUM_SCRATCH(d, k) (8 * (int64_t)(d) + 128 + (int64_t)(k))
void sm_torch_colsum_f32(const float *x, int64_t d, const int *rows, int64_t k, float *out,
                         float *scratch);

/* torch.linalg.vector_norm(x, 2) of a contiguous float32 vector, torch 1.13's
 * last-dimension kernel as Debian's build runs it: 8 lanes of fused multiply-adds,
 * lanes added in order, then the tail (groups of 4 unfused, the rest fused), sqrt. */
float sm_torch_norm2_f32(const float *x, int64_t n);

#endif
