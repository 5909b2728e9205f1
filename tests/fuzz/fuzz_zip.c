/* fuzz_zip.c -- the zip central directory reader alone (lib/io/zip_read.c, shared
 * by torch checkpoints and .npz files): every listed member must be findable by
 * name, lie inside the buffer, obey the stored-size rule, and have its CRC-32
 * computable over exactly its bytes. */
#include "io/zip_read.h"

#include <stdint.h>
#include <stdlib.h>

static void check(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_zip_dir dir;
    selfmm_error err = {0};
    if (sm_zip_read_dir(data, size, "fuzz", &dir, &err) == SELFMM_OK) {
        for (int i = 0; i < dir.n; i++) {
            sm_zip_entry *e = &dir.e[i];
            check(sm_zip_find(&dir, e->name) == e);
            check(e->data_offset <= size && e->comp_size <= size - e->data_offset);
            check(e->local_offset < e->data_offset);
            check(e->method != 0 || e->comp_size == e->size);
            if (e->method == 0) sm_zip_verify(data, e, "fuzz", &err); /* reads every byte */
        }
    } else {
        check(err.message[0] != '\0');
    }
    sm_zip_dir_free(&dir);
    return 0;
}
