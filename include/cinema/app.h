/* The shared, read-only context handed to every handler: configuration and
 * the infrastructure handles. Built once in main before the server starts. */
#ifndef CINEMA_APP_H
#define CINEMA_APP_H

struct config;
struct db_pool;
struct kv;

struct app {
	const struct config *cfg;
	struct db_pool *db;
	struct kv *kv;
};

#endif
