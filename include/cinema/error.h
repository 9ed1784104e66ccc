/* The one closed set of errors used across the code, and their mapping to
 * HTTP: status, stable snake_case code, default sentence. Add a value here
 * (and its row in error.c) when a domain needs a new distinct outcome. */
#ifndef CINEMA_ERROR_H
#define CINEMA_ERROR_H

enum err {
	ERR_OK = 0,
	/* 400 */
	ERR_BAD_REQUEST,
	ERR_INVALID_JSON,
	ERR_BAD_QUERY,
	/* 401, 403 */
	ERR_UNAUTHORIZED,
	ERR_FORBIDDEN,
	/* 404, 405 */
	ERR_NOT_FOUND,
	ERR_ROUTE_NOT_FOUND,
	ERR_METHOD_NOT_ALLOWED,
	/* 409 */
	ERR_CONFLICT,
	ERR_IN_USE,
	/* 413, 415, 422, 429 */
	ERR_PAYLOAD_TOO_LARGE,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_VALIDATION,
	ERR_RATE_LIMITED,
	/* accounts */
	ERR_EMAIL_TAKEN,	 /* 409 */
	ERR_TOKEN_INVALID,	 /* 400: activation or reset token unknown or used */
	ERR_TOKEN_EXPIRED,	 /* 400 */
	ERR_INVALID_CREDENTIALS, /* 401 */
	ERR_ACCOUNT_INACTIVE,	 /* 403: never activated */
	ERR_ACCOUNT_DISABLED,	 /* 403: deactivated by an admin */
	ERR_WRONG_PASSWORD,	 /* 400 */
	ERR_REFRESH_INVALID,	 /* 401 */
	ERR_REFRESH_EXPIRED,	 /* 401 */
	ERR_REFRESH_REUSED,	 /* 401: the whole session is ended */
	ERR_SESSION_REVOKED,	 /* 401: the access token's session has ended */
	ERR_SELF_MODIFICATION,	 /* 409: an admin changing their own group or status */
	ERR_ORIGIN_FORBIDDEN,	 /* 403: a cookie-mode sign-in request from another origin */
	/* catalog */
	ERR_MOVIE_EXISTS,    /* 409: same (name, year, time) */
	ERR_MOVIE_PURCHASED, /* 409: someone bought or ordered it */
	ERR_MOVIE_IN_CARTS,  /* 409: in carts; ?force=true removes it from them */
	ERR_NAME_TAKEN,	     /* 409: a genre, star, director or certification name */
	/* commerce */
	ERR_ALREADY_IN_CART,		  /* 409 */
	ERR_ALREADY_PURCHASED,		  /* 409: repeat purchases are not allowed */
	ERR_CART_EMPTY,			  /* 409: nothing in the cart can be ordered */
	ERR_ORDER_PAID,			  /* 409: ask for a refund instead */
	ERR_ORDER_CANCELED,		  /* 409 */
	ERR_ORDER_NOT_PAID,		  /* 409: only a paid order can be refunded */
	ERR_PRICE_CHANGED,		  /* 409: the order now has the current prices */
	ERR_PAYMENT_IN_PROGRESS,	  /* 409: Stripe is still collecting a delayed payment */
	ERR_PAYMENT_PROVIDER_ERROR,	  /* 502: Stripe answered with an error */
	ERR_PAYMENT_PROVIDER_UNAVAILABLE, /* 503: Stripe unreachable or too slow */
	ERR_PAYMENTS_NOT_CONFIGURED,	  /* 503: no STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET */
	ERR_WEBHOOK_SIGNATURE_INVALID,	  /* 400 */
	ERR_WEBHOOK_TIMESTAMP_STALE,	  /* 400: more than 5 minutes off */
	ERR_WEBHOOK_MISMATCH,		  /* 400: unknown order, wrong amount or currency */
	/* media (docs/MEDIA.md) */
	ERR_UPLOAD_INCOMPLETE, /* 409: the object or a part is not in S3 yet */
	ERR_UPLOAD_EXPIRED,    /* 409: the upload's URLs have expired */
	ERR_FEATURE_PURCHASED, /* 409: an owned movie's feature can only be replaced */
	ERR_MEDIA_MISMATCH,    /* 422: the object is not what was declared */
	ERR_NOT_PURCHASED,     /* 403: play/progress without owning the movie */
	ERR_FEATURE_NOT_FOUND, /* 404: the movie has no feature yet */
	/* 500, 502, 503 */
	ERR_INTERNAL,
	ERR_STORAGE_UNAVAILABLE,
	ERR_DB_UNAVAILABLE,
	ERR_DB_BUSY,
	ERR_REDIS_UNAVAILABLE,
	ERR_SHUTTING_DOWN,
	ERR_OVERLOADED, /* 503: no worker free in time; Retry-After */
	ERR__COUNT
};

/* HTTP status for e (500 for an unknown value). */
unsigned err_http_status(enum err e);
/* Stable machine-readable code, e.g. "not_found". Never NULL. */
const char *err_code(enum err e);
/* Default human-readable sentence. Never NULL. */
const char *err_detail(enum err e);
/* Maps a PostgreSQL SQLSTATE (five characters, may be NULL) to an error:
 * 23505 unique violation -> ERR_CONFLICT, 23503 -> ERR_IN_USE, connection
 * classes -> ERR_DB_UNAVAILABLE, and so on. */
enum err err_from_sqlstate(const char *sqlstate);

#endif
