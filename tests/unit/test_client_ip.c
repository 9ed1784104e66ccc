/* X-Forwarded-For behind trusted proxies (src/http/client_ip.c), without a
 * server: tests/http/test_server.c checks the same through HTTP. */
#include <check.h>
#include <stdio.h>

#include "http/client_ip.h"

static char out[46];

/* The client address for peer, trusted list and header. */
static const char *client(const char *peer, const char *trusted, const char *xff)
{
	snprintf(out, sizeof(out), "%s", peer);
	http_forwarded_client(trusted, xff, out, sizeof(out));
	return out;
}

START_TEST(untrusted_peer_is_the_client)
{
	ck_assert_str_eq(client("192.0.2.1", "10.0.0.1", "198.51.100.7"), "192.0.2.1");
	ck_assert_str_eq(client("10.0.0.1", "", "198.51.100.7"), "10.0.0.1");
	ck_assert_str_eq(client("10.0.0.1", NULL, "198.51.100.7"), "10.0.0.1");
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1", NULL), "10.0.0.1");
}
END_TEST

START_TEST(rightmost_untrusted_entry_is_the_client)
{
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1", "198.51.100.7"), "198.51.100.7");
	ck_assert_str_eq(
		client("10.0.0.1", "10.0.0.1, 10.0.0.2", "1.1.1.1, 198.51.100.7 ,10.0.0.2"),
		"198.51.100.7");
	ck_assert_str_eq(client("::1", "::1", "2001:db8::5"), "2001:db8::5");
	/* Every entry trusted: the peer stays. */
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1,10.0.0.2", "10.0.0.2"), "10.0.0.1");
}
END_TEST

START_TEST(stops_at_what_is_not_an_address)
{
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1", "198.51.100.7, not-an-ip"), "10.0.0.1");
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1", "198.51.100.7,,"), "10.0.0.1");
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1", ""), "10.0.0.1");
	ck_assert_str_eq(client("10.0.0.1", "10.0.0.1",
				"1111111111111111111111111111111111111111111111111111"),
			 "10.0.0.1");
}
END_TEST

START_TEST(ip_listed_matches_whole_entries)
{
	ck_assert(http_ip_listed("10.0.0.1, 10.0.0.2", "10.0.0.2", 8));
	ck_assert(!http_ip_listed("10.0.0.10", "10.0.0.1", 8));
	ck_assert(!http_ip_listed(NULL, "10.0.0.1", 8));
	ck_assert(!http_ip_listed("", "", 0));
}
END_TEST

static Suite *client_ip_suite(void)
{
	Suite *s = suite_create("client_ip");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, untrusted_peer_is_the_client);
	tcase_add_test(tc, rightmost_untrusted_entry_is_the_client);
	tcase_add_test(tc, stops_at_what_is_not_an_address);
	tcase_add_test(tc, ip_listed_matches_whole_entries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(client_ip_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
