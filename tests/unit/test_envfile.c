/* The settings file scripts/run.sh writes (.data/env): its syntax, its
 * errors (file and line named), the environment winning over it, and the
 * redaction of passwords in the URLs --help and create-user print. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinema/buf.h"
#include "cinema/config.h"
#include "cinema/envfile.h"

static char err[256];

/* Collects assignments as "NAME=value\n" lines. */
static bool collect(const char *name, const char *value, void *ctx)
{
	buf_printf(ctx, "%s=%s\n", name, value);
	return true;
}

/* Parses text; returns the collected lines (static) or NULL with err set. */
static const char *parse(const char *text)
{
	static char out[1024];
	struct buf b = BUF_INIT;
	bool ok = envfile_parse(text, strlen(text), "env", collect, &b, err, sizeof(err));
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_free(&b);
	return ok ? out : NULL;
}

START_TEST(bare_quoted_comments_and_export)
{
	ck_assert_str_eq(parse("# written by run.sh\n"
			       "\n"
			       "A=1\n"
			       "  export B=two words  # a comment\n"
			       "C='x#y \"z\" $HOME'\n"
			       "D=\"a\\\"b\\\\c\\$d\" # trailing\n"
			       "E=\n"
			       "F=''\n"
			       "G=url#frag\r\n"
			       "H=last"),
			 "A=1\nB=two words\nC=x#y \"z\" $HOME\nD=a\"b\\c$d\nE=\nF=\n"
			 "G=url#frag\nH=last\n");
}
END_TEST

START_TEST(bad_lines_name_file_and_line)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"A=1\nnot an assignment\n", "env:2: expected NAME=value"},
		{"A = 1\n", "env:1: expected NAME=value"},
		{"1A=1\n", "env:1: expected NAME=value"},
		{"=1\n", "env:1: expected NAME=value"},
		{"A=1\n\nB='open\n", "env:3: unterminated quote"},
		{"B=\"open\\\"\n", "env:1: unterminated quote"},
		{"B='x' y\n", "env:1: unexpected text after the closing quote"},
		{"B=x'y'\n", "env:1: quote inside a bare value (quote the whole value)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(parse(cases[i].text) == NULL, "accepted: %s", cases[i].text);
		ck_assert_str_eq(err, cases[i].err);
	}
	ck_assert(!envfile_parse("A=1\0B=2", 7, "env", collect, &(struct buf)BUF_INIT, err,
				 sizeof(err)));
	ck_assert_str_eq(err, "env: contains a NUL byte");
}
END_TEST

START_TEST(load_fills_only_what_the_environment_leaves_unset)
{
	char dir[] = "/tmp/envfile-test.XXXXXX";
	char path[128];
	const char *used = NULL;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/env", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ENVFILE_T_SET='from file'\nENVFILE_T_UNSET=from file\n", f);
	fclose(f);

	setenv("ENVFILE_T_SET", "from environment", 1);
	unsetenv("ENVFILE_T_UNSET");
	setenv("CINEMA_ENV_FILE", path, 1);
	ck_assert_msg(envfile_load(&used, err, sizeof(err)), "%s", err);
	ck_assert_str_eq(used, path);
	ck_assert_str_eq(getenv("ENVFILE_T_SET"), "from environment");
	ck_assert_str_eq(getenv("ENVFILE_T_UNSET"), "from file");

	/* Empty: no file at all, not even ./.data/env. */
	setenv("CINEMA_ENV_FILE", "", 1);
	ck_assert(envfile_load(&used, err, sizeof(err)));
	ck_assert_ptr_null(used);

	/* A file named explicitly must exist; the default one need not. */
	unlink(path);
	setenv("CINEMA_ENV_FILE", path, 1);
	ck_assert(!envfile_load(&used, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "CINEMA_ENV_FILE"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	unsetenv("CINEMA_ENV_FILE");
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert(envfile_load(&used, err, sizeof(err)));
	ck_assert_ptr_null(used);

	/* The default one, when present, is read; a bad line stops the program. */
	ck_assert_int_eq(mkdir(".data", 0700), 0);
	f = fopen(ENVFILE_DEFAULT, "w");
	ck_assert_ptr_nonnull(f);
	fputs("ENVFILE_T_OTHER=1\nbad line\n", f);
	fclose(f);
	ck_assert(!envfile_load(&used, err, sizeof(err)));
	ck_assert_str_eq(err, ".data/env:2: expected NAME=value");
	unlink(ENVFILE_DEFAULT);
	rmdir(".data");
	ck_assert_int_eq(chdir(cwd), 0); /* without fork, later tests share the process */
	rmdir(dir);
}
END_TEST

START_TEST(urls_keep_all_but_the_password)
{
	static const char *const cases[][2] = {
		{"postgresql://127.0.0.1:5432/cinema", "postgresql://127.0.0.1:5432/cinema"},
		{"postgresql://cinema:s3cr%40t@db:5432/cinema",
		 "postgresql://cinema:***@db:5432/cinema"},
		{"postgresql://cinema@db/cinema", "postgresql://cinema@db/cinema"},
		{"redis://:pw@kv:6379/0", "redis://:***@kv:6379/0"},
		{"smtp://u:p@w@mail:25", "smtp://u:***@mail:25"},
		{"postgresql://u:pa/ss?#x@db/cinema", "postgresql://u:***@db/cinema"},
		{"postgresql://db/cinema?user=a&password=b&sslmode=require",
		 "postgresql://db/cinema?user=a&password=***&sslmode=require"},
		{"host=db password=x dbname=cinema", "host=db password=*** dbname=cinema"},
		{"postgresql://db/cinema?application_name=nopassword=1",
		 "postgresql://db/cinema?application_name=nopassword=1"},
	};
	char out[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(config_url_redact(cases[i][0], out, sizeof(out)), cases[i][1]);
}
END_TEST

static Suite *envfile_suite(void)
{
	Suite *s = suite_create("envfile");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, bare_quoted_comments_and_export);
	tcase_add_test(tc, bad_lines_name_file_and_line);
	tcase_add_test(tc, load_fills_only_what_the_environment_leaves_unset);
	suite_add_tcase(s, tc);
	tc = tcase_create("redact");
	tcase_add_test(tc, urls_keep_all_but_the_password);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(envfile_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
