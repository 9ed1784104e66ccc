/* What commerce says about a movie the catalog wants to delete. */
#ifndef CINEMA_COMMERCE_GUARD_H
#define CINEMA_COMMERCE_GUARD_H

#include <stdbool.h>

#include "cinema/db.h"

/* Whether anyone bought the movie (or it is in any order), and in how many
 * carts it sits. */
enum err commerce_movie_usage(struct db_conn *c, long long movie_id, bool *ordered,
			      long long *carts);

#endif
