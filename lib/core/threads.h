/* threads.h -- one thread setting for OpenBLAS and oneDNN/OpenMP together.
 *
 * Both libraries run on libgomp (we link the OpenMP build of OpenBLAS, see
 * third_party/README.md), so one count drives one pool. omp_set_num_threads() only
 * affects the calling thread, so every public entry point that computes calls
 * sm_threads_apply() first. */
#ifndef SM_CORE_THREADS_H
#define SM_CORE_THREADS_H

/* Make the calling thread use the configured count (cheap when already applied). */
void sm_threads_apply(void);
/* Online CPUs of this machine. */
int sm_threads_online(void);

#endif
