/* Every route the API serves: the domains' tables, in one NULL-terminated
 * list. A test checks this list against openapi.yaml. */
#ifndef CINEMA_APP_ROUTES_H
#define CINEMA_APP_ROUTES_H

#include "cinema/http.h"

extern const struct route *const app_route_tables[];

#endif
