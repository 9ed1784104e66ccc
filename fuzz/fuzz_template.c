/* Email template rendering (src/mail/template.c). Input: the template text;
 * it is rendered raw and HTML-escaped against fixed variables. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *vars;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!vars)
		vars = json_pack("{s:s,s:s,s:i,s:f,s:s}", "name", "Ana <b>&\"'", "link",
				 "https://example.test/activate?token=a&b=c", "count", 3, "ratio",
				 7.5, "empty", "");
	char *tmpl = fuzz_strndup(data, size);
	char err[128];
	for (int esc = TEMPLATE_RAW; esc <= TEMPLATE_HTML; esc++) {
		struct buf out = BUF_INIT;
		err[0] = '\0';
		enum err rc = template_render(tmpl, vars, (enum template_escape)esc, &out, err,
					      sizeof(err));
		if (rc != ERR_OK && rc != ERR_VALIDATION)
			abort();
		if (!memchr(err, '\0', sizeof(err)))
			abort();
		buf_free(&out);
	}
	free(tmpl);
	return 0;
}
