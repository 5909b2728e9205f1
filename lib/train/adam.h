/* adam.h -- the optimizer's internals: its state for training checkpoints.
 *
 * State: the step count (shared by every updated tensor: all of them step
 * together) and the two moment arrays exp_avg and exp_avg_sq, float32 in the
 * layout of the model's parameter arena (tensors of group NONE and the padding
 * between tensors stay 0). */
#ifndef SM_TRAIN_ADAM_H
#define SM_TRAIN_ADAM_H

#include "train/state.h"

#include "selfmm.h"

/* Steps taken so far (0 after create). */
int64_t sm_optim_get_step(const selfmm_optim *opt);
/* Set it, for a rank that received a checked state from another
 * (selfmm_train_state_broadcast): the moments were written in place. */
void sm_optim_set_step(selfmm_optim *opt, int64_t step);
/* The two moment arrays: t[0] "adam.exp_avg", t[1] "adam.exp_avg_sq". */
void sm_optim_state(const selfmm_optim *opt, sm_state_tensor t[2]);
/* Restore from a checkpoint: t[0..n) must hold both arrays by name with the arena's
 * size, finite, exp_avg_sq >= 0, zero outside the optimized tensors; step >= 0.
 * Then they are copied in and the step count set. On failure nothing changes and
 * opt's error names the tensor and element. */
selfmm_status sm_optim_restore(selfmm_optim *opt, const sm_state_tensor *t, int n, int64_t step);

#endif
