/* fuzz_safetensors.c -- the safetensors reader, then every listed tensor read in
 * full (the reader promised its bytes are inside the buffer). */
#include "io/tensors.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_tensor_list l;
    memset(&l, 0, sizeof l);
    selfmm_error err;
    if (sm_read_safetensors(data, size, "fuzz", &l, &err) == SELFMM_OK) {
        for (int i = 0; i < l.n; i++) {
            if (!sm_dtype_is_numeric(l.t[i].dtype) || l.t[i].numel > (1 << 22)) continue;
            float *v = malloc((size_t)(l.t[i].numel ? l.t[i].numel : 1) * sizeof *v);
            if (v) sm_tensor_to_f32(&l.t[i], v);
            free(v);
        }
    }
    sm_tensors_free(&l);
    return 0;
}
