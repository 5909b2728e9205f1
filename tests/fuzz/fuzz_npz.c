/* fuzz_npz.c -- the .npz reader (libzip + .npy headers + streamed conversion) on
 * arbitrary bytes, whatever their magic; and the .npy header parser alone. */
#include "data/dataset.h"
#include "io/npy.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    selfmm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return 0;
    selfmm_error err;
    sm_load_opts o = {1, 1, 0};
    sm_dataset_read_npz(ds, data, size, -1, "fuzz", &o, &err);
    selfmm_dataset_free(ds);
    sm_npy_header h;
    sm_npy_parse_dict((const char *)data, size, &h, "fuzz", &err);
    return 0;
}
