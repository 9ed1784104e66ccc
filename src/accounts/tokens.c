#include "accounts/tokens.h"

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/log.h"

/* A leeway for clocks of several API hosts that disagree a little. */
#define CLOCK_SKEW_S 30
/* Longest JOSE header we read, base64url: ours is 36 characters. */
#define HEADER_MAX 256

void token_new(char raw[TOKEN_RAW_LEN + 1], char hash[TOKEN_HASH_LEN + 1])
{
	unsigned char rnd[32];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(raw, TOKEN_RAW_LEN + 1, rnd, sizeof(rnd),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	token_hash(raw, hash);
	sodium_memzero(rnd, sizeof(rnd));
}

bool token_hash(const char *raw, char hash[TOKEN_HASH_LEN + 1])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	size_t n = strlen(raw);
	if (n != TOKEN_RAW_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = raw[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	crypto_hash_sha256(digest, (const unsigned char *)raw, n);
	sodium_bin2hex(hash, TOKEN_HASH_LEN + 1, digest, sizeof(digest));
	return true;
}

static const char *const group_names[] = {
	[ACCESS_USER] = "USER", [ACCESS_MODERATOR] = "MODERATOR", [ACCESS_ADMIN] = "ADMIN"};

const char *group_name(enum http_access group)
{
	return group >= ACCESS_USER && group <= ACCESS_ADMIN ? group_names[group] : "USER";
}

bool group_parse(const char *name, enum http_access *out)
{
	for (int g = ACCESS_USER; g <= ACCESS_ADMIN; g++) {
		if (name && strcmp(name, group_names[g]) == 0) {
			*out = (enum http_access)g;
			return true;
		}
	}
	return false;
}

char *jwt_access_issue(const char *secret, long long user_id, enum http_access group,
		       const char *session_id, int ttl_s, time_t now)
{
	jwt_t *jwt = NULL;
	char *out = NULL, sub[24], jti[33];
	unsigned char rnd[16];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(jti, sizeof(jti), rnd, sizeof(rnd));
	snprintf(sub, sizeof(sub), "%lld", user_id);
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_add_grant(jwt, "sub", sub) || jwt_add_grant(jwt, "grp", group_name(group)) ||
	    jwt_add_grant(jwt, "sid", session_id) || jwt_add_grant(jwt, "jti", jti) ||
	    jwt_add_grant(jwt, "typ", "access") || jwt_add_grant_int(jwt, "iat", (long)now) ||
	    jwt_add_grant_int(jwt, "exp", (long)(now + ttl_s)) ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)))
		goto out;
	out = jwt_encode_str(jwt);
out:
	jwt_free(jwt);
	return out;
}

/* Whether the token's JOSE header says exactly "alg":"HS256". libjwt 1.10
 * compares the name case-insensitively, but "alg" is case-sensitive (RFC
 * 7515, 4.1.1): "hs256" names no algorithm. A header with a key twice is
 * refused too, so that no reader can see another alg than this one. */
static bool header_alg_is_hs256(const char *token)
{
	const char *dot = strchr(token, '.');
	unsigned char bin[HEADER_MAX];
	size_t len;
	bool ok = false;
	if (!dot || dot == token || (size_t)(dot - token) > HEADER_MAX)
		return false;
	if (sodium_base642bin(bin, sizeof(bin), token, (size_t)(dot - token), NULL, &len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	json_t *header = json_loadb((const char *)bin, len, JSON_REJECT_DUPLICATES, NULL);
	const char *alg = json_string_value(json_object_get(header, "alg"));
	ok = alg && strcmp(alg, "HS256") == 0;
	json_decref(header);
	return ok;
}

enum err jwt_access_verify(const char *secret, const char *token, time_t now,
			   struct access_claims *out)
{
	jwt_t *jwt = NULL;
	enum err rc = ERR_UNAUTHORIZED;
	memset(out, 0, sizeof(out[0]));
	if (strlen(token) > 2048 || !header_alg_is_hs256(token))
		return ERR_UNAUTHORIZED;
	/* Always with the key: libjwt 1.10 accepts unsigned tokens without one. */
	if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0)
		goto out;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	const char *typ = jwt_get_grant(jwt, "typ");
	const char *sub = jwt_get_grant(jwt, "sub");
	const char *sid = jwt_get_grant(jwt, "sid");
	const char *grp = jwt_get_grant(jwt, "grp");
	long exp = jwt_get_grant_int(jwt, "exp");
	long iat = jwt_get_grant_int(jwt, "iat");
	if (!typ || strcmp(typ, "access") != 0 || !sub || !sid || strlen(sid) != 36 || !grp)
		goto out;
	if (exp <= 0 || iat <= 0 || exp <= now || iat > now + CLOCK_SKEW_S || exp <= iat)
		goto out;
	char *end;
	long long uid = strtoll(sub, &end, 10);
	if (*end || uid <= 0 || !group_parse(grp, &out->group))
		goto out;
	out->user_id = uid;
	memcpy(out->session_id, sid, 37);
	out->expires_at = exp;
	rc = ERR_OK;
out:
	jwt_free(jwt);
	return rc;
}

char *jwt_docs_issue(const char *secret, long long user_id, const char *session_id, int ttl_s,
		     time_t now)
{
	jwt_t *jwt = NULL;
	char *out = NULL, sub[24];
	snprintf(sub, sizeof(sub), "%lld", user_id);
	if (jwt_new(&jwt) != 0)
		return NULL;
	if (!jwt_add_grant(jwt, "sub", sub) && !jwt_add_grant(jwt, "typ", "docs") &&
	    !jwt_add_grant(jwt, "sid", session_id) && !jwt_add_grant_int(jwt, "iat", (long)now) &&
	    !jwt_add_grant_int(jwt, "exp", (long)(now + ttl_s)) &&
	    !jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)))
		out = jwt_encode_str(jwt);
	jwt_free(jwt);
	return out;
}

enum err jwt_docs_verify(const char *secret, const char *token, time_t now, long long *user_id,
			 char session_id[40])
{
	jwt_t *jwt = NULL;
	enum err rc = ERR_UNAUTHORIZED;
	if (strlen(token) > 2048 || !header_alg_is_hs256(token) ||
	    jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0)
		goto out;
	const char *typ = jwt_get_grant(jwt, "typ");
	const char *sub = jwt_get_grant(jwt, "sub");
	const char *sid = jwt_get_grant(jwt, "sid");
	long exp = jwt_get_grant_int(jwt, "exp");
	if (jwt_get_alg(jwt) != JWT_ALG_HS256 || !typ || strcmp(typ, "docs") != 0 || !sub || !sid ||
	    strlen(sid) != 36 || exp <= now)
		goto out;
	char *end;
	long long uid = strtoll(sub, &end, 10);
	if (*end || uid <= 0)
		goto out;
	*user_id = uid;
	memcpy(session_id, sid, 37);
	rc = ERR_OK;
out:
	jwt_free(jwt);
	return rc;
}
