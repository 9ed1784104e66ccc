/* The shared, read-only context handed to every handler: configuration and
 * the infrastructure handles. Built once in main before the server starts. */
#ifndef CINEMA_APP_H
#define CINEMA_APP_H

struct config;
struct db_pool;
struct kv;
struct movie_lists;
struct password_hasher;
struct s3_client;
struct web_files;

struct app {
	const struct config *cfg;
	struct db_pool *db;	 /* the primary: every write, and reads that must see them */
	struct db_pool *db_read; /* DATABASE_READ_URL (db_read in db.h); NULL: unset */
	struct kv *kv;
	struct password_hasher *hasher; /* bounded Argon2id (src/accounts/password.h) */
	struct s3_client *s3;		/* avatars (src/storage/s3.h) */
	struct movie_lists
		*movie_lists;	     /* cached public lists (src/catalog/list_cache.h); NULL: off */
	const struct web_files *web; /* the web app (src/web/static.h); NULL: WEB_DIR unset */
};

#endif
