/* fuzz_features.c -- libFuzzer target for the readers of the user's own files
 * (lib/text): per-clip features (.npy or numeric CSV, sm_features_parse) and the
 * RFC 4180 record reader behind label.csv (sm_csv).
 *
 * Input: byte 0 even: the rest is a feature file; odd: the rest is CSV text read
 * record by record. Invariants checked: no crash or leak; a successful read has
 * T, D >= 1 and only finite values; CSV records have >= 1 field, bad records a
 * message, and line numbers never decrease.
 *
 * Built and run by tests/fuzz/run.sh (see fuzz_tokenizer.c for the command):
 *   ./fuzz_features -max_total_time=60 tests/fuzz/corpus/features
 */
#include "io/csv.h"
#include "data/features.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static void check(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] % 2 == 0) {
        float *x = NULL;
        int T = 0, D = 0;
        selfmm_error err = {0};
        if (sm_features_parse(p, n, "fuzz", &x, &T, &D, &err) == SELFMM_OK) {
            check(T >= 1 && D >= 1);
            for (size_t i = 0; i < (size_t)T * D; i++) check(isfinite(x[i]));
            free(x);
        } else {
            check(err.message[0] != '\0');
        }
        return 0;
    }
    sm_csv c;
    sm_csv_init(&c, (const char *)p, n);
    int k, last = 0;
    while ((k = sm_csv_next(&c)) != SM_CSV_END && k != SM_CSV_NOMEM) {
        check(c.rec_line >= last);
        last = c.rec_line;
        if (k == SM_CSV_RECORD) check(c.n >= 1);
        else check(c.problem[0] != '\0');
    }
    sm_csv_free(&c);
    return 0;
}
