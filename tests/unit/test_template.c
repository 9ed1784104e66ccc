/* Email templates (src/mail/template.h): placeholder rendering, escaping,
 * and loading the files of a kind from a directory. Needs nothing but a
 * temporary directory; the shipped templates are checked too when
 * TEMPLATES_DIR is set (CTest sets it). */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/template.h"

static struct buf out;
static char err[256];
static json_t *vars;
static char dir[64];

static void setup(void)
{
	buf_free(&out);
	err[0] = '\0';
	vars = json_pack("{s:s,s:s,s:I,s:I,s:f,s:s,s:s}", "name", "Bob", "token", "abc123", "count",
			 (json_int_t)42, "negative", (json_int_t)-7, "price", 12.5, "markup",
			 "<a href=\"x\">Tom & Jerry's</a>", "braces", "{{name}}");
	ck_assert_ptr_nonnull(vars);
	dir[0] = '\0';
}

static void teardown(void)
{
	buf_free(&out);
	json_decref(vars);
	vars = NULL;
	if (dir[0]) {
		static const char *const names[] = {
			"hello.subject.txt",  "hello.txt",	     "hello.html",
			"notext.subject.txt", "nosubj.txt",	     "bad.txt",
			"bad.subject.txt",    "badhtml.subject.txt", "badhtml.txt",
			"badhtml.html",	      "crlf.subject.txt",    "crlf.txt"};
		char path[256];
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			unlink(path);
		}
		rmdir(dir);
		dir[0] = '\0';
	}
}

static enum err render(const char *tmpl, enum template_escape esc)
{
	return template_render(tmpl, vars, esc, &out, err, sizeof(err));
}

/* out as a string ("" when nothing was ever appended). */
static const char *out_str(void)
{
	return out.data ? out.data : "";
}

/* --- template_render --- */

START_TEST(render_replaces_placeholders)
{
	ck_assert_int_eq(render("Hi {{name}}, your token is {{token}}.", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "Hi Bob, your token is abc123.");
}
END_TEST

START_TEST(render_without_placeholders_is_verbatim)
{
	ck_assert_int_eq(render("plain { text } with {single} braces }}", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "plain { text } with {single} braces }}");
}
END_TEST

START_TEST(render_empty_template)
{
	ck_assert_int_eq(render("", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "");
	ck_assert_uint_eq(out.len, 0);
}
END_TEST

START_TEST(render_allows_spaces_inside_braces)
{
	ck_assert_int_eq(render("[{{ name }}][{{name  }}][{{   token}}]", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "[Bob][Bob][abc123]");
}
END_TEST

START_TEST(render_same_placeholder_twice_and_adjacent)
{
	ck_assert_int_eq(render("{{name}}{{name}}-{{token}}", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "BobBob-abc123");
}
END_TEST

START_TEST(render_integers_and_reals)
{
	ck_assert_int_eq(render("{{count}} {{negative}} {{price}}", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "42 -7 12.50");
}
END_TEST

START_TEST(render_appends_to_existing_content)
{
	buf_append_str(&out, "prefix:");
	ck_assert_int_eq(render("{{name}}", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "prefix:Bob");
}
END_TEST

START_TEST(render_does_not_expand_values)
{
	/* A value that looks like a placeholder is data, not template. */
	ck_assert_int_eq(render("<{{braces}}>", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "<{{name}}>");
}
END_TEST

START_TEST(render_missing_variable_names_it)
{
	buf_append_str(&out, "keep");
	ck_assert_int_eq(render("Hello {{name}}, click {{tokn}} now", TEMPLATE_RAW),
			 ERR_VALIDATION);
	ck_assert_msg(strstr(err, "tokn") != NULL, "err: %s", err);
	/* Nothing of the failed render is left behind. */
	ck_assert_str_eq(out_str(), "keep");
	ck_assert_uint_eq(out.len, 4);
}
END_TEST

START_TEST(render_missing_variable_on_empty_buffer)
{
	ck_assert_int_eq(render("abc {{nope}}", TEMPLATE_RAW), ERR_VALIDATION);
	ck_assert_msg(strstr(err, "nope") != NULL, "err: %s", err);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_str_eq(out_str(), "");
}
END_TEST

START_TEST(render_non_scalar_values_are_missing)
{
	json_object_set_new(vars, "nothing", json_null());
	json_object_set_new(vars, "flag", json_true());
	json_object_set_new(vars, "obj", json_object());
	json_object_set_new(vars, "arr", json_array());
	static const char *const tmpls[] = {"{{nothing}}", "{{flag}}", "{{obj}}", "{{arr}}"};
	static const char *const names[] = {"nothing", "flag", "obj", "arr"};
	for (size_t i = 0; i < 4; i++) {
		err[0] = '\0';
		ck_assert_int_eq(render(tmpls[i], TEMPLATE_RAW), ERR_VALIDATION);
		ck_assert_msg(strstr(err, names[i]) != NULL, "%s: err %s", tmpls[i], err);
		ck_assert_uint_eq(out.len, 0);
	}
}
END_TEST

START_TEST(render_null_vars_means_no_values)
{
	ck_assert_int_eq(
		template_render("no placeholders", NULL, TEMPLATE_RAW, &out, err, sizeof(err)),
		ERR_OK);
	ck_assert_str_eq(out_str(), "no placeholders");
	buf_reset(&out);
	ck_assert_int_eq(template_render("{{name}}", NULL, TEMPLATE_RAW, &out, err, sizeof(err)),
			 ERR_VALIDATION);
	ck_assert_msg(strstr(err, "name") != NULL, "err: %s", err);
}
END_TEST

START_TEST(render_unterminated_placeholder)
{
	buf_append_str(&out, "x");
	ck_assert_int_eq(render("Hello {{name}} and {{token", TEMPLATE_RAW), ERR_VALIDATION);
	ck_assert_msg(strstr(err, "unterminated") != NULL, "err: %s", err);
	ck_assert_str_eq(out_str(), "x");
	buf_reset(&out);
	ck_assert_int_eq(render("{{", TEMPLATE_RAW), ERR_VALIDATION);
	buf_reset(&out);
	ck_assert_int_eq(render("{{name}", TEMPLATE_RAW), ERR_VALIDATION);
}
END_TEST

START_TEST(render_empty_or_overlong_placeholder)
{
	ck_assert_int_eq(render("a {{}} b", TEMPLATE_RAW), ERR_VALIDATION);
	ck_assert_int_eq(render("a {{   }} b", TEMPLATE_RAW), ERR_VALIDATION);
	char tmpl[128];
	snprintf(tmpl, sizeof(tmpl), "{{%065d}}", 0);
	ck_assert_int_eq(render(tmpl, TEMPLATE_RAW), ERR_VALIDATION);
	ck_assert_uint_eq(out.len, 0);
	/* 64 characters is the longest name; absent here, so "no value". */
	snprintf(tmpl, sizeof(tmpl), "{{%064d}}", 0);
	ck_assert_int_eq(render(tmpl, TEMPLATE_RAW), ERR_VALIDATION);
	ck_assert_msg(strstr(err, "0000000000") != NULL, "err: %s", err);
}
END_TEST

START_TEST(render_html_mode_escapes_values)
{
	ck_assert_int_eq(render("<p>{{markup}}</p>", TEMPLATE_HTML), ERR_OK);
	ck_assert_str_eq(out_str(),
			 "<p>&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;</p>");
}
END_TEST

START_TEST(render_raw_mode_does_not_escape)
{
	ck_assert_int_eq(render("<p>{{markup}}</p>", TEMPLATE_RAW), ERR_OK);
	ck_assert_str_eq(out_str(), "<p><a href=\"x\">Tom & Jerry's</a></p>");
}
END_TEST

START_TEST(render_html_mode_leaves_template_text_alone)
{
	ck_assert_int_eq(render("<a href=\"/x?a=1&b=2\">{{name}}</a> & 'q'", TEMPLATE_HTML),
			 ERR_OK);
	ck_assert_str_eq(out_str(), "<a href=\"/x?a=1&b=2\">Bob</a> & 'q'");
}
END_TEST

START_TEST(render_keeps_utf8_values)
{
	json_object_set_new(vars, "name", json_string("Zoë Ångström — 映画"));
	ck_assert_int_eq(render("{{name}}!", TEMPLATE_HTML), ERR_OK);
	ck_assert_str_eq(out_str(), "Zoë Ångström — 映画!");
}
END_TEST

/* --- template_render_mail --- */

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cinema-tmpl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void write_file(const char *name, const char *content)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_uint_eq(fwrite(content, 1, strlen(content), f), strlen(content));
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(mail_renders_all_three_files)
{
	struct rendered_mail m;
	make_dir();
	write_file("hello.subject.txt", "Hello {{name}}\nsecond line is ignored {{missing}}\n");
	write_file("hello.txt", "Dear {{name}},\n{{markup}}\n");
	write_file("hello.html", "<p>Dear {{ name }},</p><p>{{markup}}</p>\n");
	ck_assert_int_eq(template_render_mail(dir, "hello", vars, &m, err, sizeof(err)), ERR_OK);
	ck_assert_str_eq(m.subject, "Hello Bob");
	ck_assert_str_eq(m.text, "Dear Bob,\n<a href=\"x\">Tom & Jerry's</a>\n");
	ck_assert_ptr_nonnull(m.html);
	ck_assert_str_eq(m.html, "<p>Dear Bob,</p><p>&lt;a href=&quot;x&quot;&gt;Tom &amp; "
				 "Jerry&#39;s&lt;/a&gt;</p>\n");
	rendered_mail_free(&m);
	ck_assert_ptr_null(m.subject);
	ck_assert_ptr_null(m.text);
	ck_assert_ptr_null(m.html);
}
END_TEST

START_TEST(mail_subject_loses_crlf)
{
	struct rendered_mail m;
	make_dir();
	write_file("crlf.subject.txt", "Windows line {{name}}\r\n");
	write_file("crlf.txt", "body");
	ck_assert_int_eq(template_render_mail(dir, "crlf", vars, &m, err, sizeof(err)), ERR_OK);
	ck_assert_str_eq(m.subject, "Windows line Bob");
	ck_assert_str_eq(m.text, "body");
	ck_assert_ptr_null(m.html);
	rendered_mail_free(&m);
}
END_TEST

START_TEST(mail_without_html_is_text_only)
{
	struct rendered_mail m;
	make_dir();
	write_file("hello.subject.txt", "Hi");
	write_file("hello.txt", "{{token}}");
	ck_assert_int_eq(template_render_mail(dir, "hello", vars, &m, err, sizeof(err)), ERR_OK);
	ck_assert_str_eq(m.subject, "Hi");
	ck_assert_str_eq(m.text, "abc123");
	ck_assert_ptr_null(m.html);
	rendered_mail_free(&m);
}
END_TEST

START_TEST(mail_missing_text_is_not_found)
{
	struct rendered_mail m;
	make_dir();
	write_file("notext.subject.txt", "Hi");
	ck_assert_int_eq(template_render_mail(dir, "notext", vars, &m, err, sizeof(err)),
			 ERR_NOT_FOUND);
	ck_assert_msg(strstr(err, "notext") != NULL, "err: %s", err);
	ck_assert_ptr_null(m.subject);
	ck_assert_ptr_null(m.text);
	ck_assert_ptr_null(m.html);
}
END_TEST

START_TEST(mail_missing_subject_is_not_found)
{
	struct rendered_mail m;
	make_dir();
	write_file("nosubj.txt", "body");
	ck_assert_int_eq(template_render_mail(dir, "nosubj", vars, &m, err, sizeof(err)),
			 ERR_NOT_FOUND);
	ck_assert_ptr_null(m.text);
}
END_TEST

START_TEST(mail_unknown_kind_and_missing_dir_are_not_found)
{
	struct rendered_mail m;
	make_dir();
	ck_assert_int_eq(template_render_mail(dir, "nothing_here", vars, &m, err, sizeof(err)),
			 ERR_NOT_FOUND);
	ck_assert_int_eq(template_render_mail("/nonexistent/cinema/templates", "hello", vars, &m,
					      err, sizeof(err)),
			 ERR_NOT_FOUND);
}
END_TEST

START_TEST(mail_missing_variable_fails_and_frees)
{
	struct rendered_mail m;
	make_dir();
	write_file("bad.subject.txt", "ok {{name}}");
	write_file("bad.txt", "link {{tokn}}");
	ck_assert_int_eq(template_render_mail(dir, "bad", vars, &m, err, sizeof(err)),
			 ERR_VALIDATION);
	ck_assert_msg(strstr(err, "tokn") != NULL, "err: %s", err);
	ck_assert_ptr_null(m.subject);
	ck_assert_ptr_null(m.text);
	ck_assert_ptr_null(m.html);

	write_file("badhtml.subject.txt", "ok");
	write_file("badhtml.txt", "fine {{name}}");
	write_file("badhtml.html", "<p>{{nope}}</p>");
	ck_assert_int_eq(template_render_mail(dir, "badhtml", vars, &m, err, sizeof(err)),
			 ERR_VALIDATION);
	ck_assert_msg(strstr(err, "nope") != NULL, "err: %s", err);
	ck_assert_ptr_null(m.subject);
	ck_assert_ptr_null(m.text);
	ck_assert_ptr_null(m.html);
}
END_TEST

START_TEST(mail_refuses_kinds_that_are_not_names)
{
	static const char *const kinds[] = {"../hello", "..",	 "a/b",	   "/etc/passwd",
					    "hello/",	"",	 "Hello",  "hello.txt",
					    "hello ",	"hell0", "he-llo", "hello\n"};
	struct rendered_mail m;
	make_dir();
	write_file("hello.subject.txt", "Hi");
	write_file("hello.txt", "body");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(template_render_mail(dir, kinds[i], vars, &m, err, sizeof(err)) ==
				      ERR_VALIDATION,
			      "kind \"%s\" was accepted", kinds[i]);
		ck_assert_ptr_null(m.subject);
		ck_assert_ptr_null(m.text);
	}
	char longkind[80];
	memset(longkind, 'a', 65);
	longkind[65] = '\0';
	ck_assert_int_eq(template_render_mail(dir, longkind, vars, &m, err, sizeof(err)),
			 ERR_VALIDATION);
}
END_TEST

/* The shipped templates render with the variables templates/email/README.md
 * lists for each kind, and use no other. */
START_TEST(shipped_templates_render)
{
	const char *tdir = getenv("TEMPLATES_DIR");
	if (!tdir || !*tdir) {
		printf("note: TEMPLATES_DIR is unset; shipped templates not checked\n");
		return;
	}
	struct {
		const char *kind;
		const char *payload;
		bool html;
	} cases[] = {
		{"activation", "{\"token\":\"T0KEN\"}", true},
		{"password_reset", "{\"token\":\"T0KEN\"}", true},
		{"password_changed", "{}", true},
		{"payment_confirmation",
		 "{\"order_id\":17,\"total\":\"9.99\",\"items\":\"Movie A\\nMovie B\"}", true},
		{"payment_refund",
		 "{\"order_id\":17,\"amount\":\"9.99\",\"reason\":\"the order was canceled\"}",
		 true},
		{"comment_reply",
		 "{\"movie_id\":3,\"movie_name\":\"Heat\",\"reply_excerpt\":\"Agreed <b>\"}", true},
		{"comment_like",
		 "{\"movie_id\":3,\"movie_name\":\"Heat\",\"comment_excerpt\":\"Great\"}", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rendered_mail m;
		json_t *v = json_loads(cases[i].payload, 0, NULL);
		ck_assert_ptr_nonnull(v);
		json_object_set_new(v, "base_url", json_string("https://cinema.example"));
		json_object_set_new(v, "email", json_string("user@example.com"));
		enum err rc = template_render_mail(tdir, cases[i].kind, v, &m, err, sizeof(err));
		ck_assert_msg(rc == ERR_OK, "%s: %s", cases[i].kind, err);
		ck_assert_msg(m.subject[0] != '\0', "%s: empty subject", cases[i].kind);
		ck_assert_msg(strpbrk(m.subject, "\r\n") == NULL, "%s: subject has a line break",
			      cases[i].kind);
		ck_assert_msg(strstr(m.text, "{{") == NULL, "%s: %s", cases[i].kind, m.text);
		ck_assert_msg((m.html != NULL) == cases[i].html, "%s: html", cases[i].kind);
		if (strcmp(cases[i].kind, "activation") == 0)
			ck_assert_msg(strstr(m.text, "https://cinema.example/accounts/"
						     "activate?token=T0KEN") != NULL,
				      "activation text: %s", m.text);
		if (strcmp(cases[i].kind, "comment_reply") == 0)
			ck_assert_msg(strstr(m.html, "Agreed &lt;b&gt;") != NULL, "html: %s",
				      m.html);
		rendered_mail_free(&m);
		json_decref(v);
	}
}
END_TEST

static Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("render");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, render_replaces_placeholders);
	tcase_add_test(tc, render_without_placeholders_is_verbatim);
	tcase_add_test(tc, render_empty_template);
	tcase_add_test(tc, render_allows_spaces_inside_braces);
	tcase_add_test(tc, render_same_placeholder_twice_and_adjacent);
	tcase_add_test(tc, render_integers_and_reals);
	tcase_add_test(tc, render_appends_to_existing_content);
	tcase_add_test(tc, render_does_not_expand_values);
	tcase_add_test(tc, render_missing_variable_names_it);
	tcase_add_test(tc, render_missing_variable_on_empty_buffer);
	tcase_add_test(tc, render_non_scalar_values_are_missing);
	tcase_add_test(tc, render_null_vars_means_no_values);
	tcase_add_test(tc, render_unterminated_placeholder);
	tcase_add_test(tc, render_empty_or_overlong_placeholder);
	tcase_add_test(tc, render_html_mode_escapes_values);
	tcase_add_test(tc, render_raw_mode_does_not_escape);
	tcase_add_test(tc, render_html_mode_leaves_template_text_alone);
	tcase_add_test(tc, render_keeps_utf8_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_mail");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mail_renders_all_three_files);
	tcase_add_test(tc, mail_subject_loses_crlf);
	tcase_add_test(tc, mail_without_html_is_text_only);
	tcase_add_test(tc, mail_missing_text_is_not_found);
	tcase_add_test(tc, mail_missing_subject_is_not_found);
	tcase_add_test(tc, mail_unknown_kind_and_missing_dir_are_not_found);
	tcase_add_test(tc, mail_missing_variable_fails_and_frees);
	tcase_add_test(tc, mail_refuses_kinds_that_are_not_names);
	tcase_add_test(tc, shipped_templates_render);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(template_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
