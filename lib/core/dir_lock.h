/* dir_lock.h -- one writer per output folder.
 *
 * A run (train, resume, tune; under MPI only the rank that writes) holds an
 * advisory lock on DIR/.selfmm.lock for as long as it writes into DIR: flock(2)
 * on that file, taken without waiting. A second run into the same folder fails at
 * once, naming the holder's pid (written into the file by the holder). The kernel
 * drops the lock when the holder exits, however it exits (kill -9 included), so a
 * stale lock cannot outlive its process; the file itself stays (removing it
 * would let two runs each hold a lock on a different inode of the same name).
 *
 * Advisory: it binds the processes that take it, i.e. libselfmm's commands. flock
 * locks are per open file: a second sm_dir_lock on the same folder fails even in
 * the same process. On NFS, flock is emulated with byte-range locks (Linux >= 2.6.12)
 * and works across clients.
 *
 * See docs/ARCHITECTURE.md, "Training runs". */
#ifndef SM_CORE_DIR_LOCK_H
#define SM_CORE_DIR_LOCK_H

#include "core/error.h"

#define SM_DIR_LOCK_NAME ".selfmm.lock"

typedef struct sm_lockfile {
    int fd;                        /* the lock file, open while the lock is held; -1 otherwise */
} sm_lockfile;

/* Take dir's lock (dir must exist) and write this process's pid into the lock
 * file. Held: SELFMM_OK. Held by another process (or another sm_dir_lock of this
 * one): SELFMM_ERR_STATE, "DIR is in use by another run (pid N): ..."; any other
 * failure SELFMM_ERR_IO / SELFMM_ERR_NOT_FOUND naming the file. On failure lk->fd
 * is -1. */
selfmm_status sm_dir_lock(const char *dir, sm_lockfile *lk, selfmm_error *err);
/* Release (close the file; it stays in dir). Harmless on a lock not held (after a
 * failed sm_dir_lock, a second unlock, or sm_lockfile_init). */
void sm_dir_unlock(sm_lockfile *lk);
/* A lock not held (fd -1), for paths that may unlock before locking. */
void sm_lockfile_init(sm_lockfile *lk);

#endif
