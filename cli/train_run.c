/* train_run.c -- see train_run.h. Under mpirun (cli/mpi.h) every rank of a study
 * runs this: selfmm_fit trains each seed data-parallel over the study's ranks (the
 * default) or, with --distribute seeds, over one group of ranks per seed. The
 * study's rank 0 alone writes the folder's files, a group's leader its seeds'
 * folders. */
#include "train_run.h"

#include "common.h"
#include "mpi.h"
#include "progress.h"
#include "report.h"

#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int train_parse_seeds(const char *s, run_desc *d, long long *dup)
{
    d->nseeds = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || d->nseeds >= RUN_MAX_SEEDS) return 0;
        for (int i = 0; i < d->nseeds; i++) /* one folder per seed: a repeat would share it */
            if (d->seeds[i] == v) return *dup = v, -1;
        d->seeds[d->nseeds++] = v;
        if (*end == ',') end++;
        else if (*end) return 0;
        p = end;
    }
    return d->nseeds > 0;
}

int train_set_threads(const char *cmd, const selfmm_config *cfg)
{
    selfmm_error err = {0};
    const int threads = cfg->threads ? cfg->threads : cli_mpi_default_threads();
    if (selfmm_set_threads(threads, &err) != SELFMM_OK) return cli_fail_status(cmd, err.status, err.message);
    selfmm_set_fsync(cfg->fsync);
    return EXIT_OK;
}

int train_load_data(const char *cmd, const run_desc *d, const selfmm_config *cfg, selfmm_dataset **out)
{
    selfmm_error err = {0};
    selfmm_status st;
    *out = NULL;
    if (d->demo) st = selfmm_demo_dataset((uint64_t)cfg->seed, out, &err);
    else {
        selfmm_data_options dopt = {.nan_to_zero = cfg->nan_to_zero, .clamp_lengths = cfg->clamp_lengths};
        st = selfmm_dataset_load(d->data, &dopt, out, &err);
    }
    return st == SELFMM_OK ? EXIT_OK : cli_fail_status(cmd, st, err.message);
}

/* The model takes the data's feature widths. A preset's audio_dim / video_dim are
 * those of the real dataset, which a user's data or an --init model made for other
 * data need not have; an --init file is then checked tensor by tensor against these
 * widths when it is loaded, and a model for other widths is refused there, with the
 * config keys its shapes depend on. */
int train_adopt_widths(const char *cmd, selfmm_config *cfg, selfmm_dataset *data)
{
    selfmm_split_view v;
    if (selfmm_dataset_split(data, SELFMM_SPLIT_TRAIN, &v) != SELFMM_OK)
        return cli_fail(cmd, "%s", selfmm_dataset_errmsg(data));
    if (v.audio_dim == cfg->audio_dim && v.vision_dim == cfg->video_dim) return EXIT_OK;
    if (cli_mpi_is_writer())
        fprintf(stderr, "selfmm-cli %s: feature widths from the data: audio_dim %d, video_dim %d\n", cmd,
                v.audio_dim, v.vision_dim);
    cfg->audio_dim = v.audio_dim;
    cfg->video_dim = v.vision_dim;
    return EXIT_OK;
}

/* The tokenizer a saved model keeps for raw text (predict --text): the one of the
 * BERT folder (--bert, or the run's bert_path on --resume), or the demo's
 * vocabulary. Without one the model still trains; it then takes only datasets. */
static void attach_tokenizer(const char *cmd, selfmm_model *m, const selfmm_config *cfg, const run_desc *d)
{
    static int warned;
    selfmm_error err = {0};
    selfmm_tokenizer *tok = NULL;
    selfmm_status st;
    if (d->demo) st = selfmm_demo_tokenizer(&tok, &err);
    else if (cfg->bert_path[0]) st = selfmm_tokenizer_load(cfg->bert_path, NULL, &tok, &err);
    else return;
    if (st == SELFMM_OK && selfmm_model_set_tokenizer(m, tok) != SELFMM_OK) {
        st = SELFMM_ERR_SHAPE;
        snprintf(err.message, sizeof err.message, "%s", selfmm_model_errmsg(m));
    }
    selfmm_tokenizer_free(tok);
    if (st != SELFMM_OK && !warned++)
        fprintf(stderr, "selfmm-cli %s: warning: no tokenizer kept in the model (predict --text "
                        "will not work): %s\n", cmd, err.message);
}

/* A model for one seed: fresh (BERT from --bert when given), from --init, or, when
 * the seed has a checkpoint to resume from, empty (selfmm_fit loads every weight
 * from the checkpoint). Nothing is initialised that a load overwrites next. Only the
 * leader of a group of ranks (reader = 1) reads those files and keeps the tokenizer:
 * selfmm_fit gives the others its weights, and only it saves the model. */
static int make_model(const char *cmd, const selfmm_config *cfg, const run_desc *d, int reader,
                      int from_checkpoint, selfmm_model **out)
{
    static int warned;
    selfmm_error err = {0};
    selfmm_model *m;
    const selfmm_init_mode init = from_checkpoint || d->init[0] ? SELFMM_INIT_NONE
                                  : cfg->bert_path[0]         ? SELFMM_INIT_ALL_BUT_BERT
                                                              : SELFMM_INIT_ALL;
    if (selfmm_model_create_ex(cfg, init, &m, &err) != SELFMM_OK)
        return cli_fail_status(cmd, err.status, err.message);
    selfmm_status st = SELFMM_OK;
    if (!reader) {
        *out = m;
        return EXIT_OK;
    }
    if (from_checkpoint) {
    } else if (d->init[0]) {
        st = cli_is_pth(d->init) ? selfmm_model_import_pth(m, d->init) : selfmm_model_load_weights(m, d->init);
    } else if (cfg->bert_path[0]) {
        st = selfmm_model_load_bert(m, cfg->bert_path);
    } else if (!d->demo && !warned++) { /* once: a tune trains many models */
        fprintf(stderr, "selfmm-cli %s: warning: no --bert and no --init: BERT starts from "
                        "random weights\n", cmd);
    }
    if (st != SELFMM_OK) {
        int rc = cli_fail_status(cmd, st, selfmm_model_errmsg(m));
        selfmm_model_free(m);
        return rc;
    }
    attach_tokenizer(cmd, m, cfg, d);
    *out = m;
    return EXIT_OK;
}

/* A failed MPI call ends the job in MPI itself; another failure is reported. */
int train_share(const char *cmd, const selfmm_collectives *c, void *buf, size_t bytes)
{
    if (!c || c->size <= 1 || c->broadcast(buf, bytes, 0, c->user) == 0) return EXIT_OK;
    return cli_fail(cmd, "broadcast: %s", c->errmsg ? c->errmsg(c->user) : "failed");
}

/* One seed over the ranks of group (NULL: this process alone): train (or resume),
 * then record its result. The group's rank 0 reads and writes the seed's folder. */
static int run_seed(const train_study *s, const selfmm_collectives *group, progress *prog, seed_result *res)
{
    const char *cmd = s->cmd;
    const int leader = !group || group->rank == 0;
    char sdir[SELFMM_PATH_MAX + 32], rpath[SELFMM_PATH_MAX + 64];
    snprintf(sdir, sizeof sdir, "%s/seed-%lld", s->dir, res->seed);
    snprintf(rpath, sizeof rpath, "%s/result.json", sdir);
    int have = leader ? seed_result_load(rpath, s->cfg, res) : 0;
    if (train_share(cmd, group, &have, sizeof have) != EXIT_OK) return EXIT_FAIL;
    if (have < 0) return leader ? EXIT_FAIL : (cli_mpi_quiet(), EXIT_FAIL);
    if (have > 0) return EXIT_OK; /* finished before the interruption */
    selfmm_config cfg = *s->cfg;
    cfg.seed = res->seed;
    selfmm_model *model = NULL;
    char ckpt[SELFMM_PATH_MAX + 64];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", sdir);
    int rc = make_model(cmd, &cfg, s->d, leader, s->resume && leader && sm_exists(ckpt), &model);
    if (rc != EXIT_OK) return rc;
    selfmm_fit_options fo = {.out_dir = sdir, .resume = s->resume, .save_labels = s->d->save_labels,
                             .callback = progress_event, .user = prog, .collectives = group};
    selfmm_fit_result fr;
    selfmm_error err = {0};
    selfmm_status st = selfmm_fit(model, s->data, &fo, &fr, &err);
    progress_done(prog);
    selfmm_model_free(model);
    if (st != SELFMM_OK) {
        /* every rank of the group returns the same failure: its leader reports it */
        if (!leader) return cli_mpi_quiet(), EXIT_FAIL;
        return cli_fail_status(cmd, st, err.message);
    }
    res->epochs = fr.epochs;
    res->best_epoch = fr.best_epoch;
    res->best_valid_loss = fr.best_valid_loss;
    seed_result_fill(res, &fr.test, fr.test_loss, &cfg);
    seed_result_fill_valid(res, &fr.valid, fr.best_valid_loss, &cfg);
    if (!leader) return EXIT_OK;
    return seed_result_save(rpath, res) == 0 ? EXIT_OK : EXIT_FAIL;
}

int train_own_dir(const char *cmd, const char *dir, sm_lockfile *lock, int quiet)
{
    selfmm_error err = {0};
    if (sm_dir_lock(dir, lock, &err) != SELFMM_OK) /* the message says it all */
        return err.status == SELFMM_ERR_STATE ? cli_fail(cmd, "%s", err.message)
                                              : cli_fail_status(cmd, err.status, err.message);
    int removed = 0;
    if (run_dir_remove_stale(dir, &removed) != 0) return EXIT_FAIL;
    if (removed && !quiet)
        fprintf(stderr, "selfmm-cli %s: removed %d temp file%s of writes interrupted in %s\n", cmd, removed,
                removed > 1 ? "s" : "", dir);
    return EXIT_OK;
}

/* Rank 0 leaves a token in dir that every rank must read back. */
int train_check_shared_dir(const char *cmd, const char *dir, const char *what)
{
    const selfmm_collectives *w = cli_mpi_world();
    const int writer = cli_mpi_is_writer();
    struct {
        int ok;
        unsigned long long token;
    } t = {1, ((unsigned long long)getpid() << 32) ^ (unsigned long long)(sm_now() * 1e9)};
    char path[SELFMM_PATH_MAX + 64], text[32];
    selfmm_error err = {0};
    if (writer) {
        snprintf(path, sizeof path, "%s/.selfmm-shared-%016llx", dir, t.token);
        snprintf(text, sizeof text, "%016llx", t.token);
        if (sm_atomic_write(path, text, strlen(text), &err) != SELFMM_OK)
            t.ok = 0, cli_fail_status(cmd, err.status, err.message);
    }
    if (train_share(cmd, w, &t, sizeof t) != EXIT_OK) return EXIT_FAIL;
    if (!t.ok) return writer ? EXIT_FAIL : (cli_mpi_quiet(), EXIT_FAIL);
    snprintf(path, sizeof path, "%s/.selfmm-shared-%016llx", dir, t.token);
    snprintf(text, sizeof text, "%016llx", t.token);
    char *got = NULL;
    size_t len = 0;
    int mine = sm_read_file(path, 64, &got, &len, NULL) == SELFMM_OK && len == strlen(text) &&
               !memcmp(got, text, len);
    free(got);
    int *all = calloc((size_t)w->size, sizeof *all);
    if (!all || w->allgather(&mine, sizeof mine, all, w->user) != 0)
        return free(all), cli_fail(cmd, "allgather failed");
    int ok = 1;
    for (int r = 0; r < w->size; r++) ok &= all[r];
    free(all);
    if (writer) unlink(path);
    if (ok) return EXIT_OK;
    if (!mine)
        return cli_fail(cmd, "%s needs --out on a filesystem every rank sees: %s, written by rank 0, is not here",
                        what, path);
    return cli_mpi_quiet(), EXIT_FAIL;
}

/* --distribute seeds: every rank receives each seed's result from the leader of the
 * group that trained it (group color trains seeds color, color + groups, ...). */
static int gather_results(const char *cmd, const selfmm_collectives *w, int groups, int color, int leader,
                          seed_result *res, int nseeds)
{
    typedef struct {
        int has[RUN_MAX_SEEDS];
        seed_result r[RUN_MAX_SEEDS];
    } block;
    block *mine = calloc(1, sizeof *mine), *all = calloc((size_t)w->size, sizeof *all);
    int rc = mine && all ? EXIT_OK : cli_fail(cmd, "out of memory");
    if (rc == EXIT_OK) {
        for (int i = 0; i < nseeds; i++)
            if (leader && i % groups == color) mine->has[i] = 1, mine->r[i] = res[i];
        if (w->allgather(mine, sizeof *mine, all, w->user) != 0) rc = cli_fail(cmd, "allgather failed");
    }
    for (int i = 0; i < nseeds && rc == EXIT_OK; i++) {
        int found = 0;
        for (int r = 0; r < w->size && !found; r++)
            if (all[r].has[i]) res[i] = all[r].r[i], found = 1;
        if (!found) rc = cli_fail(cmd, "no result for seed %lld", res[i].seed);
    }
    free(mine), free(all);
    return rc;
}

int train_study_run(const train_study *s, seed_result *results)
{
    const char *cmd = s->cmd, *dir = s->dir;
    const run_desc *d = s->d;
    const selfmm_collectives *world = s->ranks && s->ranks->size > 1 ? s->ranks : NULL;
    const int writer = !world || world->rank == 0; /* the one process that writes dir's files */
    int rc = EXIT_OK;
    /* Who trains which seed: every rank every seed (data-parallel over the ranks), or
     * with --distribute seeds group g of G contiguous ranks seeds g, g + G, ... */
    const selfmm_collectives *group = world;
    selfmm_collectives group_table;
    int groups = 1, color = 0;
    if (s->by_seeds && world) {
        groups = d->nseeds < world->size ? d->nseeds : world->size;
        color = (int)((long long)world->rank * groups / world->size);
        rc = train_check_shared_dir(cmd, dir, "--distribute seeds");
        if (rc == EXIT_OK) rc = cli_mpi_split(color, &group_table);
        if (rc != EXIT_OK) return rc;
        group = group_table.size > 1 ? &group_table : NULL;
    }
    const int leader = !group || group->rank == 0;
    progress prog;
    progress_init(&prog, s->quiet || !leader);
    if (!writer || !cli_mpi_is_writer()) prog.tty = 0; /* one bar on the terminal: the job's rank 0 */
    memset(results, 0, sizeof *results * (size_t)d->nseeds);
    for (int i = 0; i < d->nseeds && rc == EXIT_OK; i++) {
        results[i].seed = d->seeds[i];
        if (i % groups == color) rc = run_seed(s, group, &prog, &results[i]);
    }
    if (rc != EXIT_OK) return rc;
    /* With groups, rank 0 collects the other groups' results from their leaders (a
     * failed group has ended the job). */
    if (groups > 1 && (rc = gather_results(cmd, world, groups, color, leader, results, d->nseeds)) != EXIT_OK)
        return rc;
    if (!writer) return EXIT_OK;

    /* The best run's model (lowest validation Loss; the first on ties) at the top. */
    int best = 0;
    for (int i = 1; i < d->nseeds; i++)
        if (results[i].best_valid_loss < results[best].best_valid_loss) best = i;
    char from[SELFMM_PATH_MAX + 64], to[SELFMM_PATH_MAX + 32];
    selfmm_error err = {0};
    snprintf(from, sizeof from, "%s/seed-%lld/model.safetensors", dir, d->seeds[best]);
    snprintf(to, sizeof to, "%s/model.safetensors", dir);
    /* a second name for the seed's file, not a copy (0.4 GB for bert-base): nothing
     * rewrites either in place (core/atomic_file.h) */
    if (sm_atomic_link(from, to, &err) != SELFMM_OK) return cli_fail_status(cmd, err.status, err.message);
    if (write_summary(dir, s->cfg, results, d->nseeds) != 0 || concat_seed_files(dir, d, "train_log.jsonl") != 0 ||
        (d->save_labels && concat_seed_files(dir, d, "labels.jsonl") != 0))
        return EXIT_FAIL;
    if (s->print_table) print_table(s->cfg, results, d->nseeds);
    /* the run is done and saved: a report that cannot be written is only a warning */
    char msg[SELFMM_PATH_MAX + 256];
    if (report_write(dir, NULL, msg, sizeof msg) != 0)
        fprintf(stderr, "selfmm-cli %s: warning: report.html not written: %s\n", cmd, msg);
    return EXIT_OK;
}

int train_with_lock(int (*body)(int argc, char **argv, sm_lockfile *lock), int argc, char **argv)
{
    sm_lockfile lock;
    sm_lockfile_init(&lock);
    int rc = body(argc, argv, &lock);
    sm_dir_unlock(&lock); /* after the last write into the folder */
    return rc;
}
