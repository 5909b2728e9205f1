/* cmd_config.c -- `selfmm-cli config`: show the configuration a run would use. */
#include "commands.h"
#include "common.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("usage: selfmm-cli config [--preset NAME | --config FILE] [--bert DIR]\n"
           "                         [--set key=value]... [--out FILE] [--list-presets]\n\n"
           "Print the configuration as JSON: the preset (default sims) or JSON file, then\n"
           "BERT's config.json from DIR, then each --set in order.\n\n"
           "  --preset NAME     sims, mosi, mosei, mmsa-sims, mmsa-mosi, mmsa-mosei\n"
           "  --config FILE     a JSON object of config keys\n"
           "  --bert DIR        a HuggingFace BERT folder (its config.json)\n"
           "  --set key=value   override one key (repeatable)\n"
           "  --out FILE        write the JSON to FILE (atomically) instead of stdout\n"
           "  --list-presets    print the preset names, one per line\n");
}

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'}, {"config", required_argument, 0, 'c'},
        {"bert", required_argument, 0, 'b'},   {"set", required_argument, 0, 's'},
        {"out", required_argument, 0, 'o'},    {"list-presets", no_argument, 0, 'l'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    const char *preset = NULL, *config = NULL, *bert = NULL, *out = NULL;
    char **sets = calloc((size_t)argc, sizeof *sets);
    int nsets = 0, c, rc;
    if (!sets) return cli_fail("config", "out of memory");
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 'c': config = optarg; break;
        case 'b': bert = optarg; break;
        case 's': sets[nsets++] = optarg; break;
        case 'o': out = optarg; break;
        case 'l':
            for (const char *const *n = selfmm_config_preset_names(); *n; n++) printf("%s\n", *n);
            free(sets);
            return EXIT_OK;
        case 'h': help(); free(sets); return EXIT_OK;
        default:
            free(sets);
            return cli_usage_error("config", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        free(sets);
        return cli_usage_error("config", "unexpected argument '%s'", argv[optind]);
    }
    selfmm_config cfg;
    rc = cli_build_config("config", preset, config, bert, sets, nsets, &cfg);
    free(sets);
    if (rc != EXIT_OK) return rc;
    selfmm_error err = {0};
    if (out) {
        if (selfmm_config_save_json(&cfg, out, &err) != SELFMM_OK)
            return cli_fail_status("config", err.status, err.message);
        return EXIT_OK;
    }
    char *json;
    if (selfmm_config_to_json(&cfg, &json, &err) != SELFMM_OK)
        return cli_fail_status("config", err.status, err.message);
    printf("%s\n", json);
    selfmm_free_string(json);
    return EXIT_OK;
}
