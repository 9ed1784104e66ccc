/* Sealed email payloads (include/cinema/jobs.h, src/jobs/email_jobs.h).
 *
 * Why: an activation or reset token in email_jobs.payload is as good as the
 * account to anyone who can read that table (a backup, a read replica, a
 * support login) until the scheduler sends the email and erases it. So the
 * producer encrypts it and only the scheduler, just before rendering,
 * decrypts it.
 *
 * How: XChaCha20-Poly1305 (libsodium's IETF AEAD) with a random 192-bit
 * nonce per payload, so no nonce bookkeeping across processes. The
 * associated data is the job's kind and recipient: a ciphertext copied into
 * a row with another recipient (someone who can write the table redirecting
 * a victim's reset email to themselves) does not open.
 *
 * The key: its own setting, EMAIL_PAYLOAD_KEY, rather than a subkey derived
 * from JWT_SECRET. The scheduler needs this key but has no business holding
 * the key that signs access tokens; and rotating JWT_SECRET (which signs
 * every session out) should not make the emails in the queue unreadable.
 * Like JWT_SECRET it is any string of at least 32 bytes (e.g. `openssl rand
 * -base64 48`); the 256-bit key is its BLAKE2b hash under a label naming
 * this use, so the same text used elsewhere by mistake still gives another
 * key. Production refuses to start without it; development has a default,
 * with a warning at start.
 *
 * Format: payload member "sealed" = "v1." + base64url(nonce || ciphertext),
 * the plaintext being the compact JSON object of the secret variables. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cinema/jobs.h"
#include "cinema/mem.h"
#include "jobs/email_jobs.h"

#define SEAL_PREFIX    "v1."
#define SEAL_LABEL     "cinema email_jobs payload v1" /* BLAKE2b key: 16..64 bytes */
#define SEAL_B64       sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define NONCE_BYTES    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES      crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_MAX_PLAIN 4096 /* secrets are a token or two */

static void derive_key(const char *secret,
		       unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
	crypto_generichash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
			   (const unsigned char *)secret, strlen(secret),
			   (const unsigned char *)SEAL_LABEL, sizeof(SEAL_LABEL) - 1);
}

/* kind NUL recipient, the associated data (owned). */
static unsigned char *make_ad(const char *kind, const char *recipient, size_t *len)
{
	size_t k = strlen(kind), r = strlen(recipient);
	unsigned char *ad = xmalloc(k + 1 + r);
	memcpy(ad, kind, k);
	ad[k] = 0;
	memcpy(ad + k + 1, recipient, r);
	*len = k + 1 + r;
	return ad;
}

enum err email_payload_seal(json_t *payload, const json_t *secrets, const char *key_secret,
			    const char *kind, const char *recipient)
{
	unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	size_t adlen;
	char *plain = json_dumps(secrets, JSON_COMPACT);
	if (!plain || !json_is_object(secrets)) {
		free(plain);
		return ERR_INTERNAL;
	}
	size_t plen = strlen(plain);
	size_t blen = NONCE_BYTES + plen + TAG_BYTES;
	unsigned char *box = xmalloc(blen);
	unsigned char *ad = make_ad(kind, recipient, &adlen);
	size_t tlen = sizeof(SEAL_PREFIX) - 1 + sodium_base64_ENCODED_LEN(blen, SEAL_B64);
	char *text = xmalloc(tlen);

	derive_key(key_secret, key);
	randombytes_buf(box, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box + NONCE_BYTES, NULL,
						   (const unsigned char *)plain, plen, ad, adlen,
						   NULL, box, key);
	memcpy(text, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
	sodium_bin2base64(text + sizeof(SEAL_PREFIX) - 1, tlen - (sizeof(SEAL_PREFIX) - 1), box,
			  blen, SEAL_B64);
	json_object_set_new(payload, EMAIL_SEALED, json_string(text));

	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, plen);
	free(plain);
	free(box);
	free(ad);
	free(text);
	return ERR_OK;
}

enum err email_payload_open(json_t *payload, const char *key_secret, const char *kind,
			    const char *recipient)
{
	unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char *box = NULL, *plain = NULL, *ad = NULL;
	json_t *secrets = NULL;
	size_t blen = 0, adlen, plen = 0;
	enum err rc = ERR_VALIDATION;

	json_t *sealed = json_object_get(payload, EMAIL_SEALED);
	if (!sealed)
		return ERR_OK; /* nothing secret in it (or recorded before sealing) */
	const char *text = json_string_value(sealed);
	size_t tlen = text ? strlen(text) : 0;
	if (!text || strncmp(text, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0 ||
	    tlen > 2 * SEAL_MAX_PLAIN)
		return ERR_VALIDATION;
	box = xmalloc(tlen);
	if (sodium_base642bin(box, tlen, text + sizeof(SEAL_PREFIX) - 1,
			      tlen - (sizeof(SEAL_PREFIX) - 1), NULL, &blen, NULL, SEAL_B64) != 0 ||
	    blen < NONCE_BYTES + TAG_BYTES)
		goto out;
	plain = xmalloc(blen + 1);
	ad = make_ad(kind, recipient, &adlen);
	derive_key(key_secret, key);
	unsigned long long n = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &n, NULL, box + NONCE_BYTES,
						       blen - NONCE_BYTES, ad, adlen, box,
						       key) != 0)
		goto out;
	plen = (size_t)n;
	secrets = json_loadb((const char *)plain, plen, 0, NULL);
	if (!json_is_object(secrets))
		goto out;
	json_object_del(payload, EMAIL_SEALED);
	json_object_update(payload, secrets);
	rc = ERR_OK;
out:
	sodium_memzero(key, sizeof(key));
	if (plain)
		sodium_memzero(plain, plen);
	json_decref(secrets);
	free(plain);
	free(box);
	free(ad);
	return rc;
}
