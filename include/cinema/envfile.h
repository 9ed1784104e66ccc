/* Settings files of NAME=value lines, the ones scripts/run.sh writes to
 * .data/env so that commands typed in another terminal (create-user, seed,
 * cinema-scheduler status, healthcheck) reach that run's servers.
 *
 * Syntax, a subset of what a shell and docker's --env-file both read: one
 * NAME=value per line; blank lines and lines starting with # are skipped; an
 * optional "export " prefix; a value is bare (up to the end of the line or a
 * " #" comment, trailing blanks dropped), 'single-quoted' (taken literally) or
 * "double-quoted" (\\, \", \$ and \` are escapes). Anything else is an error
 * naming the file and the line. Not thread-safe: call from main before any
 * thread starts. */
#ifndef CINEMA_ENVFILE_H
#define CINEMA_ENVFILE_H

#include <stdbool.h>
#include <stddef.h>

/* The file read when CINEMA_ENV_FILE is not set, relative to the working
 * directory, and only when it exists. */
#define ENVFILE_DEFAULT	  ".data/env"
#define ENVFILE_MAX_BYTES (64 * 1024)

/* Parses text (len bytes; a NUL byte inside is an error) and calls set for
 * each assignment in order; set returns false to stop (then envfile_parse
 * returns false with err untouched unless set wrote it). On a syntax error
 * returns false and writes "NAME:LINE: reason" into err, NAME being label. */
bool envfile_parse(const char *text, size_t len, const char *label,
		   bool (*set)(const char *name, const char *value, void *ctx), void *ctx,
		   char *err, size_t errlen);

/* Reads the settings file into the environment, never overriding a variable
 * already set: CINEMA_ENV_FILE names it (it must exist; empty means none),
 * else ENVFILE_DEFAULT when it exists. Returns false with a reason in err.
 * *used is the path read (static or from getenv), or NULL when none. */
bool envfile_load(const char **used, char *err, size_t errlen);

#endif
