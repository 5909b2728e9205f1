/* train_run.h -- a training study into one folder, shared by `train` and `tune`
 * (each trial of a tune is a train folder): the model of each seed, selfmm_fit over
 * the ranks, each seed's result, then the folder's summary files (the best model,
 * metrics.json, results.csv, the combined logs, report.html). Also the pieces both
 * commands need around it: taking a folder (its lock), the data's feature widths,
 * the seeds list, broadcasting settings, checking a folder every rank sees. */
#ifndef SELFMM_CLI_TRAIN_RUN_H
#define SELFMM_CLI_TRAIN_RUN_H

#include "run_files.h"
#include "selfmm.h"

#include "core/dir_lock.h"

typedef struct train_study {
    const char *cmd;                  /* "train" | "tune": messages say which command */
    const char *dir;                  /* the train folder (its writer holds its lock) */
    const selfmm_config *cfg;         /* the run's config (seed: per seed) */
    const run_desc *d;
    selfmm_dataset *data;
    int resume;                       /* continue the seeds' checkpoints, keep finished seeds */
    const selfmm_collectives *ranks;  /* the ranks that train it (NULL: this process); rank 0
                                       * of them writes the folder */
    int by_seeds;                     /* train --distribute seeds (ranks must be the world) */
    int quiet;                        /* no progress */
    int print_table;                  /* the test metrics table on stdout at the end */
} train_study;

/* Train every seed of s->d into s->dir (seed-<s>/), then write the folder's summary
 * files. results[0..d->nseeds) receive the seeds' results on every rank. EXIT_OK, or
 * the exit code after a message. */
int train_study_run(const train_study *s, seed_result *results);

/* Take dir for the whole run (core/dir_lock.h): a second run into it fails at once,
 * naming the holder's pid. Then remove the temp files a killed write left there. */
int train_own_dir(const char *cmd, const char *dir, sm_lockfile *lock, int quiet);
/* Run body with a lock that it may take on its folder (train_own_dir), released
 * after body's last write: train's and tune's entry points. */
int train_with_lock(int (*body)(int argc, char **argv, sm_lockfile *lock), int argc, char **argv);

/* The model takes the data's feature widths (a preset's are those of its dataset). */
int train_adopt_widths(const char *cmd, selfmm_config *cfg, selfmm_dataset *data);

/* The thread count (under mpirun each rank takes its share of the host's CPUs
 * unless told) and the fsync setting of cfg, for this process. */
int train_set_threads(const char *cmd, const selfmm_config *cfg);

/* The run's dataset: d's file, or the demo's generated from cfg->seed. Every rank
 * reads the whole dataset: its shares change every batch. */
int train_load_data(const char *cmd, const run_desc *d, const selfmm_config *cfg, selfmm_dataset **out);

/* "1111,1112": 1 the seeds in d, 0 not a list of numbers, -1 *dup is given twice. */
int train_parse_seeds(const char *s, run_desc *d, long long *dup);

/* The bytes of rank 0 of c on every rank of c (c NULL or of size 1: nothing to do). */
int train_share(const char *cmd, const selfmm_collectives *c, void *buf, size_t bytes);

/* Every rank of the job sees dir (rank 0 writes a token there that each must read
 * back); what says what needs it, for the message. Collective over the world. */
int train_check_shared_dir(const char *cmd, const char *dir, const char *what);

#endif
