/* Every route the API serves: the domains' tables, in one NULL-terminated
 * list. A test checks this list against openapi.yaml. */
#ifndef CINEMA_APP_ROUTES_H
#define CINEMA_APP_ROUTES_H

#include "cinema/http.h"

extern const struct route *const app_route_tables[];
/* GET /{app_path}: the web app, for the paths outside those tables and
 * outside app_fallback_except, when WEB_DIR is set (src/web/static.h). */
extern const struct route *const app_fallback;
extern const char *const *const app_fallback_except;

#endif
