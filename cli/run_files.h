/* run_files.h -- the files `train` leaves in its --out directory besides what
 * selfmm_fit writes per seed: the run description (for --resume), per-seed results,
 * metrics.json, results.csv, the combined logs and the best model. */
#ifndef SELFMM_CLI_RUN_FILES_H
#define SELFMM_CLI_RUN_FILES_H

#include "selfmm.h"

#define RUN_MAX_SEEDS 64

/* How the run was started, kept in DIR/run.json so that --resume DIR needs nothing else. */
typedef struct run_desc {
    char data[SELFMM_PATH_MAX];   /* dataset path, or "" for the demo */
    char init[SELFMM_PATH_MAX];   /* --init model, or "" */
    int demo;
    int save_labels;
    int nseeds;
    long long seeds[RUN_MAX_SEEDS];
} run_desc;

/* One finished seed (DIR/seed-<s>/result.json). */
typedef struct seed_result {
    long long seed;
    int epochs, best_epoch;
    double best_valid_loss;          /* as compared (rounded when valid_loss_decimals >= 0) */
    double test_loss;                /* unrounded */
    int count;                       /* the test metrics, then "Loss": what do_test returns */
    char name[SELFMM_MAX_METRICS][32];
    double value[SELFMM_MAX_METRICS]; /* as the reference reports them */
    double raw[SELFMM_MAX_METRICS];   /* unrounded */
} seed_result;

/* A run's test result as the reference's do_test returns it: the metrics (m, already
 * rounded as cfg says), then "Loss" (test_loss, rounded when valid_loss_decimals >= 0). */
void seed_result_fill(seed_result *r, const selfmm_metrics *m, double test_loss, const selfmm_config *cfg);

/* Each returns 0 on success; on failure it prints the reason (naming the file). */
int run_desc_save(const char *dir, const run_desc *d);
int run_desc_load(const char *dir, run_desc *d);
int seed_result_save(const char *path, const seed_result *r);
/* 1 loaded, 0 absent, -1 unreadable. cfg rounds the Loss of older files. */
int seed_result_load(const char *path, const selfmm_config *cfg, seed_result *r);
/* metrics.json and results.csv over the finished seeds: the summary of run.py's
 * run_normal (mean and population std x100, rounded to 2 decimals, in NumPy's
 * arithmetic: selfmm_metrics_summary) of the reported values. */
int write_summary(const char *dir, const selfmm_config *cfg, const seed_result *r, int n);
/* Print the test metrics table on stdout. */
void print_table(const selfmm_config *cfg, const seed_result *r, int n);
/* Concatenate DIR/seed-<s>/NAME over the seeds into DIR/NAME (atomically). */
int concat_seed_files(const char *dir, const run_desc *d, const char *name);

#endif
