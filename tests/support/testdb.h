/* Throwaway PostgreSQL databases for integration tests.
 *
 * Each test that needs a database creates its own, so tests are independent
 * and can run in parallel:
 *
 *	char *ci = testdb_create();
 *	if (!ci)
 *		return; // DATABASE_URL unset: skipped, a note was printed
 *	... use ci as a conninfo ...
 *	testdb_drop(ci);
 *	free(ci);
 *
 * Call these inside the test body (check forks each test). Not thread-safe:
 * call them from the test's main thread. */
#ifndef CINEMA_TESTDB_H
#define CINEMA_TESTDB_H

/* Creates an empty database cinema_t_<pid>_<n> on the server of
 * DATABASE_URL and returns an owned conninfo for it (free it with free()).
 * Returns NULL, after printing a skip note, when DATABASE_URL is unset or
 * empty. Fails the current check test if the server cannot be reached or
 * the database cannot be created. */
char *testdb_create(void);

/* Drops the database named by conninfo (from testdb_create), terminating
 * any connection still open to it. Accepts NULL. */
void testdb_drop(const char *conninfo);

/* Returns DATABASE_URL, or NULL when unset or empty (borrowed). */
const char *testdb_url(void);

#endif
