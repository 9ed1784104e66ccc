/* Time for durations, expiry and timed waits. */
#ifndef CINEMA_CLOCK_H
#define CINEMA_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t mono_ms(void);

/* The time ms milliseconds from now on clock id: CLOCK_MONOTONIC for
 * condition variables set to that clock, CLOCK_REALTIME for sem_timedwait. */
struct timespec deadline_after_ms(clockid_t id, long ms);

#endif
