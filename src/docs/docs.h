/* API documentation behind sign-in: Swagger UI at /docs (served from the
 * swagger-ui-dist files, no CDN) and the spec at /openapi.yaml and
 * /openapi.json. Browsers sign in through a small form that sets an
 * HttpOnly cookie; scripts may send a bearer access token instead. */
#ifndef CINEMA_DOCS_H
#define CINEMA_DOCS_H

#include "cinema/config.h"
#include "cinema/http.h"

extern const struct route docs_routes[];

/* Logs a warning when DOCS_ASSETS_DIR lacks the Swagger UI files (the
 * server still starts; /docs then says what is missing). */
void docs_check_assets(const struct config *cfg);

#endif
