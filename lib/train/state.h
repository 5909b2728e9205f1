/* state.h -- training state exposed to the checkpoint writer.
 *
 * The optimizer and the label generator each hand out their state as a list of
 * named float arrays (views, no copies). The fit layer saves them atomically with
 * the model; on resume it hands the arrays it read (or mapped) back to the owner's
 * *_restore(), which checks names, sizes and values and only then copies them in,
 * so a bad checkpoint leaves the state untouched. Copying floats bit for bit (plus
 * the Adam step count and the model's dropout step) restores a run exactly: every
 * later result is a function of these bits. */
#ifndef SM_TRAIN_STATE_H
#define SM_TRAIN_STATE_H

#include "core/error.h"

#include <stdint.h>

typedef struct sm_state_tensor {
    const char *name;    /* e.g. "adam.exp_avg", "ulgm.features.text" */
    const float *data;   /* export: owned by the optimizer / label state, valid until its next
                            call; restore: the caller's array */
    int64_t numel;
} sm_state_tensor;

/* The data of the one entry of t[0..n) named `name`, which must have numel values.
 * NULL with SELFMM_ERR_MISSING / _SHAPE / _FORMAT (twice) in err otherwise. */
const float *sm_state_find(const sm_state_tensor *t, int n, const char *name, int64_t numel,
                           selfmm_error *err);

/* Only the weights of a training checkpoint into model, with selfmm_checkpoint_load's
 * checks (format, config, shapes); the step counters, optimizer and label state are
 * not read, so of a mapped bert-base checkpoint only the weights' third is. */
selfmm_status sm_checkpoint_load_weights(selfmm_model *model, const char *path, selfmm_error *err);

#endif
