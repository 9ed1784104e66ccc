#include "media/seed.h"

#include <errno.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/list_cache.h"
#include "cinema/db.h"
#include "cinema/kv.h"
#include "cinema/log.h"
#include "cinema/mem.h"
#include "media/media.h"
#include "media/repo.h"
#include "media/service.h"
#include "media/sniff.h"
#include "storage/s3.h"

struct seed_item {
	int line;
	long long index;
	enum media_kind kind;
	char *path; /* DIR/FILE */
	const char *file;
	double duration_s; /* 0: unknown */
	const char *type;  /* sniffed */
	long long size;
};

struct seed {
	struct seed_item *items;
	size_t n, cap;
	char *text; /* the manifest, split in place */
};

static void seed_free(struct seed *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].path);
	free(s->items);
	free(s->text);
}

static bool read_file(const char *path, long long max, char **out, size_t *len, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	*out = NULL;
	if (!f || fstat(fileno(f), &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return false;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of at most %lld bytes", path, max);
		fclose(f);
		return false;
	}
	*out = xmalloc((size_t)st.st_size + 1);
	*len = fread(*out, 1, (size_t)st.st_size, f);
	(*out)[*len] = '\0';
	fclose(f);
	if (*len != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: short read", path);
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

/* Checks one manifest line (split at tabs) and its file's first bytes. */
static bool parse_line(const char *dir, char *line, int lineno, struct seed_item *it, char *err,
		       size_t errlen)
{
	char *f[5] = {0};
	int nf = 0;
	memset(it, 0, sizeof(*it));
	for (char *p = line; nf < 5; nf++) {
		f[nf] = p;
		p = strchr(p, '\t');
		if (!p) {
			nf++;
			break;
		}
		*p++ = '\0';
	}
	if (nf != 4) {
		snprintf(err, errlen,
			 "line %d: expected 4 tab-separated fields (INDEX KIND FILE DURATION_S), "
			 "found %d",
			 lineno, nf);
		return false;
	}
	char *end;
	it->line = lineno;
	errno = 0;
	it->index = strtoll(f[0], &end, 10);
	if (errno || end == f[0] || *end || it->index < 1) {
		snprintf(err, errlen, "line %d: INDEX \"%s\" is not a whole number from 1", lineno,
			 f[0]);
		return false;
	}
	if (!media_kind_parse(f[1], &it->kind)) {
		snprintf(err, errlen, "line %d: KIND \"%s\" is not poster, trailer or feature",
			 lineno, f[1]);
		return false;
	}
	if (!*f[2] || f[2][0] == '/' || strstr(f[2], "..")) {
		snprintf(err, errlen, "line %d: FILE \"%s\" must be a path inside the directory",
			 lineno, f[2]);
		return false;
	}
	if (strcmp(f[3], "-") != 0) {
		errno = 0;
		it->duration_s = strtod(f[3], &end);
		if (errno || end == f[3] || *end || !(it->duration_s > 0) ||
		    it->duration_s > 86400) {
			snprintf(err, errlen,
				 "line %d: DURATION_S \"%s\" is not a number of seconds (above 0, "
				 "at most 86400) or -",
				 lineno, f[3]);
			return false;
		}
	}
	it->file = f[2];
	size_t plen = strlen(dir) + strlen(f[2]) + 2;
	it->path = xmalloc(plen);
	snprintf(it->path, plen, "%s/%s", dir, f[2]);

	/* The type from the first bytes, and the size. */
	FILE *fp = fopen(it->path, "rb");
	struct stat st;
	unsigned char head[MEDIA_SNIFF_BYTES];
	if (!fp || fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "line %d: %s: %s", lineno, it->path,
			 fp ? "not a regular file" : strerror(errno));
		if (fp)
			fclose(fp);
		return false;
	}
	size_t got = fread(head, 1, sizeof(head), fp);
	fclose(fp);
	it->size = st.st_size;
	if (it->size < 1 || it->size > MEDIA_SEED_MAX_FILE_BYTES) {
		snprintf(err, errlen, "line %d: %s: %lld bytes (from 1 to %lld accepted)", lineno,
			 it->path, it->size, MEDIA_SEED_MAX_FILE_BYTES);
		return false;
	}
	it->type = media_sniff(head, got);
	if (!it->type || !media_type_allowed(it->kind, it->type)) {
		snprintf(err, errlen, "line %d: %s is %s%s, not %s as a %s needs", lineno, it->path,
			 it->type ? "" : "of no known type", it->type ? it->type : "",
			 media_types_text(it->kind), media_kind_name(it->kind));
		return false;
	}
	return true;
}

static bool manifest_load(const char *dir, struct seed *s, char *err, size_t errlen)
{
	size_t len = 0, plen = strlen(dir) + sizeof("/media.tsv");
	char *path = xmalloc(plen);
	snprintf(path, plen, "%s/media.tsv", dir);
	bool ok = read_file(path, 4 * MEDIA_MIB, &s->text, &len, err, errlen);
	free(path);
	if (!ok)
		return false;
	if (strlen(s->text) != len) {
		snprintf(err, errlen, "%s/media.tsv: holds a NUL byte", dir);
		return false;
	}
	int lineno = 0;
	for (char *p = s->text, *next; p && *p; p = next) {
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		size_t l = strlen(p);
		if (l && p[l - 1] == '\r')
			p[--l] = '\0';
		if (!l || p[0] == '#')
			continue;
		if (s->n == MEDIA_SEED_MAX_LINES) {
			snprintf(err, errlen, "more than %d files", MEDIA_SEED_MAX_LINES);
			return false;
		}
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 16;
			s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
		}
		if (!parse_line(dir, p, lineno, &s->items[s->n], err, errlen)) {
			free(s->items[s->n].path);
			return false;
		}
		s->n++;
	}
	return true;
}

struct link_tx {
	long long movie_id;
	const struct seed_item *it;
	const char *key;
	bool replaced;
};

static enum err link_fn(struct db_conn *c, void *ctx)
{
	struct link_tx *t = ctx;
	return media_repo_link(c, t->movie_id, t->it->kind, t->key, t->it->type, t->it->size,
			       t->it->duration_s, 0, &t->replaced);
}

/* Stores and links one file. */
static bool seed_one(struct db_pool *db, struct s3_client *s3, long long movie_id,
		     const struct seed_item *it, bool *replaced)
{
	char token[MEDIA_TOKEN_LEN + 1], key[MEDIA_KEY_MAX], err[512] = "";
	unsigned char raw[MEDIA_TOKEN_LEN / 2];
	char *data = NULL;
	size_t len = 0;
	bool ok = false;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
	media_key_format(key, sizeof(key), movie_id, it->kind, token);
	if (!read_file(it->path, MEDIA_SEED_MAX_FILE_BYTES, &data, &len, err, sizeof(err))) {
		fprintf(stderr, "cinema-api: seed: %s\n", err);
		goto out;
	}
	if (s3_put_object(s3, key, data, len, it->type, err, sizeof(err)) != ERR_OK) {
		fprintf(stderr, "cinema-api: seed: %s: storing it in S3 failed: %s\n", it->path,
			err);
		goto out;
	}
	struct link_tx t = {.movie_id = movie_id, .it = it, .key = key};
	enum err rc = db_transaction(db, link_fn, &t);
	if (rc != ERR_OK) {
		/* The object is in no row: delete it now. */
		s3_delete_object(s3, key, err, sizeof(err));
		fprintf(stderr, "cinema-api: seed: %s: linking it failed: %s\n", it->path,
			err_detail(rc));
		goto out;
	}
	*replaced = t.replaced;
	printf("media: movie %lld (#%lld) %s %s -> %s (%s, %zu bytes%s)\n", movie_id, it->index,
	       media_kind_name(it->kind), it->file, key, it->type, len,
	       t.replaced ? ", replaced the old one" : "");
	fflush(stdout);
	ok = true;
out:
	free(data);
	return ok;
}

/* Running processes: API processes drop their cached lists, the scheduler
 * deletes replaced objects. */
static void announce(const struct config *cfg, bool trashed)
{
	char err[256];
	struct kv_options kvo = {
		.url = cfg->redis_url, .pool_size = 1, .timeout_ms = cfg->redis_timeout_ms};
	struct kv *kv = kv_new(&kvo, err, sizeof(err));
	if (!kv) {
		LOG_WARN("media seed not announced", LOG_STR("error", err));
		return;
	}
	movie_lists_announce(kv);
	if (trashed)
		media_trash_announce(kv, cfg->media_trash_queue_key);
	kv_free(kv);
}

int media_seed_command(const struct config *cfg, const char *dir)
{
	struct seed s = {0};
	struct db_pool *pool = NULL;
	struct db_conn *conn = NULL;
	struct s3_client *s3 = NULL;
	PGresult *ids = NULL;
	char err[768];
	int rc = 1;
	long long linked = 0;
	bool trashed = false;

	if (!manifest_load(dir, &s, err, sizeof(err))) {
		fprintf(stderr, "cinema-api: seed: %s/media.tsv: %s\n", dir, err);
		goto out;
	}
	if (s3_client_from_config(cfg, &s3) != ERR_OK) {
		fprintf(stderr, "cinema-api: seed: S3_ENDPOINT, S3_BUCKET or S3_REGION is "
				"malformed\n");
		goto out;
	}
	if (!s3) {
		fprintf(stderr, "cinema-api: seed: S3_ACCESS_KEY and S3_SECRET_KEY must be set to "
				"seed media\n");
		goto out;
	}
	struct db_pool_options dbo = {
		.conninfo = cfg->database_url,
		.size = 1,
		.acquire_timeout_ms = cfg->db_acquire_timeout_ms,
		.connect_timeout_s = cfg->db_connect_timeout_s,
		.statement_timeout_ms = cfg->db_statement_timeout_ms,
	};
	if (!(pool = db_pool_new(&dbo))) {
		fprintf(stderr,
			"cinema-api: seed: DATABASE_URL is not a valid connection string\n");
		goto out;
	}
	enum err e = db_acquire(pool, &conn);
	if (e == ERR_OK)
		e = media_repo_movie_ids(conn, &ids);
	db_release(conn);
	if (e != ERR_OK) {
		fprintf(stderr, "cinema-api: seed: reading the movies failed: %s\n", err_detail(e));
		goto out;
	}
	long long movies = PQntuples(ids);
	for (size_t i = 0; i < s.n; i++)
		if (s.items[i].index > movies) {
			fprintf(stderr,
				"cinema-api: seed: %s/media.tsv: line %d: INDEX %lld, but the "
				"catalog has %lld movies\n",
				dir, s.items[i].line, s.items[i].index, movies);
			goto out;
		}
	if (s3_ensure_bucket(s3, err, sizeof(err)) != ERR_OK) {
		fprintf(stderr, "cinema-api: seed: the S3 bucket: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		const struct seed_item *it = &s.items[i];
		long long movie_id = strtoll(PQgetvalue(ids, (int)(it->index - 1), 0), NULL, 10);
		bool replaced = false;
		if (!seed_one(pool, s3, movie_id, it, &replaced))
			goto done;
		trashed |= replaced;
		linked++;
	}
	rc = 0;
done:
	if (linked)
		announce(cfg, trashed);
	printf("seed: %lld media files linked\n", linked);
out:
	PQclear(ids);
	db_pool_free(pool);
	s3_client_free(s3);
	seed_free(&s);
	return rc;
}
