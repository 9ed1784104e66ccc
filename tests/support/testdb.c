/* Throwaway databases for integration tests (see testdb.h). */
#include "testdb.h"

#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cinema/buf.h"

const char *testdb_url(void)
{
	const char *url = getenv("DATABASE_URL");

	return url && url[0] ? url : NULL;
}

static void testdb_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Connects to DATABASE_URL, failing the test if that is impossible. */
static PGconn *testdb_admin(const char *url)
{
	static const char *const keys[] = {"application_name", "dbname", NULL};
	const char *vals[] = {"cinema-testdb", url, NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);

	if (PQstatus(pg) != CONNECTION_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "testdb: cannot connect to DATABASE_URL: %s",
			 PQerrorMessage(pg));
		PQfinish(pg);
		ck_abort_msg("%s", msg);
	}
	/* "database ... does not exist, skipping" is expected noise. */
	PQsetNoticeProcessor(pg, testdb_quiet, NULL);
	return pg;
}

static void testdb_run(PGconn *pg, const char *sql)
{
	PGresult *res = PQexec(pg, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "testdb: %s: %s", sql, PQerrorMessage(pg));
		PQclear(res);
		PQfinish(pg);
		ck_abort_msg("%s", msg);
	}
	PQclear(res);
}

/* Appends keyword='value' with the quoting of libpq's key=value syntax. */
static void append_param(struct buf *b, const char *key, const char *val)
{
	buf_printf(b, "%s%s='", b->len ? " " : "", key);
	for (const char *p = val; *p; p++) {
		if (*p == '\'' || *p == '\\')
			buf_append_char(b, '\\');
		buf_append_char(b, *p);
	}
	buf_append_char(b, '\'');
}

char *testdb_create(void)
{
	static unsigned counter;
	const char *url = testdb_url();
	PQconninfoOption *opts = NULL;
	PGconn *admin = NULL;
	struct buf ci = BUF_INIT;
	char name[64];
	char *ident = NULL;
	char sql[256];

	if (!url) {
		printf("note: DATABASE_URL is unset; database test skipped\n");
		fflush(stdout);
		return NULL;
	}
	snprintf(name, sizeof(name), "cinema_t_%ld_%u", (long)getpid(), ++counter);

	/* Same server and credentials as DATABASE_URL, another database. */
	opts = PQconninfoParse(url, NULL);
	ck_assert_msg(opts != NULL, "testdb: DATABASE_URL is not a valid connection string");
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && o->val[0] && strcmp(o->keyword, "dbname") != 0)
			append_param(&ci, o->keyword, o->val);
	append_param(&ci, "dbname", name);
	PQconninfoFree(opts);

	admin = testdb_admin(url);
	ident = PQescapeIdentifier(admin, name, strlen(name));
	ck_assert_ptr_nonnull(ident);
	/* A leftover from a crashed run that had the same pid. */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
	testdb_run(admin, sql);
	/* template0 never has connections, so parallel creates cannot clash. */
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", ident);
	testdb_run(admin, sql);
	PQfreemem(ident);
	PQfinish(admin);
	return buf_steal(&ci, NULL);
}

void testdb_drop(const char *conninfo)
{
	const char *url = testdb_url();
	PQconninfoOption *opts;
	const char *name = NULL;
	PGconn *admin;
	char *ident;
	char sql[256];

	if (!conninfo || !url)
		return;
	opts = PQconninfoParse(conninfo, NULL);
	ck_assert_ptr_nonnull(opts);
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "dbname") == 0)
			name = o->val;
	ck_assert_msg(name && strncmp(name, "cinema_t_", 9) == 0,
		      "testdb: refusing to drop a database not made by testdb_create");
	admin = testdb_admin(url);
	ident = PQescapeIdentifier(admin, name, strlen(name));
	ck_assert_ptr_nonnull(ident);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", ident);
	PQfreemem(ident);
	PQconninfoFree(opts);
	testdb_run(admin, sql);
	PQfinish(admin);
}
