/* Stripe-Signature header verification (src/commerce/stripe.c).
 * Input: header NUL payload. A header whose v1 is the right signature for
 * its t must be accepted, so the harness also checks the parser finds it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/stripe.h"
#include "fuzz.h"

#define SECRET "whsec_fuzz"
#define NOW    1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	fuzz_fields_split(&ff, data, size);
	const char *header = ff.f[0], *payload = ff.f[1];
	size_t len = strlen(payload);
	(void)stripe_signature_verify(header, payload, len, SECRET, NOW,
				      STRIPE_WEBHOOK_TOLERANCE_S);
	(void)stripe_signature_verify(header, payload, len, "", NOW, STRIPE_WEBHOOK_TOLERANCE_S);

	/* The same header with a good signature appended must verify. */
	long long t = NOW - (long long)(len % 600);
	char sig[65], good[128];
	stripe_signature_compute(SECRET, t, payload, len, sig);
	snprintf(good, sizeof(good), "t=%lld,v1=%s", t, sig);
	enum err rc = stripe_signature_verify(good, payload, len, SECRET, NOW,
					      STRIPE_WEBHOOK_TOLERANCE_S);
	if ((rc == ERR_OK) != (NOW - t <= STRIPE_WEBHOOK_TOLERANCE_S))
		abort();
	fuzz_fields_free(&ff);
	return 0;
}
