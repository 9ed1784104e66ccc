#include "app/routes.h"

#include "accounts/handlers.h"
#include "catalog/engagement.h"
#include "catalog/handlers.h"
#include "commerce/handlers.h"
#include "docs/docs.h"
#include "health/health.h"
#include "media/handlers.h"
#include "media/playback.h"
#include "web/static.h"

const struct route *const app_route_tables[] = {
	health_routes,	 accounts_routes, docs_routes,	   catalog_routes, engagement_routes,
	commerce_routes, media_routes,	  playback_routes, NULL,
};

const struct route *const app_fallback = &web_route;
const char *const *const app_fallback_except = web_reserved_prefixes;
