/* fuzz_torch.c -- torch checkpoints (zip and legacy, by magic; the zip central
 * directory parser on anything else), then every listed tensor read in full. */
#include "io/tensors.h"
#include "io/zip_read.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    selfmm_error err;
    selfmm_status st = size >= 4 && !memcmp(data, "PK", 2) ? sm_read_torch_zip(data, size, "fuzz", &l, &err)
                                                            : sm_read_torch_legacy(data, size, "fuzz", &l, &err);
    if (st == SELFMM_OK) {
        for (int i = 0; i < l.n; i++) {
            if (!sm_dtype_is_numeric(l.t[i].dtype) || l.t[i].numel > (1 << 22)) continue;
            float *v = malloc((size_t)(l.t[i].numel ? l.t[i].numel : 1) * sizeof *v);
            if (v) sm_tensor_to_f32(&l.t[i], v);
            free(v);
        }
    }
    sm_tensors_free(&l);
    sm_zip_dir dir;
    if (sm_zip_read_dir(data, size, "fuzz", &dir, &err) == SELFMM_OK) sm_zip_find(&dir, "archive/data.pkl");
    sm_zip_dir_free(&dir);
    return 0;
}
