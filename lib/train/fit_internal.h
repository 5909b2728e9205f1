/* fit_internal.h -- what the three files of selfmm_fit share. Like them it is
 * written only on the public API (nothing of the library but selfmm.h):
 * - fit.c: the recipe, one training run step by step;
 * - fit_log.c: train_log.jsonl and labels.jsonl, written by an event handler of the
 *   selfmm_fit_callback shape from the same events the caller's callback gets;
 * - fit_resume.c: the run state stored with each checkpoint, and resuming from it.
 * See docs/ARCHITECTURE.md, "Training runs". */
#ifndef SM_TRAIN_FIT_INTERNAL_H
#define SM_TRAIN_FIT_INTERNAL_H

#include "selfmm.h"
#include "train/dist.h"

#include <stdarg.h>
#include <stdio.h>

/* Status st with a printf-style message in *err (err may be NULL); returns st. */
selfmm_status sm_fit_fail(selfmm_error *err, selfmm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
selfmm_status sm_fit_vfail(selfmm_error *err, selfmm_status st, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* A failed call on one of the run's handles: "what: msg" (msg empty: the status's text). */
selfmm_status sm_fit_fail_from(selfmm_error *err, selfmm_status st, const char *what, const char *msg);

/* A number in JSON: %.17g keeps every double exact; NaN/Inf become null (JSON has no
 * such numbers). */
void sm_fit_json_num(FILE *fp, double v);

/* ---- fit_log.c: the run's JSON-lines logs -------------------------------- */

typedef struct sm_fit_log {
    FILE *log;                  /* train_log.jsonl: batch, step and epoch lines */
    FILE *labels;               /* labels.jsonl: the label maps after each epoch; NULL when
                                   labels are not saved */
    const char *log_path, *labels_path; /* the caller's strings, for messages */
    selfmm_error err;           /* why sm_fit_log_event refused an event */
} sm_fit_log;

/* Open the logs: labels_path NULL writes no labels file. append = 1 continues files
 * that resume has cut to their recorded lengths (sm_fit_resume), 0 starts them empty. */
selfmm_status sm_fit_log_open(sm_fit_log *lg, const char *log_path, const char *labels_path,
                              int append, selfmm_error *err);
/* The event handler (a selfmm_fit_callback; log is the sm_fit_log): writes the
 * event's lines. After an EPOCH event both files are flushed and synced, so that the
 * checkpoint that follows can record their lengths. Returns non-zero when a write
 * failed, with the message in the log's err. */
int sm_fit_log_event(const selfmm_fit_event *event, void *log);
/* The lines of one event, to log (train_log.jsonl) and labels (labels.jsonl; EPOCH
 * only; may be NULL): what sm_fit_log_event writes, from nothing but the event. */
void sm_fit_log_lines(FILE *log, FILE *labels, const selfmm_fit_event *event);
/* The logs' lengths in bytes as a checkpoint records them: labels -1 when there is no
 * labels file. */
void sm_fit_log_lengths(const sm_fit_log *lg, long *log_bytes, long *labels_bytes);
void sm_fit_log_close(sm_fit_log *lg);

/* ---- fit_resume.c: the run state in the checkpoint, resume --------------- */

/* Write the checkpoint of a completed epoch: model, optimizer and label state
 * (selfmm_checkpoint_save) with the run state: es (epochs, best epoch, best Loss),
 * the logs' lengths (labels_bytes -1: no labels file) and the run's seed. */
selfmm_status sm_fit_checkpoint_save(const char *path, selfmm_model *model,
                                     const selfmm_optim *optim, const selfmm_ulgm *ulgm,
                                     const selfmm_early_stop *es, long log_bytes,
                                     long labels_bytes, int64_t seed, selfmm_error *err);

/* The run's files in out_dir. */
typedef struct sm_fit_files {
    char log[SELFMM_PATH_MAX];        /* train_log.jsonl */
    char labels[SELFMM_PATH_MAX];     /* labels.jsonl */
    char checkpoint[SELFMM_PATH_MAX]; /* checkpoint.safetensors: the last epoch's */
    char model[SELFMM_PATH_MAX];      /* model.safetensors: the best weights, written at the end */
    char best[SELFMM_PATH_MAX];       /* checkpoint-best.safetensors: the best epoch's checkpoint,
                                         during the run (a second name of checkpoint.safetensors
                                         until a later epoch replaces that) */
} sm_fit_files;

/* The checkpoint of a completed epoch (sm_fit_checkpoint_save) into
 * files->checkpoint; for a new best epoch (best = 1) first into files->best, then
 * the same file linked as files->checkpoint (one write: the best weights cost
 * nothing more; a file system without hard links gets a second write). In that
 * order, a kill between the two leaves the best file one epoch ahead of the
 * checkpoint, which the resumed run's repeat of that epoch makes best again. */
selfmm_status sm_fit_checkpoint_write(const sm_fit_files *files, int best, selfmm_model *model,
                                      const selfmm_optim *optim, const selfmm_ulgm *ulgm,
                                      const selfmm_early_stop *es, long log_bytes, long labels_bytes,
                                      int64_t seed, selfmm_error *err);
/* The end of a run with an out_dir: the best weights into model (the weights of
 * files->best; from files->model for runs started by libselfmm versions that kept the
 * best weights there; not read when holds_best says the model has them: the last
 * epoch was the best), then files->model written and files->best removed. The
 * optimizer, the labels and the model's step counter are left as they are. */
selfmm_status sm_fit_best_restore(const sm_fit_files *files, selfmm_model *model, int holds_best,
                                  selfmm_error *err);

/* Continue a run from files->checkpoint when it exists (*resumed = 1; 0 and nothing
 * changed when there is none): the validation metrics of the best weights
 * (files->best, or files->model as sm_fit_best_restore) into *best_valid, the checkpoint into model, optim and ulgm, the run
 * state into *es and *stop (what selfmm_early_stop_update answered after that epoch,
 * with cfg's early_stop), and the logs cut to the lengths recorded with it (the
 * labels file only when save_labels). A run state that is not the one
 * sm_fit_checkpoint_save writes is SELFMM_ERR_FORMAT, one of another seed than
 * cfg->seed SELFMM_ERR_STATE; then the logs are left alone. Several ranks: rank 0
 * alone reads and cuts the files and sends what it read to the others (the weights,
 * the training state); every rank returns the same. */
selfmm_status sm_fit_resume(sm_dist *dist, const sm_fit_files *files, int save_labels, const selfmm_config *cfg,
                            selfmm_model *model, selfmm_dataset *data, selfmm_optim *optim,
                            selfmm_ulgm *ulgm, selfmm_early_stop *es, int *stop,
                            selfmm_metrics *best_valid, int *resumed, selfmm_error *err);

#endif
