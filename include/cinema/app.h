/* The shared, read-only context handed to every handler: configuration and
 * the infrastructure handles. Built once in main before the server starts. */
#ifndef CINEMA_APP_H
#define CINEMA_APP_H

struct cache;
struct config;
struct db_pool;
struct kv;
struct password_hasher;
struct s3_client;

struct app {
	const struct config *cfg;
	struct db_pool *db;
	struct kv *kv;
	struct password_hasher *hasher; /* bounded Argon2id (src/accounts/password.h) */
	struct s3_client *s3;		/* avatars (src/storage/s3.h) */
	struct cache *catalog_cache;	/* public movie lists; NULL when off */
};

#endif
