/* fuzz_dataset.c -- a whole dataset load (pickle or .npz by magic) with the
 * lenient options, so that conversion paths run, then a batch of every split. */
#include "data/dataset.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    selfmm_dataset *ds = NULL;
    selfmm_error err;
    sm_load_opts o = {1, 1, 0};
    if (sm_dataset_open_mem(data, size, "fuzz", &o, &ds, &err) == SELFMM_OK) {
        for (int s = 0; s < 3; s++) {
            int idx[2] = {0, ds->split[s].n - 1};
            selfmm_batch b;
            selfmm_dataset_batch(ds, (selfmm_split)s, idx, 2, &b, NULL);
        }
        selfmm_dataset_free(ds);
    }
    return 0;
}
