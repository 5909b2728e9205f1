/* cmd_convert.c -- `selfmm-cli convert IN OUT`: datasets to .npz, reference .pth
 * state_dicts to native model files and back. The output's extension says what
 * to write; a .pth holds no config, so converting one needs the hyper-parameters
 * (--preset / --config, --set) and BERT's config.json (--bert). */
#include "commands.h"
#include "common.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli convert IN OUT [options]\n\n"
           "  dataset (MMSA pickle or .npz) -> OUT.npz\n"
           "  reference state_dict (.pth, .pt, .bin) -> OUT.safetensors (libselfmm model file)\n"
           "  libselfmm model (.safetensors) -> OUT.pth (torch.load + strict load_state_dict)\n"
           "  and .pth -> .pth (rewrites legacy files in torch's zip format)\n\n"
           "Options for a .pth input (it holds no config):\n"
           "  --preset NAME     hyper-parameters of a preset (default sims)\n"
           "  --config FILE     or of a JSON config file\n"
           "  --bert DIR        BERT's config.json (vocabulary, sizes, heads)\n"
           "  --set key=value   override one key (repeatable)\n"
           "audio_dim and video_dim are read from the LSTM weights; every other tensor's\n"
           "shape is checked against the config.\n\n"
           "Options for a dataset input:\n"
           "  --nan-to-zero     replace NaN features by 0 instead of failing\n"
           "  --clamp-lengths   clamp sequence lengths to [1, T] instead of failing\n\n"
           "  -v, --verbose     also print informational messages\n");
}

static int convert_dataset(const char *in, const char *out, const selfmm_data_options *opt)
{
    selfmm_error err = {0};
    selfmm_dataset *ds = NULL;
    if (selfmm_dataset_load(in, opt, &ds, &err) != SELFMM_OK)
        return cli_fail_status("convert", err.status, err.message);
    selfmm_status st = selfmm_dataset_save_npz(ds, out);
    int rc = st == SELFMM_OK ? EXIT_OK : cli_fail_status("convert", st, selfmm_dataset_errmsg(ds));
    selfmm_dataset_free(ds);
    return rc;
}

static int convert_model(const char *in, const char *out, const char *preset, const char *config,
                         const char *bert, char **sets, int nsets)
{
    selfmm_error err = {0};
    selfmm_model *m = NULL;
    if (cli_ends_with(in, ".safetensors")) {
        if (preset || config || bert || nsets)
            return cli_usage_error("convert", "a model file holds its config: --preset, --config, "
                                   "--bert and --set apply to .pth inputs only");
        if (selfmm_model_load(in, &m, &err) != SELFMM_OK)
            return cli_fail_status("convert", err.status, err.message);
    } else {
        selfmm_config cfg;
        int rc = cli_build_config("convert", preset, config, bert, sets, nsets, &cfg);
        if (rc != EXIT_OK) return rc;
        if (selfmm_config_check_pth(&cfg, in, &err) != SELFMM_OK)
            return cli_fail_status("convert", err.status, err.message);
        /* every weight comes from the file: none initialised first */
        if (selfmm_model_create_ex(&cfg, SELFMM_INIT_NONE, &m, &err) != SELFMM_OK)
            return cli_fail_status("convert", err.status, err.message);
        selfmm_status st = selfmm_model_import_pth(m, in);
        if (st != SELFMM_OK) {
            rc = cli_fail_status("convert", st, selfmm_model_errmsg(m));
            selfmm_model_free(m);
            return rc;
        }
    }
    selfmm_status st = cli_ends_with(out, ".safetensors") ? selfmm_model_save(m, out)
                                                      : selfmm_model_export_pth(m, out);
    int rc = st == SELFMM_OK ? EXIT_OK : cli_fail_status("convert", st, selfmm_model_errmsg(m));
    selfmm_model_free(m);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'}, {"config", required_argument, 0, 'c'},
        {"bert", required_argument, 0, 'b'},   {"set", required_argument, 0, 's'},
        {"nan-to-zero", no_argument, 0, 'n'},  {"clamp-lengths", no_argument, 0, 'l'},
        {"verbose", no_argument, 0, 'v'},      {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *preset = NULL, *config = NULL, *bert = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int nsets = 0, c, verbose = 0;
    selfmm_data_options dopt = {0, 0};
    if (!sets) return cli_fail("convert", "out of memory");
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 'c': config = optarg; break;
        case 'b': bert = optarg; break;
        case 's': sets[nsets++] = optarg; break;
        case 'n': dopt.nan_to_zero = 1; break;
        case 'l': dopt.clamp_lengths = 1; break;
        case 'v': verbose = 1; break;
        case 'h': help(); free(sets); return EXIT_OK;
        default:
            free(sets);
            return cli_usage_error("convert", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    int rc;
    if (argc - optind != 2) {
        rc = cli_usage_error("convert", "expects IN and OUT");
    } else {
        const char *in = argv[optind], *out = argv[optind + 1];
        cli_install_logger(verbose ? SELFMM_LOG_INFO : SELFMM_LOG_WARN);
        if (cli_ends_with(out, ".npz")) {
            if (preset || config || bert || nsets)
                rc = cli_usage_error("convert", "--preset, --config, --bert and --set apply to model conversions");
            else rc = convert_dataset(in, out, &dopt);
        } else if (cli_ends_with(out, ".safetensors") || cli_is_pth(out)) {
            if (dopt.nan_to_zero || dopt.clamp_lengths)
                rc = cli_usage_error("convert", "--nan-to-zero and --clamp-lengths apply to datasets");
            else if (!cli_ends_with(in, ".safetensors") && !cli_is_pth(in))
                rc = cli_usage_error("convert", "'%s': a model input is a .pth/.pt/.bin or a .safetensors", in);
            else rc = convert_model(in, out, preset, config, bert, sets, nsets);
        } else {
            rc = cli_usage_error("convert", "'%s': the output must end in .npz, .safetensors or .pth", out);
        }
    }
    free(sets);
    return rc;
}
