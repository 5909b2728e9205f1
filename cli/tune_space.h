/* tune_space.h -- the search space of `selfmm-cli tune`: the reference's own
 * (thuiar/Self-MM config/config_tune.py, ConfigTune.__SELF_MM), restated as a table
 * that tests/test_cli_tune.sh checks byte for byte against the dump of the
 * reference's definition (tools/gen_tune_space.py, tests/fixtures/tune/space.json).
 * How each key applies to libselfmm's config: docs/REFERENCE.md, "Tuning". */
#ifndef SELFMM_CLI_TUNE_SPACE_H
#define SELFMM_CLI_TUNE_SPACE_H

#include <stdio.h>

enum { TUNE_MAX_CHOICES = 4 };

typedef struct tune_value {
    const char *name;
    int is_float;                    /* Python float (printed with a decimal point) */
    int drawn;                       /* random.choice(choice[0..n)); else the constant choice[0] */
    int n;
    double choice[TUNE_MAX_CHOICES];
} tune_value;

/* The reference's d_paras: the keys recorded per trial, in its order. */
extern const char *const tune_d_paras[];
extern const int tune_n_d_paras;
/* debugParas' other entries, in its order. */
extern const tune_value tune_values[];
extern const int tune_n_values;

/* The entry of a key, or NULL (H: in d_paras, never given a value). */
const tune_value *tune_value_of(const char *name);
/* v's i-th choice (or constant) as Python prints it: "16", "5e-05", "0.0". buf >= 32. */
const char *tune_value_text(char *buf, const tune_value *v, int i);

/* The whole table as tools/gen_tune_space.py writes the reference's. */
void tune_space_print(FILE *out);

#endif
