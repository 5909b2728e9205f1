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
#include "run_files.h"
#include "train_run.h"

#include "core/dir_lock.h"
#include "core/file.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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
        if (sm_exists(run_path) && train_own_dir("train", dir, lock, a->quiet) != EXIT_OK) return EXIT_FAIL;
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
        int ok = train_parse_seeds(a->seeds, d, &dup);
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
    if (train_own_dir("train", dir, lock, a->quiet) != EXIT_OK || check_fresh(dir, a->overwrite, found) != EXIT_OK)
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
    if (train_share("train", world, m, sizeof *m) != EXIT_OK) rc = EXIT_FAIL;
    else if ((rc = m->rc) == EXIT_OK) *d = m->d, *cfg = m->cfg;
    else if (!cli_mpi_is_writer()) cli_mpi_quiet(); /* rank 0 said why */
    free(m);
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
    if ((rc = train_set_threads("train", &cfg)) != EXIT_OK) return rc;

    selfmm_dataset *data = NULL;
    if ((rc = train_load_data("train", &d, &cfg, &data)) != EXIT_OK) return rc;
    if (!a.resume) {
        char cfg_path[SELFMM_PATH_MAX + 32];
        snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
        rc = train_adopt_widths("train", &cfg, data);
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
    cli_install_logger(SELFMM_LOG_WARN);
    seed_result results[RUN_MAX_SEEDS];
    const train_study study = {.cmd = "train", .dir = dir, .cfg = &cfg, .d = &d, .data = data,
                               .resume = a.resume != NULL, .ranks = world, .by_seeds = a.by_seeds,
                               .quiet = a.quiet, .print_table = 1};
    rc = train_study_run(&study, results);
    selfmm_dataset_free(data);
    if (rc != EXIT_OK || !writer) return rc;
    if (!a.quiet) fprintf(stderr, "selfmm-cli train: results in %s\n", dir);
    return EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    return train_with_lock(train, argc, argv);
}
