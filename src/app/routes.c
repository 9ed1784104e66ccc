#include "app/routes.h"

#include "health/health.h"

const struct route *const app_route_tables[] = {
	health_routes,
	NULL,
};
