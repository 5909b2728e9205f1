/* cmd_train.c -- `selfmm-cli train`: one run per seed with selfmm_fit, then the
 * study summary (MMSA's mean and std x100) and the files of the --out directory.
 *
 * Under mpirun (cli/mpi.h) every rank runs this file: rank 0 reads the run's
 * settings and sends them to the others, every rank loads the dataset, and
 * selfmm_fit trains each seed data-parallel over all ranks (the default) or, with
 * --distribute seeds, over one group of ranks per seed. Rank 0 alone writes the
 * files of --out (cli_mpi_is_writer), a group's leader its seeds' folders. */
#include "commands.h"
#include "common.h"
#include "mpi.h"
#include "progress.h"
#include "report.h"
#include "run_files.h"

#include "core/atomic_file.h"
#include "core/dir_lock.h"
#include "core/clock.h"
#include "core/file.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void)
{
    printf(
        "usage: selfmm-cli train [--preset NAME | --config FILE] --data PATH [--bert DIR]\n"
        "                        --out DIR [--seeds LIST] [--threads N] [--max-epochs N]\n"
        "                        [--no-shuffle] [--init MODEL] [--set key=value]...\n"
        "                        [--save-labels] [--overwrite] [--quiet] [--distribute data|seeds]\n"
        "                        [--precision fp32|bf16]\n"
        "       selfmm-cli train --resume DIR [--threads N] [--quiet] [--distribute data|seeds]\n"
        "       selfmm-cli train --demo [--out DIR] [--seeds LIST] [--set key=value]... [--overwrite]\n"
        "                        [--precision fp32|bf16]\n\n"
        "Train Self-MM as the reference does (docs/MODEL.md §3): one run per seed, early\n"
        "stopping on the validation Loss, test metrics of the best weights.\n\n"
        "  --preset NAME     sims, mosi, mosei, mmsa-sims, mmsa-mosi, mmsa-mosei (default sims)\n"
        "  --config FILE     JSON config (see `selfmm-cli config`)\n"
        "  --data PATH       MMSA pickle (.pkl) or .npz dataset\n"
        "  --bert DIR        HuggingFace BERT folder: its config.json and pretrained weights;\n"
        "                    its vocab.txt is kept in the model (predict --text)\n"
        "  --out DIR         output directory (created); one run at a time: a run holds it\n"
        "                    (DIR/.selfmm.lock) until it ends\n"
        "  --overwrite       replace the run already in --out (its files only; other files stay)\n"
        "  --seeds LIST      comma-separated seeds, e.g. 1111,1112,1113,1114,1115 (default: the\n"
        "                    config's seed)\n"
        "  --threads N       threads for OpenBLAS and oneDNN together (0 = all CPUs; under\n"
        "                    mpirun: the CPUs shared by the ranks on each host)\n"
        "  --max-epochs N    stop after N epochs at the latest (0 = early stopping only)\n"
        "  --no-shuffle      keep the training set in order\n"
        "  --precision P     fp32 (default: number for number with the reference) or bf16: mixed\n"
        "                    precision, BERT's GEMMs on bf16 inputs, about 3x faster where the\n"
        "                    CPU has AMX (Intel) or AVX512_BF16 (AMD); refused elsewhere\n"
        "                    (docs/PLATFORM.md); same as --set precision=P\n"
        "  --init MODEL      start from a model (native .safetensors or reference .pth) instead\n"
        "                    of a fresh model with BERT from --bert\n"
        "  --set key=value   override one config key (repeatable), e.g. --set batch_size=8;\n"
        "                    BERT's dropouts: hidden_dropout_prob, attention_probs_dropout_prob\n"
        "  --save-labels     write the generated unimodal labels after each epoch (labels.jsonl)\n"
        "  --resume DIR      continue an interrupted run in DIR; finishes exactly as an\n"
        "                    uninterrupted run would (a finished one is only summarised again)\n"
        "  --demo            the embedded demo: a generated SIMS-shaped dataset and a small model\n"
        "                    (default --out runs/demo)\n"
        "  --quiet           no progress output\n"
        "  --distribute HOW  under mpirun: data (default) trains each seed data-parallel over\n"
        "                    all ranks; seeds trains one seed per group of ranks at once\n"
        "                    (needs --out on a filesystem every rank sees)\n\n"
        "Under mpirun (mpirun -np N selfmm-cli train ...) the ranks share every batch; results\n"
        "agree with one process to rounding, and rank 0 writes every file (docs/SCALING.md).\n\n"
        "In DIR: model.safetensors (best run), metrics.json, results.csv, train_log.jsonl,\n"
        "report.html (charts of the run; see `selfmm-cli report`),\n"
        "labels.jsonl (with --save-labels), config.json, run.json, and seed-<s>/ per run\n"
        "(its checkpoint, best model and logs); the demo also writes its data as data.npz.\n");
}

typedef struct train_args {
    const char *preset, *config, *data, *bert, *out, *init, *resume, *seeds, *precision;
    char **sets;
    int nsets;
    int threads, max_epochs, no_shuffle, save_labels, demo, quiet, overwrite;
    int by_seeds;                /* --distribute seeds */
} train_args;

/* 1: the seeds, 0: not a list of numbers, -1: *dup is given twice. */
static int parse_seeds(const char *s, run_desc *d, long long *dup)
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

static int parse_args(int argc, char **argv, train_args *a)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'},  {"config", required_argument, 0, 'c'},
        {"data", required_argument, 0, 'd'},    {"bert", required_argument, 0, 'b'},
        {"out", required_argument, 0, 'o'},     {"seeds", required_argument, 0, 'S'},
        {"threads", required_argument, 0, 't'}, {"max-epochs", required_argument, 0, 'm'},
        {"no-shuffle", no_argument, 0, 'n'},    {"init", required_argument, 0, 'i'},
        {"set", required_argument, 0, 's'},     {"save-labels", no_argument, 0, 'l'},
        {"resume", required_argument, 0, 'r'},  {"demo", no_argument, 0, 'D'},
        {"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
        {"overwrite", no_argument, 0, 'O'},     {"distribute", required_argument, 0, 'x'},
        {"precision", required_argument, 0, 'P'}, {0, 0, 0, 0},
    };
    memset(a, 0, sizeof *a);
    a->threads = a->max_epochs = -1;
    a->sets = calloc((size_t)argc + 1, sizeof *a->sets);
    if (!a->sets) return cli_fail("train", "out of memory");
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': a->preset = optarg; break;
        case 'c': a->config = optarg; break;
        case 'd': a->data = optarg; break;
        case 'b': a->bert = optarg; break;
        case 'o': a->out = optarg; break;
        case 'S': a->seeds = optarg; break;
        case 't':
            if (!cli_parse_int(optarg, &a->threads) || a->threads < 0 || a->threads > 1024)
                return cli_usage_error("train", "--threads expects a number in [0, 1024], got '%s'", optarg);
            break;
        case 'm':
            if (!cli_parse_int(optarg, &a->max_epochs) || a->max_epochs < 0)
                return cli_usage_error("train", "--max-epochs expects a number >= 0, got '%s'", optarg);
            break;
        case 'n': a->no_shuffle = 1; break;
        case 'P': {
            selfmm_precision p;
            if (!cli_parse_precision(optarg, &p))
                return cli_usage_error("train", "--precision expects fp32 or bf16, got '%s'", optarg);
            a->precision = optarg;
            break;
        }
        case 'i': a->init = optarg; break;
        case 's': a->sets[a->nsets++] = optarg; break;
        case 'l': a->save_labels = 1; break;
        case 'r': a->resume = optarg; break;
        case 'D': a->demo = 1; break;
        case 'q': a->quiet = 1; break;
        case 'O': a->overwrite = 1; break;
        case 'x':
            if (strcmp(optarg, "data") != 0 && strcmp(optarg, "seeds") != 0)
                return cli_usage_error("train", "--distribute expects data or seeds, got '%s'", optarg);
            a->by_seeds = !strcmp(optarg, "seeds");
            break;
        case 'h':
            if (cli_mpi_is_writer()) help();
            return -1;
        default: return cli_usage_error("train", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (a->resume) {
        if (a->preset || a->config || a->data || a->bert || a->out || a->init || a->seeds ||
            a->nsets || a->max_epochs >= 0 || a->no_shuffle || a->save_labels || a->demo || a->overwrite ||
            a->precision)
            return cli_usage_error("train", "--resume DIR takes the run's settings from DIR; only "
                                            "--threads, --quiet and --distribute may be given with it");
        return EXIT_OK;
    }
    if (a->demo) {
        if (a->data || a->preset || a->config || a->init || a->bert)
            return cli_usage_error("train", "--demo generates its data and model: drop --data, "
                                            "--preset, --config, --bert and --init");
        if (!a->out) a->out = "runs/demo";
        return EXIT_OK;
    }
    if (!a->data) return cli_usage_error("train", "--data PATH is required");
    if (!a->out) return cli_usage_error("train", "--out DIR is required");
    return EXIT_OK;
}

/* Config from the arguments: preset/config, BERT's config.json, flags, then --set. */
static int build_config(const train_args *a, selfmm_config *cfg)
{
    char thr[32], ep[32], prec[32];
    char **sets = calloc((size_t)a->nsets + 4, sizeof *sets);
    if (!sets) return cli_fail("train", "out of memory");
    int n = 0;
    if (a->threads >= 0) snprintf(thr, sizeof thr, "threads=%d", a->threads), sets[n++] = thr;
    if (a->max_epochs >= 0) snprintf(ep, sizeof ep, "max_epochs=%d", a->max_epochs), sets[n++] = ep;
    if (a->no_shuffle) sets[n++] = "shuffle=false";
    if (a->precision) snprintf(prec, sizeof prec, "precision=%s", a->precision), sets[n++] = prec;
    for (int i = 0; i < a->nsets; i++) sets[n++] = a->sets[i];
    int rc;
    if (a->demo) {
        selfmm_demo_config(cfg);
        rc = cli_apply_sets("train", sets, n, cfg);
    } else {
        rc = cli_build_config("train", a->preset, a->config, a->bert, sets, n, cfg);
    }
    free(sets);
    return rc;
}

/* The model takes the data's feature widths. A preset's audio_dim / video_dim are
 * those of the real dataset, which a user's data or an --init model made for other
 * data need not have; an --init file is then checked tensor by tensor against these
 * widths when it is loaded, and a model for other widths is refused there, with the
 * config keys its shapes depend on. */
static int adopt_widths(selfmm_config *cfg, selfmm_dataset *data)
{
    selfmm_split_view v;
    if (selfmm_dataset_split(data, SELFMM_SPLIT_TRAIN, &v) != SELFMM_OK)
        return cli_fail("train", "%s", selfmm_dataset_errmsg(data));
    if (v.audio_dim == cfg->audio_dim && v.vision_dim == cfg->video_dim) return EXIT_OK;
    if (cli_mpi_is_writer())
        fprintf(stderr, "selfmm-cli train: feature widths from the data: audio_dim %d, video_dim %d\n",
                v.audio_dim, v.vision_dim);
    cfg->audio_dim = v.audio_dim;
    cfg->video_dim = v.vision_dim;
    return EXIT_OK;
}

/* The tokenizer a saved model keeps for raw text (predict --text): the one of the
 * BERT folder (--bert, or the run's bert_path on --resume), or the demo's
 * vocabulary. Without one the model still trains; it then takes only datasets. */
static void attach_tokenizer(selfmm_model *m, const selfmm_config *cfg, const run_desc *d)
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
        fprintf(stderr, "selfmm-cli train: warning: no tokenizer kept in the model (predict --text "
                        "will not work): %s\n", err.message);
}

/* A model for one seed: fresh (BERT from --bert when given), from --init, or, when
 * the seed has a checkpoint to resume from, empty (selfmm_fit loads every weight
 * from the checkpoint). Nothing is initialised that a load overwrites next. Only the
 * leader of a group of ranks (reader = 1) reads those files and keeps the tokenizer:
 * selfmm_fit gives the others its weights, and only it saves the model. */
static int make_model(const selfmm_config *cfg, const run_desc *d, int reader, int from_checkpoint,
                      selfmm_model **out)
{
    selfmm_error err = {0};
    selfmm_model *m;
    const selfmm_init_mode init = from_checkpoint || d->init[0] ? SELFMM_INIT_NONE
                                  : cfg->bert_path[0]         ? SELFMM_INIT_ALL_BUT_BERT
                                                              : SELFMM_INIT_ALL;
    if (selfmm_model_create_ex(cfg, init, &m, &err) != SELFMM_OK)
        return cli_fail_status("train", err.status, err.message);
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
    } else if (!d->demo) {
        fprintf(stderr, "selfmm-cli train: warning: no --bert and no --init: BERT starts from "
                        "random weights\n");
    }
    if (st != SELFMM_OK) {
        int rc = cli_fail_status("train", st, selfmm_model_errmsg(m));
        selfmm_model_free(m);
        return rc;
    }
    attach_tokenizer(m, cfg, d);
    *out = m;
    return EXIT_OK;
}

/* The bytes of rank 0 of group c on every rank of it (c NULL or size 1: nothing to
 * do). A failed MPI call ends the job in MPI itself; another failure is reported. */
static int share(const selfmm_collectives *c, void *buf, size_t bytes)
{
    if (!c || c->size <= 1 || c->broadcast(buf, bytes, 0, c->user) == 0) return EXIT_OK;
    return cli_fail("train", "broadcast: %s", c->errmsg ? c->errmsg(c->user) : "failed");
}

/* One seed over the ranks of group (NULL: this process alone): train (or resume),
 * then record its result. The group's rank 0 reads and writes the seed's folder. */
static int run_seed(const char *dir, const selfmm_config *base, const run_desc *d,
                    selfmm_dataset *data, int resume, const selfmm_collectives *group, progress *prog,
                    seed_result *res)
{
    const int leader = !group || group->rank == 0;
    char sdir[SELFMM_PATH_MAX + 32], rpath[SELFMM_PATH_MAX + 64];
    snprintf(sdir, sizeof sdir, "%s/seed-%lld", dir, res->seed);
    snprintf(rpath, sizeof rpath, "%s/result.json", sdir);
    int have = leader ? seed_result_load(rpath, base, res) : 0;
    if (share(group, &have, sizeof have) != EXIT_OK) return EXIT_FAIL;
    if (have < 0) return leader ? EXIT_FAIL : (cli_mpi_quiet(), EXIT_FAIL);
    if (have > 0) return EXIT_OK; /* finished before the interruption */
    selfmm_config cfg = *base;
    cfg.seed = res->seed;
    selfmm_model *model = NULL;
    char ckpt[SELFMM_PATH_MAX + 64];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", sdir);
    int rc = make_model(&cfg, d, leader, resume && leader && sm_exists(ckpt), &model);
    if (rc != EXIT_OK) return rc;
    selfmm_fit_options fo = {.out_dir = sdir, .resume = resume, .save_labels = d->save_labels,
                             .callback = progress_event, .user = prog, .collectives = group};
    selfmm_fit_result fr;
    selfmm_error err = {0};
    selfmm_status st = selfmm_fit(model, data, &fo, &fr, &err);
    progress_done(prog);
    selfmm_model_free(model);
    if (st != SELFMM_OK) {
        /* every rank of the group returns the same failure: its leader reports it */
        if (!leader) return cli_mpi_quiet(), EXIT_FAIL;
        return cli_fail_status("train", st, err.message);
    }
    res->epochs = fr.epochs;
    res->best_epoch = fr.best_epoch;
    res->best_valid_loss = fr.best_valid_loss;
    seed_result_fill(res, &fr.test, fr.test_loss, &cfg);
    if (!leader) return EXIT_OK;
    return seed_result_save(rpath, res) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* Own dir for the whole run (core/dir_lock.h): a second run into it fails here,
 * at once, naming the holder. Then clear what a killed write left behind. */
static int own_dir(const char *dir, sm_lockfile *lock, int quiet)
{
    selfmm_error err = {0};
    if (sm_dir_lock(dir, lock, &err) != SELFMM_OK) /* the message says it all */
        return err.status == SELFMM_ERR_STATE ? cli_fail("train", "%s", err.message)
                                              : cli_fail_status("train", err.status, err.message);
    int removed = 0;
    if (run_dir_remove_stale(dir, &removed) != 0) return EXIT_FAIL;
    if (removed && !quiet)
        fprintf(stderr, "selfmm-cli train: removed %d temp file%s of writes interrupted in %s\n", removed,
                removed > 1 ? "s" : "", dir);
    return EXIT_OK;
}

/* A new run goes into a folder without one, or replaces it with --overwrite. */
static int check_fresh(const char *dir, int overwrite, int *found)
{
    char what[64];
    *found = run_dir_find(dir, what, sizeof what);
    if (*found < 0) return EXIT_FAIL;
    if (*found && !overwrite)
        return cli_fail("train", "%s already holds a run (%s): continue it with --resume %s, train into "
                                 "another --out, or replace it with --overwrite", dir, what, dir);
    return EXIT_OK;
}

/* The run's settings: DIR's run.json and config.json on --resume, else the
 * arguments. The process that writes DIR takes it first (own_dir); *found says
 * whether a new run replaces one there (--overwrite). */
static int describe_run(const train_args *a, const char *dir, run_desc *d, selfmm_config *cfg,
                        sm_lockfile *lock, int *found)
{
    selfmm_error err = {0};
    memset(d, 0, sizeof *d);
    *found = 0;
    if (a->resume) {
        char cfg_path[SELFMM_PATH_MAX + 32], run_path[SELFMM_PATH_MAX + 32];
        snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
        snprintf(run_path, sizeof run_path, "%s/run.json", dir);
        /* (no run.json: no run to lock; run_desc_load says so) */
        if (sm_exists(run_path) && own_dir(dir, lock, a->quiet) != EXIT_OK) return EXIT_FAIL;
        if (run_desc_load(dir, d) != 0) return EXIT_FAIL;
        selfmm_config_default(cfg);
        if (selfmm_config_load_json(cfg, cfg_path, &err) != SELFMM_OK)
            return cli_fail_status("train", err.status, err.message);
        if (a->threads >= 0) cfg->threads = a->threads;
        return cli_check_precision("train", (selfmm_precision)cfg->precision);
    }
    int rc = build_config(a, cfg);
    if (rc != EXIT_OK) return rc;
    /* before the folder is made: a refused precision leaves nothing behind */
    if (cli_check_precision("train", (selfmm_precision)cfg->precision) != EXIT_OK) return EXIT_FAIL;
    d->demo = a->demo;
    d->save_labels = a->save_labels;
    snprintf(d->precision, sizeof d->precision, "%s", cfg->precision == SELFMM_PRECISION_BF16 ? "bf16" : "fp32");
    snprintf(d->isa, sizeof d->isa, "%s", selfmm_cpu_isa());
    if (a->data && snprintf(d->data, sizeof d->data, "%s", a->data) >= (int)sizeof d->data)
        return cli_usage_error("train", "--data path too long");
    if (a->init && snprintf(d->init, sizeof d->init, "%s", a->init) >= (int)sizeof d->init)
        return cli_usage_error("train", "--init path too long");
    if (a->seeds) {
        long long dup = 0;
        int ok = parse_seeds(a->seeds, d, &dup);
        if (ok < 0)
            return cli_usage_error("train", "--seeds: seed %lld is given twice (each seed is one run, in "
                                            "seed-%lld/)", dup, dup);
        if (!ok)
            return cli_usage_error("train", "--seeds expects numbers separated by commas, got '%s'", a->seeds);
    } else {
        d->nseeds = 1;
        d->seeds[0] = cfg->seed;
    }
    if (sm_mkdirs(dir, &err) != SELFMM_OK) return cli_fail_status("train", err.status, err.message);
    if (own_dir(dir, lock, a->quiet) != EXIT_OK || check_fresh(dir, a->overwrite, found) != EXIT_OK)
        return EXIT_FAIL;
    return EXIT_OK;
}

/* Under mpirun rank 0 alone reads the settings (only its host needs --config, the
 * BERT folder's config.json, or DIR on --resume) and sends them to every rank. */
static int settle_run(const train_args *a, const char *dir, run_desc *d, selfmm_config *cfg,
                      sm_lockfile *lock, int *found)
{
    const selfmm_collectives *world = cli_mpi_world();
    *found = 0;
    int rc = cli_mpi_is_writer() ? describe_run(a, dir, d, cfg, lock, found) : EXIT_OK;
    if (!world) return rc;
    struct {
        int rc;
        run_desc d;
        selfmm_config cfg;
    } *m = calloc(1, sizeof *m);
    if (!m) return cli_fail("train", "out of memory");
    m->rc = rc;
    if (cli_mpi_is_writer() && rc == EXIT_OK) m->d = *d, m->cfg = *cfg;
    if (share(world, m, sizeof *m) != EXIT_OK) rc = EXIT_FAIL;
    else if ((rc = m->rc) == EXIT_OK) *d = m->d, *cfg = m->cfg;
    else if (!cli_mpi_is_writer()) cli_mpi_quiet(); /* rank 0 said why */
    free(m);
    return rc;
}

/* --distribute seeds: every group's leader writes its seeds' folders and rank 0 reads
 * them all at the end, so DIR must be one folder for every rank. Rank 0 leaves a
 * token in it that every rank must read back. */
static int check_shared_out(const char *dir)
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
            t.ok = 0, cli_fail_status("train", err.status, err.message);
    }
    if (share(w, &t, sizeof t) != EXIT_OK) return EXIT_FAIL;
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
        return free(all), cli_fail("train", "allgather failed");
    int ok = 1;
    for (int r = 0; r < w->size; r++) ok &= all[r];
    free(all);
    if (writer) unlink(path);
    if (ok) return EXIT_OK;
    if (!mine)
        return cli_fail("train", "--distribute seeds needs --out on a filesystem every rank sees: %s, "
                                 "written by rank 0, is not here",
                        path);
    return cli_mpi_quiet(), EXIT_FAIL;
}

/* --distribute seeds: every rank receives each seed's result from the leader of the
 * group that trained it (group color trains seeds color, color + groups, ...). */
static int gather_results(const selfmm_collectives *w, int groups, int color, int leader, seed_result *res,
                          int nseeds)
{
    typedef struct {
        int has[RUN_MAX_SEEDS];
        seed_result r[RUN_MAX_SEEDS];
    } block;
    block *mine = calloc(1, sizeof *mine), *all = calloc((size_t)w->size, sizeof *all);
    int rc = mine && all ? EXIT_OK : cli_fail("train", "out of memory");
    if (rc == EXIT_OK) {
        for (int i = 0; i < nseeds; i++)
            if (leader && i % groups == color) mine->has[i] = 1, mine->r[i] = res[i];
        if (w->allgather(mine, sizeof *mine, all, w->user) != 0) rc = cli_fail("train", "allgather failed");
    }
    for (int i = 0; i < nseeds && rc == EXIT_OK; i++) {
        int found = 0;
        for (int r = 0; r < w->size && !found; r++)
            if (all[r].has[i]) res[i] = all[r].r[i], found = 1;
        if (!found) rc = cli_fail("train", "no result for seed %lld", res[i].seed);
    }
    free(mine), free(all);
    return rc;
}

static int train(int argc, char **argv, sm_lockfile *lock)
{
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != EXIT_OK) {
        free(a.sets);
        return rc < 0 ? EXIT_OK : rc;
    }
    run_desc d = {0};
    selfmm_config cfg;
    selfmm_error err = {0};
    const char *dir = a.resume ? a.resume : a.out;
    const selfmm_collectives *world = cli_mpi_world();
    const int writer = cli_mpi_is_writer(); /* the one process that writes DIR's files */
    int found = 0; /* a run in DIR that this one replaces (--overwrite) */
    rc = settle_run(&a, dir, &d, &cfg, lock, &found);
    free(a.sets);
    if (rc != EXIT_OK) return rc;
    /* Under mpirun each rank takes its share of the host's CPUs unless told. */
    const int threads = cfg.threads ? cfg.threads : cli_mpi_default_threads();
    if (selfmm_set_threads(threads, &err) != SELFMM_OK) return cli_fail_status("train", err.status, err.message);
    selfmm_set_fsync(cfg.fsync);

    selfmm_dataset *data = NULL; /* every rank reads the whole dataset: shares change every batch */
    selfmm_status st;
    if (d.demo) st = selfmm_demo_dataset((uint64_t)cfg.seed, &data, &err);
    else {
        selfmm_data_options dopt = {.nan_to_zero = cfg.nan_to_zero, .clamp_lengths = cfg.clamp_lengths};
        st = selfmm_dataset_load(d.data, &dopt, &data, &err);
    }
    if (st != SELFMM_OK) return cli_fail_status("train", st, err.message);
    if (!a.resume) {
        char cfg_path[SELFMM_PATH_MAX + 32];
        snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
        rc = adopt_widths(&cfg, data);
        /* the old run goes once the new one has its data: a bad --data replaces nothing */
        if (rc == EXIT_OK && writer && found && run_dir_clear(dir) != 0) rc = EXIT_FAIL;
        if (rc == EXIT_OK && writer && selfmm_config_save_json(&cfg, cfg_path, &err) != SELFMM_OK)
            rc = cli_fail_status("train", err.status, err.message);
        if (rc == EXIT_OK && writer && run_desc_save(dir, &d) != 0) rc = EXIT_FAIL;
        if (rc == EXIT_OK && writer && d.demo) { /* keep the generated data for test/predict/info */
            char npz[SELFMM_PATH_MAX + 32];
            snprintf(npz, sizeof npz, "%s/data.npz", dir);
            if (selfmm_dataset_save_npz(data, npz) != SELFMM_OK)
                rc = cli_fail("train", "%s", selfmm_dataset_errmsg(data));
        }
        if (rc != EXIT_OK) {
            selfmm_dataset_free(data);
            return rc;
        }
    }
    /* Who trains which seed: every rank every seed (data-parallel over the world), or
     * with --distribute seeds group g of G contiguous ranks seeds g, g + G, ... */
    const selfmm_collectives *group = world;
    selfmm_collectives group_table;
    int groups = 1, color = 0;
    if (a.by_seeds && world) {
        groups = d.nseeds < world->size ? d.nseeds : world->size;
        color = (int)((long long)world->rank * groups / world->size);
        rc = check_shared_out(dir);
        if (rc == EXIT_OK) rc = cli_mpi_split(color, &group_table);
        if (rc != EXIT_OK) {
            selfmm_dataset_free(data);
            return rc;
        }
        group = group_table.size > 1 ? &group_table : NULL;
    }
    const int leader = !group || group->rank == 0;
    cli_install_logger(SELFMM_LOG_WARN);
    progress prog;
    progress_init(&prog, a.quiet || !leader);
    if (!writer) prog.tty = 0; /* one progress bar on the terminal: rank 0's; other leaders print lines */
    seed_result results[RUN_MAX_SEEDS];
    memset(results, 0, sizeof results);
    for (int i = 0; i < d.nseeds && rc == EXIT_OK; i++) {
        results[i].seed = d.seeds[i];
        if (i % groups == color)
            rc = run_seed(dir, &cfg, &d, data, a.resume != NULL, group, &prog, &results[i]);
    }
    selfmm_dataset_free(data);
    if (rc != EXIT_OK) return rc;
    /* With groups, rank 0 collects the other groups' results from their leaders (a
     * failed group has ended the job). */
    if (groups > 1 && (rc = gather_results(world, groups, color, leader, results, d.nseeds)) != EXIT_OK) return rc;
    if (!writer) return EXIT_OK;

    /* The best run's model (lowest validation Loss; the first on ties) at the top. */
    int best = 0;
    for (int i = 1; i < d.nseeds; i++)
        if (results[i].best_valid_loss < results[best].best_valid_loss) best = i;
    char from[SELFMM_PATH_MAX + 64], to[SELFMM_PATH_MAX + 32];
    snprintf(from, sizeof from, "%s/seed-%lld/model.safetensors", dir, d.seeds[best]);
    snprintf(to, sizeof to, "%s/model.safetensors", dir);
    /* a second name for the seed's file, not a copy (0.4 GB for bert-base): nothing
     * rewrites either in place (core/atomic_file.h) */
    if (sm_atomic_link(from, to, &err) != SELFMM_OK) return cli_fail_status("train", err.status, err.message);
    if (write_summary(dir, &cfg, results, d.nseeds) != 0 ||
        concat_seed_files(dir, &d, "train_log.jsonl") != 0 ||
        (d.save_labels && concat_seed_files(dir, &d, "labels.jsonl") != 0))
        return EXIT_FAIL;
    print_table(&cfg, results, d.nseeds);
    /* the run is done and saved: a report that cannot be written is only a warning */
    char msg[SELFMM_PATH_MAX + 256];
    if (report_write(dir, NULL, msg, sizeof msg) != 0)
        fprintf(stderr, "selfmm-cli train: warning: report.html not written: %s\n", msg);
    if (!a.quiet) fprintf(stderr, "selfmm-cli train: results in %s\n", dir);
    return EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    sm_lockfile lock;
    sm_lockfile_init(&lock);
    int rc = train(argc, argv, &lock);
    sm_dir_unlock(&lock); /* after the last write into the folder */
    return rc;
}
