/* state.c -- looking up named arrays of a training checkpoint (see state.h). */
#include "train/state.h"

#include <string.h>

const float *sm_state_find(const sm_state_tensor *t, int n, const char *name, int64_t numel,
                           selfmm_error *err)
{
    const float *found = NULL;
    for (int i = 0; i < n; i++) {
        if (!t[i].name || strcmp(t[i].name, name) != 0) continue;
        if (found) {
            sm_error(err, SELFMM_ERR_FORMAT, "training state: \"%s\" appears twice", name);
            return NULL;
        }
        if (t[i].numel != numel || !t[i].data) {
            sm_error(err, SELFMM_ERR_SHAPE, "training state: \"%s\" has %lld values, expected %lld",
                     name, (long long)t[i].numel, (long long)numel);
            return NULL;
        }
        found = t[i].data;
    }
    if (!found) sm_error(err, SELFMM_ERR_MISSING, "training state: \"%s\" is missing", name);
    return found;
}
