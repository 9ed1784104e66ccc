/* HTTP routes of engagement with movies: reactions, ratings, favorites,
 * comments and their likes, and the signed-in user's notifications.
 * GET /favorites is served with the movie lists (catalog/handlers.c). */
#ifndef CINEMA_CATALOG_ENGAGEMENT_H
#define CINEMA_CATALOG_ENGAGEMENT_H

#include "cinema/http.h"

extern const struct route engagement_routes[];

#endif
