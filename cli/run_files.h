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
    /* recorded in run.json only (config.json holds the setting): with bf16 the bits
     * depend on the CPU's ISA as well as on the seed and thread count */
    char precision[8];            /* "fp32" | "bf16"; "": not recorded */
    char isa[32];                 /* oneDNN's effective ISA (selfmm_cpu_isa) */
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
    struct {                          /* the best epoch's validation metrics, then "Loss"
                                       * (what do_test returns on the valid split; `tune`
                                       * scores trials with them); count 0 in the files
                                       * of versions before `tune` */
        int count;
        char name[SELFMM_MAX_METRICS][32];
        double value[SELFMM_MAX_METRICS], raw[SELFMM_MAX_METRICS];
    } valid;
} seed_result;

/* A run's test result as the reference's do_test returns it: the metrics (m, already
 * rounded as cfg says), then "Loss" (test_loss, rounded when valid_loss_decimals >= 0). */
void seed_result_fill(seed_result *r, const selfmm_metrics *m, double test_loss, const selfmm_config *cfg);
/* The same for r->valid: the best epoch's validation metrics and its Loss. */
void seed_result_fill_valid(seed_result *r, const selfmm_metrics *m, double valid_loss, const selfmm_config *cfg);

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

/* ---- The run layout: which files of a --out folder belong to the run ----
 * The run's files are the names `train` and selfmm_fit write (run_top_names and,
 * in each seed-<n>/ folder, run_seed_names), the temp files of their atomic
 * writes (NAME.tmp.*) and the seed-<n>/ folders themselves. Every other file in
 * the folder is the user's: never read, never removed. The lock file
 * (core/dir_lock.h) stays. */
extern const char *const run_top_names[];  /* NULL-terminated */
extern const char *const run_seed_names[]; /* NULL-terminated */

/* Does dir hold (part of) a run? 1 with the first file or folder found in what
 * (at most cap bytes), 0 when none, -1 (printed) when dir cannot be listed. */
int run_dir_find(const char *dir, char *what, size_t cap);
/* Remove every file of the run in dir and its seed-<n>/ folders (those left with
 * files of the user's stay, with them). Call only while holding dir's lock. */
int run_dir_clear(const char *dir);
/* Remove the temp files that atomic writes killed half-way left in dir and its
 * seed-<n>/ folders (kill -9, power loss). Call only while holding dir's lock.
 * *removed (may be NULL) counts them. */
int run_dir_remove_stale(const char *dir, int *removed);

#endif
