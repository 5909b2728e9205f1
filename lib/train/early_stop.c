/* early_stop.c -- the reference trainer's best-epoch and early-stopping decision
 * (thuiar/Self-MM trains/multiTask/SELF_MM.py do_train, the same in MMSA):
 *
 *     isBetter = cur_valid <= (best_valid - 1e-6)      # KeyEval 'Loss' is 'min'
 *     if isBetter: best_valid, best_epoch = cur_valid, epochs   (and torch.save)
 *     if epochs - best_epoch >= early_stop: return
 *
 * The same double arithmetic, so ties, losses 1e-6 apart and the 1e8 start decide
 * as there (tests/test_early_stop.c replays the reference's decisions,
 * tools/gen_reference_early_stop.py). */
#include "selfmm.h"

#include <stddef.h>

SELFMM_API void selfmm_early_stop_init(selfmm_early_stop *s)
{
    if (!s) return;
    s->epoch = 0;
    s->best_epoch = 0;
    s->best = 1e8; /* best_valid = 1e8 if min_or_max == 'min' */
}

SELFMM_API int selfmm_early_stop_update(selfmm_early_stop *s, const selfmm_config *cfg, double loss,
                                        int *stop)
{
    if (!s || !cfg) {
        if (stop) *stop = 1;
        return 0;
    }
    s->epoch++;
    const int better = loss <= s->best - cfg->valid_min_delta;
    if (better) {
        s->best = loss;
        s->best_epoch = s->epoch;
    }
    if (stop) *stop = s->epoch - s->best_epoch >= cfg->early_stop;
    return better;
}
