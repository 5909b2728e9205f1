/* model_input.h -- the model metadata that says how raw inputs are prepared for
 * it (model_input.c): padded lengths of its training data and feature
 * standardisation. Used by selfmm_model_predict_one. */
#ifndef SM_MODEL_MODEL_INPUT_H
#define SM_MODEL_MODEL_INPUT_H

#include "core/error.h"

/* The training data's padded lengths: text L, audio T, vision T; 0 where the model
 * records none. SELFMM_ERR_FORMAT (in model->err) for a damaged entry. */
selfmm_status sm_model_input_lengths(selfmm_model *m, int len[3]);
/* 1 when the model carries normalisation statistics (they may still be damaged). */
int sm_model_has_norm(const selfmm_model *m);

#endif
