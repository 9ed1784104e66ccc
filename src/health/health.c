/* GET /healthz answers while the process can serve; GET /readyz also checks
 * that PostgreSQL and Redis answer, so a load balancer stops sending traffic
 * while either is down and resumes once it is back. The read replica
 * (DATABASE_READ_URL) is reported too, but never makes the process unready:
 * while it is down the primary answers its reads. */
#include "health/health.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "catalog/list_cache.h"
#include "cinema/app.h"
#include "cinema/config.h"
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
	/* The replica as reads last found it, without waiting on it here: a
	 * replica that swallows packets would hold /readyz for the connect
	 * timeout, past a load balancer's patience, for nothing it decides. */
	if (req->app->db_read)
		json_object_set_new(checks, "postgres_replica",
				    json_string(db_pool_down(req->app->db_read) ? "down" : "ok"));
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

/* Prometheus text, for whoever holds METRICS_TOKEN; the route does not
 * exist when no token is configured. */
static unsigned h_metrics(struct http_request *req, struct http_response *res)
{
	const struct config *cfg = req->app->cfg;
	const char *token = cfg->metrics_token;
	const char *h = http_header(req, "Authorization");
	if (!*token)
		return http_error(res, ERR_ROUTE_NOT_FOUND, NULL);
	size_t n = strlen(token);
	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || strlen(h + 7) != n ||
	    sodium_memcmp(h + 7, token, n) != 0)
		return http_error(res, ERR_UNAUTHORIZED, "A valid metrics token is required.");

	int size = 0, in_use = 0, waiting = 0;
	redisReply *r = NULL;
	long long queued = -1;
	if (kv_command(req->app->kv, &r, "LLEN %s", cfg->email_queue_key) == ERR_OK &&
	    r->type == REDIS_REPLY_INTEGER)
		queued = r->integer;
	freeReplyObject(r);
	db_pool_stats(req->app->db, &size, &in_use, &waiting);

	http_empty(res, 200);
	http_metrics_write(req, &res->body);
	buf_printf(&res->body,
		   "# HELP cinema_db_pool_connections PostgreSQL pool: size, in use, callers "
		   "waiting.\n# TYPE cinema_db_pool_connections gauge\n"
		   "cinema_db_pool_connections{state=\"size\"} %d\n"
		   "cinema_db_pool_connections{state=\"in_use\"} %d\n"
		   "cinema_db_pool_connections{state=\"waiting\"} %d\n",
		   size, in_use, waiting);
	if (req->app->db_read) {
		db_pool_stats(req->app->db_read, &size, &in_use, &waiting);
		buf_printf(&res->body,
			   "# HELP cinema_db_read_pool_connections PostgreSQL read replica pool: "
			   "size, in use, callers waiting.\n"
			   "# TYPE cinema_db_read_pool_connections gauge\n"
			   "cinema_db_read_pool_connections{state=\"size\"} %d\n"
			   "cinema_db_read_pool_connections{state=\"in_use\"} %d\n"
			   "cinema_db_read_pool_connections{state=\"waiting\"} %d\n"
			   "# HELP cinema_db_read_replica_up 1 while the read replica answers, 0 "
			   "while its reads go to the primary.\n"
			   "# TYPE cinema_db_read_replica_up gauge\n"
			   "cinema_db_read_replica_up %d\n"
			   "# HELP cinema_db_read_fallbacks_total Reads answered by the primary "
			   "because the read replica failed.\n"
			   "# TYPE cinema_db_read_fallbacks_total counter\n"
			   "cinema_db_read_fallbacks_total %llu\n",
			   size, in_use, waiting, db_pool_down(req->app->db_read) ? 0 : 1,
			   db_read_fallbacks());
	}
	if (queued >= 0)
		buf_printf(&res->body,
			   "# HELP cinema_email_queue_length Email jobs announced on Redis and not "
			   "yet taken.\n# TYPE cinema_email_queue_length gauge\n"
			   "cinema_email_queue_length %lld\n",
			   queued);
	struct cache_stats cs;
	movie_lists_stats(req->app, &cs);
	buf_printf(&res->body,
		   "# HELP cinema_catalog_cache_lookups_total Public movie list lookups by "
		   "result.\n# TYPE cinema_catalog_cache_lookups_total counter\n"
		   "cinema_catalog_cache_lookups_total{result=\"hit\"} %llu\n"
		   "cinema_catalog_cache_lookups_total{result=\"miss\"} %llu\n"
		   "# HELP cinema_catalog_cache_bytes Memory held by cached movie lists.\n"
		   "# TYPE cinema_catalog_cache_bytes gauge\ncinema_catalog_cache_bytes %zu\n",
		   (unsigned long long)cs.hits, (unsigned long long)cs.misses, cs.bytes);
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 200;
}

const struct route health_routes[] = {
	{HTTP_GET, "/healthz", h_healthz, ACCESS_PUBLIC, 0, LANE_INLINE},
	{HTTP_GET, "/readyz", h_readyz, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_GET, "/metrics", h_metrics, ACCESS_OWN_AUTH, 0, LANE_DB},
	ROUTES_END,
};
