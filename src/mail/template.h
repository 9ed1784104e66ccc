/* Email templates: files a person can edit without touching C.
 *
 * For a kind K, dir holds K.subject.txt (one line), K.txt (plain text) and
 * K.html (optional). Placeholders are {{name}}; names come from a JSON
 * object of strings and numbers. In HTML every value is HTML-escaped. A
 * placeholder with no value is an error, so a typo never mails "{{tokn}}". */
#ifndef CINEMA_MAIL_TEMPLATE_H
#define CINEMA_MAIL_TEMPLATE_H

#include <jansson.h>

#include "cinema/buf.h"
#include "cinema/error.h"

enum template_escape { TEMPLATE_RAW, TEMPLATE_HTML };

/* Appends tmpl with placeholders replaced from vars (borrowed). ERR_OK, or
 * ERR_VALIDATION with the offending name in err (a missing variable, an
 * unterminated or empty placeholder). */
enum err template_render(const char *tmpl, const json_t *vars, enum template_escape esc,
			 struct buf *out, char *err, size_t errlen);

struct rendered_mail {
	char *subject; /* owned; trailing newline removed */
	char *text;    /* owned */
	char *html;    /* owned, NULL when the kind has no HTML template */
};

/* Loads and renders the three files of kind from dir. kind must match
 * [a-z_]+ (it becomes a file name). ERR_NOT_FOUND when the subject or text
 * file is missing. */
enum err template_render_mail(const char *dir, const char *kind, const json_t *vars,
			      struct rendered_mail *out, char *err, size_t errlen);
void rendered_mail_free(struct rendered_mail *m);

#endif
