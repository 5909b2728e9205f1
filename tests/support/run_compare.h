/* run_compare.h -- two training runs' files compared value by value, with the
 * tolerances of a data-parallel run against one process (docs/SCALING.md, "What
 * agrees with one process"): losses, validation and test results 1e-5 relative
 * (metrics relative to at least 0.1: a correlation near 0 has no relative
 * precision);
 * the generated labels 1e-4 relative as a vector and 1e-3 absolute per sample (a
 * label is delta_s / delta_f times the fusion label: ill-conditioned where delta_f
 * is near 0); their correlation with the human labels 1e-4 relative. The train
 * metrics of the T, A and V heads are measured against those labels, so a label
 * near 0 can change an accuracy by one sample: they are not compared. Or strict:
 * every value equal. Timings (keys ending in "_s", a "time" object) are never
 * compared. */
#ifndef SELFMM_TEST_RUN_COMPARE_H
#define SELFMM_TEST_RUN_COMPARE_H

typedef struct rc_report {
    double loss, valid, test, corr; /* worst relative differences */
    double label_vec, label_abs;    /* worst ||a - b|| / ||b|| and |a - b| of a label */
    long values, exact;             /* values compared, of which bit-identical */
} rc_report;

/* Compare the run folders a and b (selfmm_fit out_dirs: train_log.jsonl, and
 * labels.jsonl and result.json when both have them). Returns the number of
 * violations (0: they agree), each printed on a "# " line; rep (may be NULL)
 * receives the worst differences. */
int rc_compare(const char *a, const char *b, int strict, rc_report *rep);

/* Two train_log.jsonl files equal but for the epoch lines' "time" objects, which
 * both must have (1: equal). */
int rc_logs_equal(const char *a, const char *b);

/* "# what: N values (M identical): loss 1e-8, ..." */
void rc_print(const char *what, const rc_report *rep);

#endif
