/* GET /healthz answers while the process can serve; GET /readyz also checks
 * that PostgreSQL and Redis answer, so a load balancer stops sending traffic
 * while either is down and resumes once it is back. */
#include "health/health.h"

#include "cinema/app.h"
#include "cinema/db.h"
#include "cinema/kv.h"

static const struct db_stmt stmt_ping = {"health_ping", "SELECT 1"};

static bool postgres_ok(struct db_pool *pool)
{
	struct db_conn *c = NULL;
	if (db_acquire(pool, &c) != ERR_OK)
		return false;
	bool ok = db_exec(c, &stmt_ping, 0, NULL, NULL) == ERR_OK;
	db_release(c);
	return ok;
}

static unsigned h_healthz(struct http_request *req, struct http_response *res)
{
	(void)req;
	return http_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static unsigned h_readyz(struct http_request *req, struct http_response *res)
{
	bool pg = postgres_ok(req->app->db);
	bool redis = kv_ping(req->app->kv);
	json_t *checks = json_pack("{s:s,s:s}", "postgres", pg ? "ok" : "down", "redis",
				   redis ? "ok" : "down");
	if (pg && redis)
		return http_json(res, 200,
				 json_pack("{s:s,s:o}", "status", "ready", "checks", checks));
	const char *detail = !pg && !redis ? "PostgreSQL and Redis are unreachable."
			     : !pg	   ? "PostgreSQL is unreachable."
					   : "Redis is unreachable.";
	return http_json(res, 503,
			 json_pack("{s:s,s:s,s:o}", "detail", detail, "code", "not_ready", "checks",
				   checks));
}

const struct route health_routes[] = {
	{HTTP_GET, "/healthz", h_healthz, ACCESS_PUBLIC, 0},
	{HTTP_GET, "/readyz", h_readyz, ACCESS_PUBLIC, 0},
	ROUTES_END,
};
