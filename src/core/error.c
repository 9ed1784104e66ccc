#include "cinema/error.h"

#include <string.h>

struct err_info {
	unsigned status;
	const char *code;
	const char *detail;
};

/* The single table from error to HTTP. Codes are part of the API contract:
 * never rename one, add a new one. */
static const struct err_info err_table[ERR__COUNT] = {
	[ERR_OK] = {200, "ok", "OK."},
	[ERR_BAD_REQUEST] = {400, "bad_request", "The request is malformed."},
	[ERR_INVALID_JSON] = {400, "invalid_json", "The request body is not valid JSON."},
	[ERR_BAD_QUERY] = {400, "invalid_query", "A query parameter is malformed."},
	[ERR_UNAUTHORIZED] = {401, "not_authenticated",
			      "Sign in to do this; if you have no account yet, sign up first."},
	[ERR_FORBIDDEN] = {403, "forbidden", "You are not allowed to do this."},
	[ERR_NOT_FOUND] = {404, "not_found", "The resource was not found."},
	[ERR_ROUTE_NOT_FOUND] = {404, "route_not_found", "No such endpoint."},
	[ERR_METHOD_NOT_ALLOWED] = {405, "method_not_allowed",
				    "This method is not allowed on this endpoint."},
	[ERR_CONFLICT] = {409, "conflict", "The request conflicts with the current state."},
	[ERR_IN_USE] = {409, "in_use", "The resource is still referenced."},
	[ERR_PAYLOAD_TOO_LARGE] = {413, "payload_too_large", "The request body is too large."},
	[ERR_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type",
					"The request body must be application/json."},
	[ERR_VALIDATION] = {422, "validation_failed", "The request has invalid fields."},
	[ERR_RATE_LIMITED] = {429, "rate_limited", "Too many requests; try again later."},
	[ERR_EMAIL_TAKEN] = {409, "email_taken", "An account with this email already exists."},
	[ERR_TOKEN_INVALID] = {400, "token_invalid", "The token is invalid or was already used."},
	[ERR_TOKEN_EXPIRED] = {400, "token_expired", "The token has expired; ask for a new one."},
	[ERR_INVALID_CREDENTIALS] = {401, "invalid_credentials", "The email or password is wrong."},
	[ERR_ACCOUNT_INACTIVE] = {403, "account_inactive",
				  "The account is not activated; check your email for the link."},
	[ERR_ACCOUNT_DISABLED] = {403, "account_disabled",
				  "The account has been deactivated by an administrator."},
	[ERR_WRONG_PASSWORD] = {400, "wrong_password", "The current password is wrong."},
	[ERR_REFRESH_INVALID] = {401, "refresh_token_invalid", "The refresh token is invalid."},
	[ERR_REFRESH_EXPIRED] = {401, "refresh_token_expired",
				 "The refresh token has expired; sign in again."},
	[ERR_REFRESH_REUSED] = {401, "refresh_token_reused",
				"The refresh token was already used; the session has been ended "
				"for safety. Sign in again."},
	[ERR_SESSION_REVOKED] = {401, "session_ended", "The session has ended; sign in again."},
	[ERR_SELF_MODIFICATION] = {409, "self_modification",
				   "Administrators cannot change their own group or status."},
	[ERR_ORIGIN_FORBIDDEN] = {403, "origin_forbidden",
				  "This request must come from the app's own origin."},
	[ERR_MOVIE_EXISTS] = {409, "movie_exists",
			      "A movie with this name, year and running time already exists."},
	[ERR_MOVIE_PURCHASED] = {409, "movie_purchased",
				 "This movie has been bought or ordered and cannot be deleted."},
	[ERR_MOVIE_IN_CARTS] =
		{409, "movie_in_carts",
		 "This movie is in users' carts; delete with force=true to remove it "
		 "from them too."},
	[ERR_NAME_TAKEN] = {409, "name_taken", "This name is already taken."},
	[ERR_ALREADY_IN_CART] = {409, "already_in_cart", "This movie is already in your cart."},
	[ERR_ALREADY_PURCHASED] = {409, "already_purchased",
				   "You have already bought this movie; repeat purchases are not "
				   "allowed."},
	[ERR_CART_EMPTY] = {409, "cart_empty",
			    "The cart is empty, or nothing in it can be ordered."},
	[ERR_ORDER_PAID] = {409, "order_paid",
			    "The order is already paid; ask for a refund instead."},
	[ERR_ORDER_CANCELED] = {409, "order_canceled", "The order is canceled."},
	[ERR_ORDER_NOT_PAID] = {409, "order_not_paid", "Only a paid order can be refunded."},
	[ERR_PRICE_CHANGED] = {409, "price_changed",
			       "Prices changed since the order was placed; the order now has the "
			       "current prices. Check it and start the checkout again."},
	[ERR_PAYMENT_IN_PROGRESS] =
		{409, "payment_in_progress",
		 "The payment of this order is still being processed; try again "
		 "once it has succeeded or failed."},
	[ERR_PAYMENT_PROVIDER_ERROR] = {502, "payment_provider_error",
					"The payment provider refused the request; try again "
					"later."},
	[ERR_PAYMENT_PROVIDER_UNAVAILABLE] = {503, "payment_provider_unavailable",
					      "The payment provider cannot be reached; try again "
					      "later."},
	[ERR_PAYMENTS_NOT_CONFIGURED] = {503, "payments_not_configured",
					 "Payments are not configured on this server."},
	[ERR_WEBHOOK_SIGNATURE_INVALID] = {400, "webhook_signature_invalid",
					   "The Stripe-Signature header is missing, malformed or "
					   "does not match the body."},
	[ERR_WEBHOOK_TIMESTAMP_STALE] = {400, "webhook_timestamp_stale",
					 "The webhook timestamp is more than five minutes off."},
	[ERR_WEBHOOK_MISMATCH] = {400, "webhook_mismatch",
				  "The event does not match a pending order."},
	[ERR_UPLOAD_INCOMPLETE] = {409, "upload_incomplete",
				   "The upload is not complete in storage: upload the missing "
				   "parts and try again."},
	[ERR_UPLOAD_EXPIRED] = {409, "upload_expired", "This upload has expired; start a new one."},
	[ERR_FEATURE_PURCHASED] = {409, "feature_purchased",
				   "Somebody owns this movie, so its feature can only be replaced, "
				   "not removed."},
	[ERR_MEDIA_MISMATCH] = {422, "media_mismatch",
				"The uploaded file is not what was declared (its size, type or "
				"first bytes)."},
	[ERR_NOT_PURCHASED] = {403, "not_purchased",
			       "You do not own this movie: buy it to watch it."},
	[ERR_FEATURE_NOT_FOUND] = {404, "feature_not_found",
				   "This movie has no feature to watch yet."},
	[ERR_INTERNAL] = {500, "internal_error", "An internal error occurred."},
	[ERR_STORAGE_UNAVAILABLE] = {503, "storage_unavailable",
				     "File storage is unavailable; try again later."},
	[ERR_DB_UNAVAILABLE] = {503, "database_unavailable", "The database is unavailable."},
	[ERR_DB_BUSY] = {503, "database_busy", "The service is busy; try again shortly."},
	[ERR_REDIS_UNAVAILABLE] = {503, "redis_unavailable", "Redis is unavailable."},
	[ERR_SHUTTING_DOWN] = {503, "shutting_down", "The server is shutting down."},
	[ERR_OVERLOADED] = {503, "overloaded", "The server is busy; try again shortly."},
};

static const struct err_info *err_info(enum err e)
{
	if ((unsigned)e >= ERR__COUNT || !err_table[e].code)
		return &err_table[ERR_INTERNAL];
	return &err_table[e];
}

unsigned err_http_status(enum err e)
{
	return err_info(e)->status;
}

const char *err_code(enum err e)
{
	return err_info(e)->code;
}

const char *err_detail(enum err e)
{
	return err_info(e)->detail;
}

enum err err_from_sqlstate(const char *s)
{
	if (!s || strlen(s) != 5)
		return ERR_DB_UNAVAILABLE; /* no SQLSTATE: the connection failed */
	if (strcmp(s, "23505") == 0 || strcmp(s, "23P01") == 0)
		return ERR_CONFLICT; /* unique / exclusion violation */
	if (strcmp(s, "23503") == 0)
		return ERR_IN_USE; /* foreign key violation */
	if (strncmp(s, "23", 2) == 0 || strncmp(s, "22", 2) == 0)
		return ERR_VALIDATION; /* other integrity or data errors */
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0 ||
	    strcmp(s, "57014") == 0)
		return ERR_DB_BUSY; /* serialization, deadlock, lock or statement timeout */
	if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
	    strcmp(s, "57P03") == 0 || strncmp(s, "53", 2) == 0)
		return ERR_DB_UNAVAILABLE; /* connection, shutdown, resources */
	return ERR_INTERNAL;
}
