/* model_input.h -- the model metadata that says how raw inputs are prepared for
 * it (model_input.c): padded lengths of its training data and feature
 * standardisation. Used by selfmm_model_predict_one. */
#ifndef SM_MODEL_MODEL_INPUT_H
#define SM_MODEL_MODEL_INPUT_H

#include "core/error.h"

/* The most audio or vision steps a model records (input.audio_len / vision_len):
 * about three hours of 100 Hz features, where the MMSA datasets have at most 500.
 * They only cut a new sample, but a value from a file is bounded all the same. */
#define SM_INPUT_MAX_STEPS 1000000

/* The training data's padded lengths: text L, audio T, vision T; 0 where the model
 * records none. A text length must lie in [2, max_position_embeddings] (room for
 * [CLS] and [SEP], and no more positions than the model has: it sizes the
 * encoding of a new text), audio and vision lengths in [1, SM_INPUT_MAX_STEPS].
 * SELFMM_ERR_FORMAT (in model->err) for a damaged or out-of-range entry. */
selfmm_status sm_model_input_lengths(selfmm_model *m, int len[3]);
/* 1 when the model carries normalisation statistics (they may still be damaged). */
int sm_model_has_norm(const selfmm_model *m);

#endif
