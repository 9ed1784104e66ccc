/* Schema migrations (db_migrate in include/cinema/db.h).
 *
 * Files named NNNN_name.sql in one directory are applied in number order,
 * each in its own transaction together with its row in schema_migrations,
 * on a connection of their own under a session advisory lock, so several
 * processes may run this at once: the first applies, the others wait and
 * then find nothing to do. A file whose SHA-256 differs from the one recorded
 * when it was applied stops the run: applied migrations are immutable; write
 * a new one instead.
 *
 * A migration file must not contain BEGIN/COMMIT, nor statements that cannot
 * run inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cinema/db.h"
#include "cinema/log.h"
#include "cinema/mem.h"

#define MIGRATE_MAX_FILE_SIZE (4 * 1024 * 1024)
#define MIGRATE_NAME_MAX      200

/* "cinemaMG" as a big-endian 64-bit integer: the advisory lock key. */
#define MIGRATE_LOCK_KEY "7163378064215330119"

static const char MIGRATE_SQL_LOCK[] = "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")";
static const char MIGRATE_SQL_UNLOCK[] = "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")";
static const char MIGRATE_SQL_CREATE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
					 " version integer PRIMARY KEY,"
					 " name text NOT NULL,"
					 " checksum text NOT NULL,"
					 " applied_at timestamptz NOT NULL DEFAULT now())";
static const char MIGRATE_SQL_APPLIED[] =
	"SELECT version, name, checksum FROM schema_migrations ORDER BY version";
static const char MIGRATE_SQL_RECORD[] =
	"INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

struct migration {
	int version;
	char *name; /* owned: between "NNNN_" and ".sql" */
	char *file; /* owned: the file name */
	char *sql;  /* owned: the file's text */
	char checksum[2 * 32 + 1];
	bool applied;
};

struct migration_list {
	struct migration *items; /* owned */
	size_t count;
	size_t cap;
};

static void migration_list_free(struct migration_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].name);
		free(list->items[i].file);
		free(list->items[i].sql);
	}
	free(list->items);
	list->items = NULL;
	list->count = list->cap = 0;
}

/* Matches ^[0-9]{4}_[a-z0-9_]+\.sql$ and extracts number and name. */
static bool migrate_parse_name(const char *file, int *version, char **name)
{
	size_t len = strlen(file);
	size_t stem;

	if (len < 4 + 1 + 1 + 4 || len > MIGRATE_NAME_MAX || strcmp(file + len - 4, ".sql") != 0)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (file[i] < '0' || file[i] > '9')
			return false;
	if (file[4] != '_')
		return false;
	stem = len - 4;
	for (size_t i = 5; i < stem; i++) {
		char c = file[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	*version = (file[0] - '0') * 1000 + (file[1] - '0') * 100 + (file[2] - '0') * 10 +
		   (file[3] - '0');
	*name = xstrndup(file + 5, stem - 5);
	return true;
}

static void log_errno(const char *msg, const char *path, int e)
{
	char buf[128];

	LOG_ERROR(msg, LOG_STR("path", path), LOG_STR("error", strerror_r(e, buf, sizeof(buf))));
}

/* Reads a whole migration file, bounded, into an owned NUL-terminated
 * string. */
static enum err migrate_read_file(const char *path, char **out)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	enum err rc = ERR_INTERNAL;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_errno("cannot open migration file", path, errno);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		log_errno("cannot stat migration file", path, errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MIGRATE_MAX_FILE_SIZE) {
		LOG_ERROR("migration file is not a regular file of at most 4 MiB",
			  LOG_STR("path", path), LOG_INT("size", st.st_size));
		goto out;
	}
	/* One byte more than allowed, to notice a file that grew. */
	data = xmalloc((size_t)MIGRATE_MAX_FILE_SIZE + 2);
	for (;;) {
		ssize_t n = read(fd, data + len, (size_t)MIGRATE_MAX_FILE_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_errno("cannot read migration file", path, errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > MIGRATE_MAX_FILE_SIZE) {
			LOG_ERROR("migration file is larger than 4 MiB", LOG_STR("path", path));
			goto out;
		}
	}
	if (memchr(data, '\0', len) != NULL) {
		LOG_ERROR("migration file contains a NUL byte", LOG_STR("path", path));
		goto out;
	}
	data[len] = '\0';
	*out = xrealloc(data, len + 1);
	data = NULL;
	rc = ERR_OK;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return rc;
}

static enum err migrate_checksum(const char *data, char hex[2 * 32 + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char digits[] = "0123456789abcdef";

	if (EVP_Digest(data, strlen(data), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		LOG_ERROR("sha-256 of a migration file failed");
		return ERR_INTERNAL;
	}
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[2 * mdlen] = '\0';
	return ERR_OK;
}

static int migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a;
	const struct migration *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Lists, reads and checksums the migration files of dir, sorted by number. */
static enum err migrate_scan(const char *dir, struct migration_list *list)
{
	DIR *d = NULL;
	struct dirent *de;
	char *path = NULL;
	enum err rc = ERR_INTERNAL;

	d = opendir(dir);
	if (!d) {
		log_errno("cannot open migrations directory", dir, errno);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		struct migration m = {0};
		size_t n;

		if (!migrate_parse_name(de->d_name, &m.version, &m.name)) {
			n = strlen(de->d_name);
			if (n >= 4 && strcmp(de->d_name + n - 4, ".sql") == 0)
				LOG_WARN("ignoring migration file with a bad name (want "
					 "NNNN_name.sql)",
					 LOG_STR("file", de->d_name));
			continue;
		}
		m.file = xstrdup(de->d_name);
		if (list->count == list->cap) {
			list->cap = list->cap ? list->cap * 2 : 16;
			list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
		}
		/* Owned by the list from here, so cleanup frees it on error. */
		list->items[list->count++] = m;
	}

	qsort(list->items, list->count, sizeof(*list->items), migration_cmp);
	for (size_t i = 0; i < list->count; i++) {
		struct migration *m = &list->items[i];

		if (i > 0 && m->version == list->items[i - 1].version) {
			LOG_ERROR("two migration files share a number",
				  LOG_INT("version", m->version),
				  LOG_STR("file", list->items[i - 1].file),
				  LOG_STR("other_file", m->file));
			goto out;
		}
		free(path);
		path = xmalloc(strlen(dir) + 1 + strlen(m->file) + 1);
		sprintf(path, "%s/%s", dir, m->file);
		if (migrate_read_file(path, &m->sql) != ERR_OK ||
		    migrate_checksum(m->sql, m->checksum) != ERR_OK)
			goto out;
	}
	rc = ERR_OK;
out:
	free(path);
	if (d)
		closedir(d);
	return rc;
}

static void migrate_notice(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	if (severity && strcmp(severity, "WARNING") == 0)
		LOG_WARN("database warning", LOG_STR("error", msg));
	else
		LOG_DEBUG("database notice", LOG_STR("severity", severity), LOG_STR("error", msg));
}

/* Logs why a command of the migration run failed; returns the error. */
static enum err migrate_fail(PGconn *pg, const PGresult *res, const char *what,
			     const struct migration *m)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *position = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	char line[256];

	if (!msg) {
		const char *e = PQerrorMessage(pg);
		size_t n = strcspn(e, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
			 e);
		msg = line;
	}
	LOG_ERROR(what, LOG_INT("version", m ? m->version : -1),
		  LOG_STR("file", m ? m->file : NULL), LOG_STR("sqlstate", state),
		  LOG_STR("error", msg), LOG_STR("detail", detail), LOG_STR("position", position));
	return PQstatus(pg) == CONNECTION_OK ? ERR_INTERNAL : ERR_DB_UNAVAILABLE;
}

/* Runs one command that must succeed; on failure logs `what`. */
static enum err migrate_cmd(PGconn *pg, const char *sql, const char *what,
			    const struct migration *m)
{
	PGresult *res = PQexec(pg, sql);
	enum err rc = ERR_OK;

	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		break;
	default:
		rc = migrate_fail(pg, res, what, m);
	}
	PQclear(res);
	return rc;
}

static enum err migrate_apply(PGconn *pg, const struct migration *m)
{
	PGresult *res = NULL;
	char version[16];
	const char *params[3];
	bool in_tx = false;
	enum err rc;

	rc = migrate_cmd(pg, "BEGIN", "cannot start migration transaction", m);
	if (rc != ERR_OK)
		goto out;
	in_tx = true;
	rc = migrate_cmd(pg, m->sql, "migration failed", m);
	if (rc != ERR_OK)
		goto out;
	if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
		LOG_ERROR("migration must not end its transaction (no BEGIN/COMMIT in files)",
			  LOG_INT("version", m->version), LOG_STR("file", m->file));
		rc = ERR_INTERNAL;
		goto out;
	}
	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	res = PQexecParams(pg, MIGRATE_SQL_RECORD, 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = migrate_fail(pg, res, "cannot record migration", m);
		goto out;
	}
	rc = migrate_cmd(pg, "COMMIT", "cannot commit migration", m);
	if (rc != ERR_OK)
		goto out;
	in_tx = false;
	LOG_INFO("migration applied", LOG_INT("version", m->version), LOG_STR("name", m->name));
out:
	PQclear(res);
	if (in_tx && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
		PQclear(PQexec(pg, "ROLLBACK"));
	return rc;
}

static struct migration *migration_find(struct migration_list *list, int version)
{
	struct migration key = {.version = version};

	return bsearch(&key, list->items, list->count, sizeof(*list->items), migration_cmp);
}

/* Marks applied files, refusing any whose text changed since, and any
 * pending file numbered below the newest applied one. */
static enum err migrate_check_applied(PGconn *pg, struct migration_list *list)
{
	PGresult *res = NULL;
	enum err rc = ERR_INTERNAL;
	int newest = -1;

	res = PQexec(pg, MIGRATE_SQL_APPLIED);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = migrate_fail(pg, res, "cannot read schema_migrations", NULL);
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int version = (int)strtol(PQgetvalue(res, i, 0), NULL, 10);
		const char *name = PQgetvalue(res, i, 1);
		const char *checksum = PQgetvalue(res, i, 2);
		struct migration *m = migration_find(list, version);

		if (version > newest)
			newest = version;
		if (!m) {
			/* A newer release applied it; this one does not know it. */
			LOG_WARN("applied migration has no file here", LOG_INT("version", version),
				 LOG_STR("name", name));
			continue;
		}
		if (strcmp(m->checksum, checksum) != 0) {
			LOG_ERROR("migration file changed after it was applied; add a new "
				  "migration instead",
				  LOG_INT("version", version), LOG_STR("file", m->file),
				  LOG_STR("applied_checksum", checksum),
				  LOG_STR("file_checksum", m->checksum));
			goto out;
		}
		m->applied = true;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct migration *m = &list->items[i];

		if (!m->applied && m->version < newest) {
			LOG_ERROR("pending migration is numbered below the newest applied one",
				  LOG_INT("version", m->version), LOG_STR("file", m->file),
				  LOG_INT("newest_applied", newest));
			goto out;
		}
	}
	rc = ERR_OK;
out:
	PQclear(res);
	return rc;
}

enum err db_migrate(const char *conninfo, const char *dir, int *applied)
{
	static const char *const keys[] = {"application_name", "connect_timeout", "dbname", NULL};
	const char *vals[] = {"cinema-migrate", "10", conninfo, NULL};
	struct migration_list list = {0};
	PGconn *pg = NULL;
	bool locked = false;
	int count = 0;
	enum err rc = ERR_INTERNAL;

	if (applied)
		*applied = 0;
	if (!conninfo || !dir)
		goto out;
	rc = migrate_scan(dir, &list);
	if (rc != ERR_OK)
		goto out;

	pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(pg) != CONNECTION_OK) {
		(void)migrate_fail(pg, NULL, "cannot connect to the database to migrate", NULL);
		rc = ERR_DB_UNAVAILABLE;
		goto out;
	}
	PQsetNoticeReceiver(pg, migrate_notice, NULL);

	/* The table is created under the lock: concurrent CREATE TABLE IF NOT
	 * EXISTS can fail on the catalog's unique indexes. */
	rc = migrate_cmd(pg, MIGRATE_SQL_LOCK, "cannot take the migration lock", NULL);
	if (rc != ERR_OK)
		goto out;
	locked = true;
	rc = migrate_cmd(pg, MIGRATE_SQL_CREATE, "cannot create schema_migrations", NULL);
	if (rc != ERR_OK)
		goto out;
	rc = migrate_check_applied(pg, &list);
	if (rc != ERR_OK)
		goto out;

	for (size_t i = 0; i < list.count; i++) {
		if (list.items[i].applied)
			continue;
		rc = migrate_apply(pg, &list.items[i]);
		if (rc != ERR_OK)
			goto out;
		count++;
	}
	LOG_INFO("migrations done", LOG_INT("applied", count), LOG_INT("known", list.count));
	rc = ERR_OK;
out:
	/* Closing the session would release the lock too; be explicit. */
	if (locked && PQstatus(pg) == CONNECTION_OK)
		PQclear(PQexec(pg, MIGRATE_SQL_UNLOCK));
	PQfinish(pg);
	migration_list_free(&list);
	if (applied)
		*applied = count;
	return rc;
}
