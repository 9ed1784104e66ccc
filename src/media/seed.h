/* `cinema-api seed --media DIR`: demo media for the catalog (docs/MEDIA.md).
 *
 * DIR/media.tsv lists one file a line, `INDEX<TAB>KIND<TAB>FILE<TAB>DURATION_S`
 * (`#` starts a comment line; blank lines are skipped): INDEX is the 1-based
 * rank of the movie in ORDER BY id, KIND poster, trailer or feature, FILE a
 * path relative to DIR, DURATION_S a number of seconds or `-`. Each file's
 * type is read from its first bytes; it is stored in S3 under a new key and
 * linked as complete does (the old object of that kind is trashed). The
 * whole manifest and every file's type are checked before anything is
 * written.
 *
 * Not thread-safe: an operator command run from main. */
#ifndef CINEMA_MEDIA_SEED_H
#define CINEMA_MEDIA_SEED_H

#include "cinema/config.h"

#define MEDIA_SEED_MAX_FILE_BYTES (256LL * 1024 * 1024)
#define MEDIA_SEED_MAX_LINES	  10000

/* Runs it; prints one line per file on stdout. Returns the exit status: 0
 * done, 1 a bad manifest or file (reason on stderr, nothing written) or a
 * failure of S3 or the database (the lines printed say what was done). */
int media_seed_command(const struct config *cfg, const char *dir);

#endif
