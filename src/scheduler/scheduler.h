/* The scheduler: the email worker and the periodic jobs (celery + beat). */
#ifndef CINEMA_SCHEDULER_H
#define CINEMA_SCHEDULER_H

struct config;

/* Runs until SIGTERM or SIGINT (which the caller has blocked in every
 * thread); finishes the email in hand first. Returns the exit status. */
int scheduler_run(const struct config *cfg);
/* Prints the queue's state as JSON on stdout. Returns the exit status. */
int scheduler_status(const struct config *cfg);

#endif
