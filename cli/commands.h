/* commands.h -- one entry point per subcommand, each in cli/cmd_<name>.c. Each gets
 * argv with argv[0] = the subcommand name and returns the process exit code. */
#ifndef SELFMM_CLI_COMMANDS_H
#define SELFMM_CLI_COMMANDS_H

int cmd_config(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_build_dataset(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_tune(int argc, char **argv);

#endif
