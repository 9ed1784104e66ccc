/* `cinema-api seed`: the demo catalog and generated benchmark movies.
 *
 *   cinema-api seed [--file PATH] [--movies N]
 *   cinema-api seed --media DIR      (src/media/seed.h)
 *
 * Without --movies, loads the movies of a JSON data file (default
 * data/movies.json, or SEED_FILE) with their certifications, genres, stars
 * and directors, in one transaction; movies already present (same name,
 * year and runtime) are left alone, so seeding twice adds nothing. With
 * --movies N, adds N generated movies server-side with realistic
 * distributions, in chunks that each commit, after a pool of generated
 * people sized to the catalog (docs/CATALOG.md, "Generated catalogs"); the
 * data file is loaded first when the catalog has no certifications,
 * genres, stars or directors yet.
 *
 * Not thread-safe: an operator command run from main. */
#ifndef CINEMA_CATALOG_SEED_H
#define CINEMA_CATALOG_SEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cinema/config.h"

#define CATALOG_SEED_DEFAULT_FILE "data/movies.json"
#define CATALOG_SEED_MAX_MOVIES	  10000000

/* Runs the command; argv[1] is "seed". Prints one summary line on stdout and
 * returns the exit status: 0 done (also when there was nothing to add), 1 bad
 * data file or database failure (reason on stderr, nothing changed), 2 bad
 * arguments. --help prints the usage and returns 0. */
int catalog_seed_command(const struct config *cfg, int argc, char **argv);

/* Checks a parsed data file: an array of movie objects with exactly the
 * fields of data/movies.json, within the bounds of the schema, no two with
 * the same name, year and runtime. On failure returns false and writes one
 * line naming the entry index and field into err (size errlen). */
bool catalog_seed_check(const json_t *movies, char *err, size_t errlen);

#endif
