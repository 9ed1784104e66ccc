/* Liveness and readiness endpoints. */
#ifndef CINEMA_HEALTH_H
#define CINEMA_HEALTH_H

#include "cinema/http.h"

extern const struct route health_routes[];

#endif
