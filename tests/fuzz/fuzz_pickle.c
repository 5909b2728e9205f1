/* fuzz_pickle.c -- the pickle VM on arbitrary bytes, in data mode and in
 * checkpoint mode (torch globals and persistent ids allowed), then a bounded walk
 * over the value tree as consumers do. */
#include "io/pickle.h"

#include <stddef.h>
#include <stdint.h>

static size_t walk(const sm_pv *v, int depth)
{
    if (!v || depth > 8) return 0;
    size_t n = 1, size;
    switch (v->kind) {
    case SM_PV_TUPLE:
    case SM_PV_LIST:
        for (size_t i = 0; i < v->u.seq.n && i < 64; i++) n += walk(v->u.seq.items[i], depth + 1);
        break;
    case SM_PV_DICT:
        for (size_t i = 0; i < v->u.dict.n && i < 64; i++) n += walk(v->u.dict.vals[i], depth + 1);
        break;
    case SM_PV_BYTES:
        if (sm_pbytes_size(&v->u.bytes, &size, NULL) == SELFMM_OK) n += size & 1;
        break;
    case SM_PV_NDARRAY:
        if (v->u.arr->objects) n += walk(v->u.arr->objects, depth + 1);
        break;
    default: break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int torch = 0; torch < 2; torch++) {
        sm_pickle_opts o = {torch};
        sm_pickle *vm = NULL;
        sm_pv *root = NULL;
        selfmm_error err;
        if (sm_pickle_run(data, size, &o, "fuzz", &vm, &root, NULL, &err) == SELFMM_OK) walk(root, 0);
        sm_pickle_free(vm);
    }
    return 0;
}
