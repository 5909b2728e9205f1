/* main.c -- selfmm-cli: git-style dispatch to the subcommands. */
#include "commands.h"
#include "common.h"
#include "mpi.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int mpi;                     /* runs data-parallel under mpirun (cli/mpi.h) */
} command;

static const command commands[] = {
    {"train", cmd_train, "train Self-MM (one run per seed) or the embedded demo", 1},
    {"tune", cmd_tune, "random hyper-parameter search over the reference's space", 1},
    {"report", cmd_report, "an HTML report (charts, tables) of a train or tune folder", 0},
    {"test", cmd_test, "metrics of a model on a dataset split", 0},
    {"predict", cmd_predict, "per-sample outputs M, T, A, V of a model as CSV", 0},
    {"build-dataset", cmd_build_dataset, "a dataset from label.csv and your own feature files", 0},
    {"config", cmd_config, "print a configuration (preset, file, --set) as JSON", 0},
    {"tokenize", cmd_tokenize, "text to BERT token ids (as HuggingFace's BertTokenizer)", 0},
    {"info", cmd_info, "describe a dataset or checkpoint file", 0},
    {"convert", cmd_convert, "datasets to .npz; .pth <-> libselfmm model files", 0},
    {"bench", cmd_bench, "time training and evaluation steps of a bert-base model", 1},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: selfmm-cli <command> [options]\n"
            "       selfmm-cli --help | --version\n\n"
            "Self-MM multimodal sentiment analysis (libselfmm %s).\n\ncommands:\n",
            selfmm_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'selfmm-cli <command> --help' describes a command; 'man selfmm-cli' all of them.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V") || !strcmp(name, "version")) {
        printf("selfmm-cli %s\n", selfmm_version_string());
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0) continue;
        /* under mpirun: MPI for the commands that use it, one process for the others */
        int rc = commands[i].mpi ? cli_mpi_start(name, &argc, &argv) : cli_mpi_refuse(name);
        if (rc != EXIT_OK) return cli_mpi_finish(rc);
        return cli_mpi_finish(commands[i].run(argc - 1, argv + 1));
    }
    fprintf(stderr, "selfmm-cli: unknown command '%s'\n\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
