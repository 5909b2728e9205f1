/* norm.h -- per-feature standardisation of audio and vision features: the
 * statistics a built dataset carries (selfmm_dataset_build with normalize), and
 * the one function that applies them, used both when a dataset is built and when
 * a model prepares a single new sample (selfmm_model_predict_one), so that the
 * two give the same bits.
 *
 * Rules (documented in selfmm.h):
 * - statistics come from the training split only, over real time steps (t <
 *   length of each sample; padding is not data);
 * - mean and population standard deviation are computed in float64 (two passes)
 *   and stored as float32; a feature whose deviation is below SM_NORM_STD_MIN
 *   (constant on the training set) gets std 1, so it is only centred;
 * - x' = (x - mean) / std in float32 on real steps; padding stays 0. */
#ifndef SM_DATA_NORM_H
#define SM_DATA_NORM_H

#include "data/dataset.h"

#define SM_NORM_STD_MIN 1e-6

enum { SM_NORM_AUDIO = 0, SM_NORM_VISION = 1 };
extern const char *const sm_norm_modality[2]; /* "audio", "vision" */

/* Statistics of modality m over the real steps of split d. */
selfmm_status sm_norm_compute(const sm_split_data *d, int m, float *mean, float *std,
                              selfmm_error *err);
/* Standardise steps rows of D features in place. */
void sm_norm_apply(float *x, int steps, int D, const float *mean, const float *std);
/* Standardise the real steps of every sample of split d (modality m). */
void sm_norm_apply_split(sm_split_data *d, int m, const float *mean, const float *std);
/* Check statistics read from a file or model: finite means, finite std > 0. what
 * names the source ("norm/audio"). */
selfmm_status sm_norm_check(const float *mean, const float *std, int D, const char *what,
                            selfmm_error *err);
/* Give ds copies of the statistics of both modalities (widths from the train split). */
selfmm_status sm_dataset_set_norm(selfmm_dataset *ds, const float *const mean[2],
                                  const float *const std[2], selfmm_error *err);

#endif
