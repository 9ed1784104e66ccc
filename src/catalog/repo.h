/* SQL of the catalog (migrations/0004_catalog.sql): movies and the four
 * lookup tables. Movies leave PostgreSQL already rendered as JSON text, so
 * the hot paths never parse and re-serialize them. */
#ifndef CINEMA_CATALOG_REPO_H
#define CINEMA_CATALOG_REPO_H

#include <stdbool.h>

#include "cinema/buf.h"
#include "cinema/db.h"

/* Where a keyset page starts: after the row with this sort value and id
 * (src/catalog/cursor.h makes and reads the opaque ?cursor= text). */
struct movie_cursor {
	int tier;	  /* relevance order: 0 title matches, 1 the others */
	char value[1300]; /* the sort key as PostgreSQL text, already normalised */
	long long id;
};

/* Filters of GET /movies and GET /favorites; NULL fields are not applied.
 * Values are text already validated by the handler. */
struct movie_filter {
	const char *year, *year_min, *year_max;
	const char *imdb_min, *imdb_max;
	const char *price_min, *price_max;
	const char *genre, *certification, *star, *director;
	const char *tsquery;	  /* to_tsquery('simple', ...) input (search.h search_parse) */
	const char *search_text;  /* the search words for trigram matching; set with tsquery */
	const char *favorites_of; /* user id: only that user's favorites */
	const char *purchased_by; /* user id: only the movies that user bought */
	const char *sort;	  /* one of movies_sort_keys, or NULL for the default */
	long long limit, offset;
	const struct movie_cursor *after; /* keyset page: offset is ignored */
};

/* What a list page says besides its items. */
#define MOVIE_CURSOR_MAX 4096
struct movie_page {
	long long total; /* matches: counted, or estimated when !exact */
	bool exact;
	bool more;			    /* rows follow this page */
	char next_cursor[MOVIE_CURSOR_MAX]; /* where the next page starts; "" when !more */
};

/* Lists whose total is counted exactly up to this many matches; past it,
 * unless maintained counters give it, the total is the planner's estimate. */
#define MOVIES_EXACT_COUNT_MAX 1000
/* Past this many expected matches the planner's estimate is the total,
 * without counting (counting even up to MOVIES_EXACT_COUNT_MAX can mean
 * building the bitmaps of every match). */
#define MOVIES_ESTIMATE_TRUSTED 2000

/* A MovieSummary of openapi.yaml as a json value, from movies m joined
 * with certifications c (one row, no join per row: the media paths come
 * from movies.poster_key and trailer_key, which a trigger of
 * migrations/0010_media.sql keeps). For other modules' lists of movies
 * (continue watching), so every list renders a movie the same way. */
/* clang-format off */
#define CATALOG_MOVIE_SUMMARY                                                            \
	"json_build_object('id', m.id, 'uuid', m.uuid, 'name', m.name, 'year', m.year, " \
	"'time', m.time, 'imdb', m.imdb, 'votes', m.votes, 'meta_score', m.meta_score, " \
	"'price', m.price::text, 'certification', json_build_object('id', c.id, "        \
	"'name', c.name), 'genres', m.genres_json, 'likes', m.likes, "                   \
	"'dislikes', m.dislikes, 'rating', round(m.rating::numeric, 1), "                \
	"'rating_count', m.rating_count, 'popularity', m.popularity, "                   \
	"'poster_url', " CATALOG_MEDIA_URL("m.poster_key") ", "                          \
	"'trailer_url', " CATALOG_MEDIA_URL("m.trailer_key") ")"
/* clang-format on */

/* The public path of a media key (media/{movie}/{kind}/{token} becomes
 * /api/v1/media/...: the redirect of docs/MEDIA.md), NULL when key is. */
#define CATALOG_MEDIA_URL(key) "('/api/v1/' || " key ")"

/* Whether key ("year", "-imdb", ...) is a sort the list supports. */
bool movies_sort_valid(const char *key);

/* The sort f asks for: its key ("-imdb"), or "" for relevance (search
 * without sort); for checking that a cursor belongs to it. */
const char *movies_sort_of(const struct movie_filter *f);
/* The SQL type of a sort's key (movie_cursor_read checks values by it). */
const char *movies_sort_type(const char *key);

/* Appends a JSON array of movie summaries to items and fills pg: the count
 * of all matches (docs/CATALOG.md "Lists at scale" says how it is taken),
 * whether more rows follow and the cursor of the next page. */
enum err movies_list(struct db_conn *c, const struct movie_filter *f, struct buf *items,
		     struct movie_page *pg);
/* Appends the movie's full JSON to out (with poster_url, trailer_url and
 * has_feature); viewer (a user id, or NULL) adds the "me" object with that
 * user's reaction, rating, flags and progress in the feature. */
enum err movies_get(struct db_conn *c, long long id, const char *viewer, struct buf *out);

/* Fields of a movie write, as text; NULL = absent (PATCH keeps the value).
 * *_ids are PostgreSQL array literals such as "{1,2}". */
struct movie_fields {
	const char *name, *year, *time, *imdb, *votes, *meta_score, *gross, *description, *price;
	const char *certification_id;
	const char *genre_ids, *star_ids, *director_ids;
	bool meta_score_null, gross_null; /* PATCH to null */
};

/* Checks that the referenced ids exist. On ERR_VALIDATION, *missing gets
 * an owned JSON array of {field, message} errors. */
enum err movies_check_refs(struct db_conn *c, const struct movie_fields *f, void **missing);
enum err movies_insert(struct db_conn *c, const struct movie_fields *f, long long *id);
enum err movies_update(struct db_conn *c, long long id, const struct movie_fields *f);
enum err movies_delete(struct db_conn *c, long long id);

/* The four lookup tables share one shape: id, name, and the movies using
 * each row. */
enum lookup_kind { LOOKUP_GENRE, LOOKUP_STAR, LOOKUP_DIRECTOR, LOOKUP_CERTIFICATION };

/* Appends [{id, name, movie_count}] of every row (genres: small). */
enum err lookup_list_all(struct db_conn *c, enum lookup_kind k, struct buf *out);
/* One page, optionally filtered by a name substring. */
enum err lookup_list(struct db_conn *c, enum lookup_kind k, const char *name_like, long long limit,
		     long long offset, struct buf *items, long long *total);
enum err lookup_get(struct db_conn *c, enum lookup_kind k, long long id, struct buf *out);
/* ERR_NAME_TAKEN on a duplicate name. */
enum err lookup_create(struct db_conn *c, enum lookup_kind k, const char *name, long long *id);
enum err lookup_rename(struct db_conn *c, enum lookup_kind k, long long id, const char *name);
/* ERR_IN_USE with *in_use = how many movies still use it. */
enum err lookup_delete(struct db_conn *c, enum lookup_kind k, long long id, long long *in_use);

#endif
