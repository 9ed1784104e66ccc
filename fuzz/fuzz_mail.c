/* Building messages (src/mail/mail.c): addresses, RFC 2047 words,
 * quoted-printable bodies. Input: from NUL to NUL subject NUL text NUL
 * html (html absent: text only). A built message never has a bare CR or LF
 * (every line ends CRLF) and no line longer than 998 bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lines(const struct buf *b)
{
	size_t line = 0;
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		if (c == '\r') {
			if (i + 1 >= b->len || b->data[i + 1] != '\n')
				abort();
			i++;
			line = 0;
		} else if (c == '\n') {
			abort();
		} else if (++line > 998) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_fields ff;
	fuzz_fields_split(&ff, data, size);
	struct mail_message m = {.from = ff.f[0],
				 .to = ff.f[1],
				 .subject = ff.f[2],
				 .text = ff.f[3],
				 .html = ff.n > 4 ? ff.f[4] : NULL};
	struct buf out = BUF_INIT;
	if (mail_build(&m, &out) == ERR_OK)
		check_lines(&out);
	else if (out.len != 0)
		abort();
	buf_free(&out);

	char addr[256];
	if (mail_address(ff.f[0], addr, sizeof(addr)) &&
	    (!strchr(addr, '@') || strpbrk(addr, "\r\n <>")))
		abort();
	(void)mail_address(ff.f[0], addr, 4);
	fuzz_fields_free(&ff);
	return 0;
}
