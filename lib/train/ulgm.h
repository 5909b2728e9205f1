/* ulgm.h -- the label generator's internals: its state for training checkpoints.
 *
 * State (13 arrays): "ulgm.labels.<m>" (n) and "ulgm.features.<m>" (n * dim[m]) for
 * m in fusion, text, audio, vision; "ulgm.centers.<m>" (2 * dim[m]: the positive
 * center, then the negative one); "ulgm.center_empty" (8 values 0 or 1, index
 * 2 * m + side, side 0 positive, 1 negative: that set was empty when the centers
 * were last computed). */
#ifndef SM_TRAIN_ULGM_H
#define SM_TRAIN_ULGM_H

#include "train/state.h"

#include "selfmm.h"

#define SM_ULGM_STATE_COUNT 13

/* Views of the 13 arrays, in the order above. */
void sm_ulgm_state(const selfmm_ulgm *u, sm_state_tensor t[SM_ULGM_STATE_COUNT]);
/* Restore from a checkpoint: every array by name with its size, finite values,
 * center_empty entries 0 or 1. On failure nothing changes and u's error names the
 * array. */
selfmm_status sm_ulgm_restore(selfmm_ulgm *u, const sm_state_tensor *t, int n);
/* The checks of sm_ulgm_restore alone: when it passes, the restore cannot fail. */
selfmm_status sm_ulgm_check(selfmm_ulgm *u, const sm_state_tensor *t, int n);

#endif
