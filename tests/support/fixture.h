/* fixture.h -- reader of the SMFX files that the tools/ scripts write with PyTorch/NumPy
 * reference values (tools/fixture_io.py is the writer). Deliberately independent of
 * the library's own readers, so tests of those readers do not trust themselves.
 *
 * Layout: "SMFX1\0\0\0", u32 count, then per tensor: u16 name length, name,
 * u8 dtype (0 f32, 1 f64, 2 i64, 3 i32), u8 ndim, i64 dims[ndim], raw LE data. */
#ifndef SELFMM_TEST_FIXTURE_H
#define SELFMM_TEST_FIXTURE_H

#include <stdint.h>

typedef struct fx_tensor {
    char *name;
    int dtype;          /* 0 f32, 1 f64, 2 i64, 3 i32 */
    int ndim;
    int64_t dims[8];
    int64_t numel;
    void *data;         /* as stored */
    float *f32;         /* every dtype converted to float */
    double *f64;        /* every dtype converted to double */
} fx_tensor;

typedef struct fx_file {
    int n;
    fx_tensor *t;
} fx_file;

/* Load; returns 0 on success, prints the reason and returns -1 on failure. */
int fx_load(const char *path, fx_file *f);
/* Load a NumPy .npz (np.savez: one <name>.npy member per array; little-endian
 * f4/f8/i8/i4, C order) into the same structure, names without ".npy". Its own small
 * reader (libzip + the .npy header), not the library's. */
int fx_load_npz(const char *path, fx_file *f);
void fx_free(fx_file *f);
/* Tensor by name or NULL (prints nothing). */
const fx_tensor *fx_get(const fx_file *f, const char *name);

#endif
