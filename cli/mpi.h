/* mpi.h -- selfmm-cli under mpirun: Open MPI loaded at run time, the library's
 * collectives over it, and the job's failure policy.
 *
 * selfmm-cli links no MPI library. When the environment says Open MPI's mpirun
 * started it (OMPI_COMM_WORLD_SIZE, or a PMIx launcher's PMIX_RANK), `train` and
 * `bench` dlopen() libmpi.so.40, resolve the dozen functions they use and the
 * addresses that are Open MPI's predefined handles, and initialise MPI. A plain
 * start loads nothing: it reads four environment variables and goes on.
 *
 * Failure policy: a rank that fails prints its message ("rank R (host): ...") and
 * ends the whole job with MPI_Abort (cli_mpi_finish), so nothing waits forever in
 * a collective. A failure every rank meets alike (a usage error, a failure the
 * library agreed on) is printed by one rank only: the others call cli_mpi_quiet()
 * and leave the abort to it.
 *
 * Environment: SELFMM_MPI=0 never loads MPI (refused when the launcher started more
 * than one process: they would all write the same files); SELFMM_MPI=1 loads it
 * without a launcher (a singleton, for tests); SELFMM_MPI_LIB=path another
 * libmpi with Open MPI's ABI. See docs/SCALING.md. */
#ifndef SELFMM_CLI_MPI_H
#define SELFMM_CLI_MPI_H

#include "selfmm.h"

/* For `train` and `bench`: when launched by Open MPI, load and initialise it (and
 * die with the parent: PR_SET_PDEATHSIG); otherwise do nothing. Another MPI's
 * launcher, a missing libmpi.so.40 or a failed MPI_Init: a message on stderr and
 * EXIT_FAIL. */
int cli_mpi_start(const char *cmd, int *argc, char ***argv);

/* For the other commands: EXIT_OK, or a usage error when a launcher started more
 * than one process (they run as one process only). */
int cli_mpi_refuse(const char *cmd);

/* The collectives of the whole job (MPI_COMM_WORLD), or NULL without MPI or with
 * one rank. */
const selfmm_collectives *cli_mpi_world(void);
int cli_mpi_rank(void);  /* in the whole job; 0 without MPI */
int cli_mpi_size(void);  /* 1 without MPI */

/* The one process that writes the run's files (and would hold any lock on them):
 * world rank 0, or the only process. */
int cli_mpi_is_writer(void);

/* "rank R (host): " under MPI with several ranks, else "": after "selfmm-cli <cmd>: "
 * in every message. */
const char *cli_mpi_tag(void);

/* This rank's failure is one another rank reports: print nothing about it. */
void cli_mpi_quiet(void);

/* Collectives for the ranks that pass the same color (MPI_Comm_split, ordered by
 * world rank); collective over the whole job. Without MPI, *out = one process.
 * EXIT_OK or EXIT_FAIL with a message. */
int cli_mpi_split(int color, selfmm_collectives *out);

/* The thread count when the user gave none: the online CPUs shared by the ranks
 * on this host (OMPI_COMM_WORLD_LOCAL_SIZE), at least 1; 0 (all CPUs) without MPI. */
int cli_mpi_default_threads(void);

/* End of the command with exit code rc: MPI_Finalize on success; with several ranks
 * a failure aborts the job (MPI_Abort(rc)), after a grace period for a quiet rank
 * so that the rank that reports it prints first. Returns rc (when it returns). */
int cli_mpi_finish(int rc);

#endif
