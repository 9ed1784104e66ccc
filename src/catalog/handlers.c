#include "catalog/handlers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/cursor.h"
#include "catalog/search.h"
#include "catalog/service.h"
#include "cinema/page.h"
#include "cinema/validate.h"

#define MAX_LINKS 50
#define ID_MAX	  999999999999999999LL /* 18 digits, as path ids */

/* Moderators and admins write the catalog and must read their own writes
 * at once: their reads go to the primary, not the read replica. */
static bool catalog_writer(const struct http_request *req)
{
	return req->auth.group >= ACCESS_MODERATOR;
}

/* ---- query parsing ---- */

static void query_error(json_t *errors, const char *field, const char *message)
{
	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", message));
}

static bool is_decimal(const char *s, bool allow_fraction, int max_int_digits)
{
	int digits = 0, frac = -1;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s == '.' && allow_fraction && frac < 0 && digits > 0) {
			frac = 0;
		} else if (isdigit((unsigned char)*s)) {
			if (frac >= 0)
				frac++;
			else
				digits++;
		} else {
			return false;
		}
	}
	return digits <= max_int_digits && frac != 0 && frac <= 2;
}

/* An integer parameter in [min, max]; leaves *out NULL when absent. */
static void q_int(struct http_request *req, json_t *errors, const char *name, long long min,
		  long long max, const char **out)
{
	long long v;
	const char *s = http_query(req, name);
	*out = NULL;
	if (!s)
		return;
	if (!parse_ll(s, min, max, &v)) {
		char msg[96];
		snprintf(msg, sizeof(msg), "must be a whole number from %lld to %lld", min, max);
		query_error(errors, name, msg);
		return;
	}
	*out = s;
}

/* A decimal parameter (at most two decimals) in [0, max_int_digits]. */
static void q_decimal(struct http_request *req, json_t *errors, const char *name, double max,
		      const char **out)
{
	const char *s = http_query(req, name);
	*out = NULL;
	if (!s)
		return;
	if (!is_decimal(s, true, 8) || strtod(s, NULL) > max) {
		char msg[96];
		snprintf(msg, sizeof(msg),
			 "must be a number from 0 to %.10g with at most two decimals", max);
		query_error(errors, name, msg);
		return;
	}
	*out = s;
}

/* Checks a ?search= value: valid UTF-8 of at most SEARCH_MAX_CHARS
 * characters. */
static bool search_valid(const char *search, json_t *errors)
{
	long n = search_utf8_length(search);
	if (n < 0)
		query_error(errors, "search", "must be valid UTF-8 text");
	else if (n > SEARCH_MAX_CHARS)
		query_error(errors, "search", "must be at most 200 characters long");
	return n >= 0 && n <= SEARCH_MAX_CHARS;
}

/* Reads ?cursor= for the sort f asks for into cur and sets f->after. */
static void q_cursor(struct http_request *req, json_t *errors, struct movie_filter *f,
		     struct movie_cursor *cur)
{
	const char *why = NULL;
	const char *text = http_query(req, "cursor");
	if (!text || (f->sort && !movies_sort_valid(f->sort)))
		return;
	const char *sort = movies_sort_of(f);
	if (movie_cursor_read(text, sort, movies_sort_type(sort), cur, &why))
		f->after = cur;
	else
		query_error(errors, "cursor", why);
}

bool catalog_parse_filter(struct http_request *req, struct http_response *res,
			  struct movie_filter *f, struct filter_bufs *bufs)
{
	json_t *errors = json_array();
	struct page pg;
	memset(f, 0, sizeof(*f));
	page_read(req, errors, &pg);
	f->limit = pg.per_page;
	f->offset = pg.offset;
	q_int(req, errors, "year", 1888, 2100, &f->year);
	q_int(req, errors, "year_min", 1888, 2100, &f->year_min);
	q_int(req, errors, "year_max", 1888, 2100, &f->year_max);
	q_decimal(req, errors, "imdb_min", 10, &f->imdb_min);
	q_decimal(req, errors, "imdb_max", 10, &f->imdb_max);
	q_decimal(req, errors, "price_min", 99999999.99, &f->price_min);
	q_decimal(req, errors, "price_max", 99999999.99, &f->price_max);
	q_int(req, errors, "genre", 1, ID_MAX, &f->genre);
	q_int(req, errors, "certification", 1, ID_MAX, &f->certification);
	q_int(req, errors, "star", 1, ID_MAX, &f->star);
	q_int(req, errors, "director", 1, ID_MAX, &f->director);
	const char *search = http_query(req, "search");
	if (search && search_valid(search, errors) && search_parse(search, &bufs->search)) {
		f->tsquery = bufs->search.tsq;
		f->search_text = bufs->search.plain;
	}
	f->sort = http_query(req, "sort");
	if (f->sort && !movies_sort_valid(f->sort))
		query_error(errors, "sort",
			    "must be one of name, year, price, imdb, votes, popularity, rating, "
			    "created_at, each optionally prefixed with - for descending order");
	q_cursor(req, errors, f, &bufs->cursor);
	if (json_array_size(errors)) {
		http_validation_error(res, errors);
		return false;
	}
	json_decref(errors);
	return true;
}

/* ---- movies ---- */

static unsigned list_response(struct http_request *req, struct http_response *res,
			      const struct movie_filter *f, enum err rc, struct buf *items,
			      const struct movie_page *mp)
{
	if (rc != ERR_OK) {
		buf_free(items);
		return http_error(res, rc, NULL);
	}
	struct page pg = {
		.page = f->offset / f->limit + 1, .per_page = f->limit, .offset = f->offset};
	struct page_more more = {.total_items = mp->total,
				 .exact = mp->exact,
				 .more = mp->more,
				 .next_cursor = mp->next_cursor};
	buf_reset(&res->body);
	page_envelope_keyset(req, &pg, items->data, items->len, &more, &res->body);
	buf_free(items);
	return http_json_raw(res, 200);
}

static unsigned h_list(struct http_request *req, struct http_response *res)
{
	struct movie_filter f;
	struct buf items = BUF_INIT;
	struct filter_bufs bufs;
	struct movie_page mp;
	if (!catalog_parse_filter(req, res, &f, &bufs))
		return res->status;
	enum err rc = ERR_OK;
	/* On a socket thread only a cached page is answered; the rest waits
	 * for the database on a worker. */
	if (!req->may_block) {
		if (!catalog_list_movies_cached(req->app, &f, catalog_writer(req), &items, &mp)) {
			buf_free(&items);
			return HTTP_DEFER;
		}
	} else {
		rc = catalog_list_movies(req->app, &f, catalog_writer(req), &items, &mp);
	}
	return list_response(req, res, &f, rc, &items, &mp);
}

static unsigned h_favorites(struct http_request *req, struct http_response *res)
{
	struct movie_filter f;
	struct buf items = BUF_INIT;
	struct filter_bufs bufs;
	struct movie_page mp;
	char uid[24];
	if (!catalog_parse_filter(req, res, &f, &bufs))
		return res->status;
	snprintf(uid, sizeof(uid), "%lld", req->auth.user_id);
	f.favorites_of = uid;
	enum err rc = catalog_list_movies(req->app, &f, true, &items, &mp);
	return list_response(req, res, &f, rc, &items, &mp);
}

static unsigned h_purchases(struct http_request *req, struct http_response *res)
{
	struct movie_filter f;
	struct buf items = BUF_INIT;
	struct filter_bufs bufs;
	struct movie_page mp;
	char uid[24];
	if (!catalog_parse_filter(req, res, &f, &bufs))
		return res->status;
	snprintf(uid, sizeof(uid), "%lld", req->auth.user_id);
	f.purchased_by = uid;
	enum err rc = catalog_list_movies(req->app, &f, true, &items, &mp);
	return list_response(req, res, &f, rc, &items, &mp);
}

static unsigned movie_response(struct http_request *req, struct http_response *res, long long id,
			       unsigned status)
{
	buf_reset(&res->body);
	enum err rc = catalog_get_movie(req->app, id, req->auth.user_id, &res->body);
	return rc == ERR_OK ? http_json_raw(res, status) : http_error(res, rc, NULL);
}

static unsigned h_get(struct http_request *req, struct http_response *res)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	return movie_response(req, res, id, 200);
}

/* Reads an array of ids as a PostgreSQL array literal into out. */
static const char *id_array(struct validator *v, const char *field, char *out, size_t outlen)
{
	const json_t *a = json_object_get(v->obj, field);
	size_t i, o = 0;
	const json_t *x;
	if (!a)
		return NULL;
	if (!json_is_array(a) || json_array_size(a) > MAX_LINKS) {
		validator_fail(v, field, "must be an array of at most %d ids", MAX_LINKS);
		return NULL;
	}
	o += (size_t)snprintf(out + o, outlen - o, "{");
	json_array_foreach (a, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 1 ||
		    json_integer_value(x) > ID_MAX) {
			validator_fail(v, field, "must hold ids from 1 to %lld", ID_MAX);
			return NULL;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
				      json_integer_value(x));
	}
	snprintf(out + o, outlen - o, "}");
	return out;
}

/* Whether x, from 0 to 10, is a multiple of 0.01 (up to the error of binary
 * floating point: 7.25 is, 7.255 is not). */
static bool two_decimals(double x)
{
	double cents = x * 100;
	double diff = cents - (double)(long long)(cents + 0.5);
	return diff > -1e-6 && diff < 1e-6;
}

/* A number field (integer or real) in [min, max] as text into out. */
static const char *number_field(struct validator *v, const char *field, enum v_presence p,
				double min, double max, char *out, size_t outlen)
{
	const json_t *j = json_object_get(v->obj, field);
	if (!j || json_is_null(j)) {
		if (p == V_REQUIRED)
			validator_fail(v, field, "is required");
		return NULL;
	}
	if (!json_is_number(j) || json_number_value(j) < min || json_number_value(j) > max) {
		validator_fail(v, field, "must be a number from %g to %g", min, max);
		return NULL;
	}
	snprintf(out, outlen, "%.17g", json_number_value(j));
	return out;
}

static const char *int_field(struct validator *v, const char *field, enum v_presence p,
			     long long min, long long max, char *out, size_t outlen)
{
	long long x;
	if (!validator_int(v, field, p, min, max, &x))
		return NULL;
	snprintf(out, outlen, "%lld", x);
	return out;
}

struct movie_input {
	struct movie_fields f;
	char year[16], time[16], imdb[32], votes[24], meta[32], gross[32], cert[24];
	char genres[MAX_LINKS * 21 + 3], stars[MAX_LINKS * 21 + 3], directors[MAX_LINKS * 21 + 3];
};

/* Validates a movie body; create requires the mandatory fields. */
static void movie_validate(struct validator *v, struct movie_input *in, bool create)
{
	static const char *const allowed[] = {
		"name",	      "year",	  "time",	  "imdb",  "votes",
		"meta_score", "gross",	  "description",  "price", "certification_id",
		"genre_ids",  "star_ids", "director_ids", NULL};
	enum v_presence req = create ? V_REQUIRED : V_OPTIONAL;
	struct movie_fields *f = &in->f;
	memset(f, 0, sizeof(*f));
	validator_only(v, allowed);
	f->name = validator_string(v, "name", req, 1, 300);
	f->year = int_field(v, "year", req, 1888, 2100, in->year, sizeof(in->year));
	f->time = int_field(v, "time", req, 1, 1500, in->time, sizeof(in->time));
	f->imdb = number_field(v, "imdb", req, 0, 10, in->imdb, sizeof(in->imdb));
	if (f->imdb && !two_decimals(json_number_value(json_object_get(v->obj, "imdb")))) {
		/* The same rule as the imdb_min and imdb_max filters. */
		validator_fail(v, "imdb", "must have at most two decimals");
		f->imdb = NULL;
	}
	f->votes = int_field(v, "votes", req, 0, 2000000000, in->votes, sizeof(in->votes));
	f->meta_score =
		number_field(v, "meta_score", V_OPTIONAL, 0, 100, in->meta, sizeof(in->meta));
	f->gross = number_field(v, "gross", V_OPTIONAL, 0, 1e15, in->gross, sizeof(in->gross));
	f->meta_score_null = !create && validator_has(v, "meta_score") && !f->meta_score &&
			     json_is_null(json_object_get(v->obj, "meta_score"));
	f->gross_null = !create && validator_has(v, "gross") && !f->gross &&
			json_is_null(json_object_get(v->obj, "gross"));
	f->description = validator_string(v, "description", req, 0, 10000);
	const char *price = validator_string(v, "price", req, 1, 12);
	if (price && !is_decimal(price, true, 8))
		validator_fail(v, "price", "must be a decimal string such as \"9.99\"");
	else
		f->price = price;
	f->certification_id =
		int_field(v, "certification_id", req, 1, ID_MAX, in->cert, sizeof(in->cert));
	f->genre_ids = id_array(v, "genre_ids", in->genres, sizeof(in->genres));
	f->star_ids = id_array(v, "star_ids", in->stars, sizeof(in->stars));
	f->director_ids = id_array(v, "director_ids", in->directors, sizeof(in->directors));
	if (create) {
		/* Absent link lists mean none. */
		f->genre_ids = f->genre_ids ? f->genre_ids : "{}";
		f->star_ids = f->star_ids ? f->star_ids : "{}";
		f->director_ids = f->director_ids ? f->director_ids : "{}";
	}
	if (!create) {
		/* Only meta_score and gross can be cleared (null id lists already
		 * fail as "must be an array"); on create a null is "is required". */
		static const char *const not_null[] = {
			"name",	 "year",	"time",	 "imdb",
			"votes", "description", "price", "certification_id"};
		for (size_t i = 0; i < sizeof(not_null) / sizeof(not_null[0]); i++)
			if (json_is_null(json_object_get(v->obj, not_null[i])))
				validator_fail(v, not_null[i], "cannot be null");
	}
}

static unsigned movie_write(struct http_request *req, struct http_response *res, bool create)
{
	json_t *body, *errors = NULL;
	struct validator v;
	struct movie_input *in = calloc(1, sizeof(*in));
	long long id = 0;
	unsigned status;

	if (create == false && !http_param_id(req, "id", &id)) {
		free(in);
		return http_error(res, ERR_NOT_FOUND, NULL);
	}
	if (!in || !http_json_body(req, res, &body)) {
		free(in);
		return res->status;
	}
	validator_init(&v, body);
	movie_validate(&v, in, create);
	if (!validator_ok(&v)) {
		status = validator_respond(&v, res);
		goto out;
	}
	enum err rc = create ? catalog_create_movie(req->app, &in->f, &id, &errors)
			     : catalog_update_movie(req->app, id, &in->f, &errors);
	if (rc == ERR_VALIDATION && errors)
		status = http_validation_error(res, errors);
	else if (rc != ERR_OK)
		status = http_error(res, rc, NULL);
	else
		status = movie_response(req, res, id, create ? 201 : 200);
out:
	validator_clear(&v);
	json_decref(body);
	free(in);
	return status;
}

static unsigned h_create(struct http_request *req, struct http_response *res)
{
	return movie_write(req, res, true);
}

static unsigned h_update(struct http_request *req, struct http_response *res)
{
	return movie_write(req, res, false);
}

static unsigned h_delete(struct http_request *req, struct http_response *res)
{
	long long id, carts = 0;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	const char *force = http_query(req, "force");
	if (force && strcmp(force, "true") != 0 && strcmp(force, "false") != 0)
		return http_validation_error(res, json_pack("[{s:s,s:s}]", "field", "force",
							    "message", "must be true or false"));
	enum err rc =
		catalog_delete_movie(req->app, id, force && strcmp(force, "true") == 0, &carts);
	if (rc == ERR_MOVIE_IN_CARTS) {
		char detail[160];
		snprintf(detail, sizeof(detail),
			 "This movie is in %lld cart%s; delete with force=true to remove it "
			 "from them too.",
			 carts, carts == 1 ? "" : "s");
		return http_json(res, 409,
				 json_pack("{s:s,s:s,s:I}", "detail", detail, "code", err_code(rc),
					   "carts", (json_int_t)carts));
	}
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

/* ---- genres, stars, directors, certifications ---- */

static const char *const kind_names[] = {
	[LOOKUP_GENRE] = "genre",
	[LOOKUP_STAR] = "star",
	[LOOKUP_DIRECTOR] = "director",
	[LOOKUP_CERTIFICATION] = "certification",
};

/* Genres and certifications are short vocabularies: one array. Stars and
 * directors grow with the catalog: pages, with ?search= on the name. */
static unsigned lookup_list_h(struct http_request *req, struct http_response *res,
			      enum lookup_kind k)
{
	enum err rc;
	buf_reset(&res->body);
	if (k == LOOKUP_GENRE || k == LOOKUP_CERTIFICATION) {
		rc = catalog_lookup_all(req->app, k, catalog_writer(req), &res->body);
		return rc == ERR_OK ? http_json_raw(res, 200) : http_error(res, rc, NULL);
	}
	struct page pg;
	struct buf items = BUF_INIT;
	long long total = 0;
	if (!page_parse(req, res, &pg))
		return res->status;
	const char *search = http_query(req, "search");
	json_t *errors = json_array();
	if (search && !search_valid(search, errors))
		return http_validation_error(res, errors);
	json_decref(errors);
	rc = catalog_lookup_page(req->app, k, catalog_writer(req), search, pg.per_page, pg.offset,
				 &items, &total);
	if (rc != ERR_OK) {
		buf_free(&items);
		return http_error(res, rc, NULL);
	}
	buf_reset(&res->body);
	page_envelope_raw(req, &pg, items.data, items.len, total, &res->body);
	buf_free(&items);
	return http_json_raw(res, 200);
}

static unsigned lookup_get_h(struct http_request *req, struct http_response *res,
			     enum lookup_kind k)
{
	long long id;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	buf_reset(&res->body);
	enum err rc = catalog_lookup_get(req->app, k, catalog_writer(req), id, &res->body);
	return rc == ERR_OK ? http_json_raw(res, 200) : http_error(res, rc, NULL);
}

static unsigned lookup_write_h(struct http_request *req, struct http_response *res,
			       enum lookup_kind k, bool create)
{
	json_t *body;
	struct validator v;
	long long id = 0;
	unsigned status;
	static const char *const allowed[] = {"name", NULL};
	if (!create && !http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	if (!http_json_body(req, res, &body))
		return res->status;
	validator_init(&v, body);
	validator_only(&v, allowed);
	const char *name = validator_string(&v, "name", V_REQUIRED, 1,
					    k == LOOKUP_CERTIFICATION ? 32
					    : k == LOOKUP_GENRE	      ? 100
								      : 200);
	if (validator_ok(&v)) {
		buf_reset(&res->body);
		enum err rc = create ? catalog_lookup_create(req->app, k, name, &res->body)
				     : catalog_lookup_rename(req->app, k, id, name, &res->body);
		if (rc == ERR_NAME_TAKEN)
			status = http_errorf(res, rc, "A %s with this name already exists.",
					     kind_names[k]);
		else
			status = rc == ERR_OK ? http_json_raw(res, create ? 201 : 200)
					      : http_error(res, rc, NULL);
	} else {
		status = validator_respond(&v, res);
	}
	validator_clear(&v);
	json_decref(body);
	return status;
}

static unsigned lookup_delete_h(struct http_request *req, struct http_response *res,
				enum lookup_kind k)
{
	long long id, in_use = 0;
	if (!http_param_id(req, "id", &id))
		return http_error(res, ERR_NOT_FOUND, NULL);
	enum err rc = catalog_lookup_delete(req->app, k, id, &in_use);
	if (rc == ERR_IN_USE)
		return http_errorf(res, rc, "This %s is still used by %lld movie%s.", kind_names[k],
				   in_use, in_use == 1 ? "" : "s");
	return rc == ERR_OK ? http_empty(res, 204) : http_error(res, rc, NULL);
}

#define LOOKUP_HANDLERS(name, kind)                                                            \
	static unsigned h_##name##_list(struct http_request *req, struct http_response *res)   \
	{                                                                                      \
		return lookup_list_h(req, res, kind);                                          \
	}                                                                                      \
	static unsigned h_##name##_get(struct http_request *req, struct http_response *res)    \
	{                                                                                      \
		return lookup_get_h(req, res, kind);                                           \
	}                                                                                      \
	static unsigned h_##name##_create(struct http_request *req, struct http_response *res) \
	{                                                                                      \
		return lookup_write_h(req, res, kind, true);                                   \
	}                                                                                      \
	static unsigned h_##name##_rename(struct http_request *req, struct http_response *res) \
	{                                                                                      \
		return lookup_write_h(req, res, kind, false);                                  \
	}                                                                                      \
	static unsigned h_##name##_delete(struct http_request *req, struct http_response *res) \
	{                                                                                      \
		return lookup_delete_h(req, res, kind);                                        \
	}

LOOKUP_HANDLERS(genres, LOOKUP_GENRE)
LOOKUP_HANDLERS(stars, LOOKUP_STAR)
LOOKUP_HANDLERS(directors, LOOKUP_DIRECTOR)
LOOKUP_HANDLERS(certifications, LOOKUP_CERTIFICATION)

#define BODY	   4096
#define MOVIE_BODY 65536

#define LOOKUP_ROUTES(name)                                                                        \
	{HTTP_GET, "/api/v1/" #name, h_##name##_list, ACCESS_PUBLIC, 0, LANE_DB},                  \
		{HTTP_POST, "/api/v1/" #name, h_##name##_create, ACCESS_MODERATOR, BODY, LANE_DB}, \
		{HTTP_GET, "/api/v1/" #name "/{id}", h_##name##_get, ACCESS_PUBLIC, 0, LANE_DB},   \
		{HTTP_PATCH, "/api/v1/" #name "/{id}", h_##name##_rename, ACCESS_MODERATOR, BODY,  \
		 LANE_DB},                                                                         \
	{                                                                                          \
		HTTP_DELETE, "/api/v1/" #name "/{id}", h_##name##_delete, ACCESS_MODERATOR, 0,     \
			LANE_DB                                                                    \
	}

const struct route catalog_routes[] = {
	{HTTP_GET, "/api/v1/movies", h_list, ACCESS_PUBLIC, 0, LANE_TRY_INLINE},
	{HTTP_POST, "/api/v1/movies", h_create, ACCESS_MODERATOR, MOVIE_BODY, LANE_DB},
	{HTTP_GET, "/api/v1/movies/{id}", h_get, ACCESS_PUBLIC, 0, LANE_DB},
	{HTTP_PATCH, "/api/v1/movies/{id}", h_update, ACCESS_MODERATOR, MOVIE_BODY, LANE_DB},
	{HTTP_DELETE, "/api/v1/movies/{id}", h_delete, ACCESS_MODERATOR, 0, LANE_DB},
	{HTTP_GET, "/api/v1/favorites", h_favorites, ACCESS_USER, 0, LANE_DB},
	{HTTP_GET, "/api/v1/purchases", h_purchases, ACCESS_USER, 0, LANE_DB},
	LOOKUP_ROUTES(genres),
	LOOKUP_ROUTES(stars),
	LOOKUP_ROUTES(directors),
	LOOKUP_ROUTES(certifications),
	ROUTES_END,
};
