/* Template engine, buffers and JSON, static asset names and loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/web_int.h"

/* Renders text with vars; returns the rc and leaves the output in out. */
static int render(const char *text, const struct web_tpl_var *vars, size_t n, char *out, size_t cap,
		  struct err_info *info)
{
	struct web_tpl_set *s = web__tpl_set_new();
	struct web_buf b;
	int rc;

	assert_non_null(s);
	web__buf_init(&b, 1 << 20);
	rc = web__tpl_add(s, "t.html", text, strlen(text), info);
	if (rc == 0)
		rc = web__tpl_render(s, "t.html", vars, n, &b, info);
	snprintf(out, cap, "%s", b.data ? b.data : "");
	web__buf_release(&b);
	web__tpl_set_free(s);
	return rc;
}

static void tpl_escapes(void **state)
{
	(void)state;
	const struct web_tpl_var vars[] = {
	    {"x", "<script>alert(\"a&b's\")</script>"},
	    {"plain", "paper"},
	    {"frag", "<b>bold</b>"},
	    {"none", NULL},
	};
	struct err_info info = {0};
	char out[512];

	assert_int_equal(render("<p>{{x}}</p>", vars, 4, out, sizeof(out), &info), 0);
	assert_string_equal(out,
			    "<p>&lt;script&gt;alert(&quot;a&amp;b&#39;s&quot;)&lt;/script&gt;</p>");
	assert_int_equal(
	    render("{{ plain }}|{{{frag}}}|{{frag}}|[{{none}}]", vars, 4, out, sizeof(out), &info),
	    0);
	assert_string_equal(out, "paper|<b>bold</b>|&lt;b&gt;bold&lt;/b&gt;|[]");
	/* Text without tags, braces that are not tags, and an empty template. */
	assert_int_equal(render("a { b } {c} }} }", vars, 4, out, sizeof(out), &info), 0);
	assert_string_equal(out, "a { b } {c} }} }");
	assert_int_equal(render("", vars, 4, out, sizeof(out), &info), 0);
	assert_string_equal(out, "");
	/* Escaped values are not re-parsed: a value holding a tag is text. */
	const struct web_tpl_var tricky[] = {{"v", "{{x}}"}};
	assert_int_equal(render("{{v}}{{{v}}}", tricky, 1, out, sizeof(out), &info), 0);
	assert_string_equal(out, "{{x}}{{x}}");
}

static void tpl_unknown_variable(void **state)
{
	(void)state;
	const struct web_tpl_var vars[] = {{"known", "1"}, {"knownx", "2"}};
	struct err_info info = {0};
	char out[64];

	assert_int_equal(render("{{known}} {{kno}}", vars, 2, out, sizeof(out), &info),
			 ERR_NOTFOUND);
	assert_non_null(strstr(info.msg, "kno"));
	assert_int_equal(render("{{{missing}}}", vars, 2, out, sizeof(out), &info), ERR_NOTFOUND);
	assert_non_null(strstr(info.msg, "missing"));
	/* A prefix of a known name is not that name. */
	assert_int_equal(render("{{knownx}}{{known}}", vars, 2, out, sizeof(out), &info), 0);
	assert_string_equal(out, "21");
}

static void tpl_parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *line;
	} bad[] = {
	    {"{{", "line 1"},
	    {"abc {{x", "line 1"},
	    {"{{}}", "line 1"},
	    {"{{ }}", "line 1"},
	    {"a\n{{x}", "line 2"},
	    {"a\nb\n{{{x}}", "line 3"},
	    {"{{x}}}", "line 1"},
	    {"{{a b}}", "line 1"},
	    {"{{a\n}}", "line 1"},
	    {"{{a<b}}", "line 1"},
	    {"{{a}}\n{{ {b} }}", "line 2"},
	    {"{{0123456789012345678901234567890123456789012345678901234567890123}}", "line 1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err_info info = {0};
		char out[64];
		int rc = render(bad[i].text, NULL, 0, out, sizeof(out), &info);

		if (rc != ERR_PARSE)
			fail_msg("template \"%s\": rc %d, want ERR_PARSE", bad[i].text, rc);
		if (!strstr(info.msg, bad[i].line) || !strstr(info.msg, "t.html"))
			fail_msg("template \"%s\": message \"%s\" lacks %s", bad[i].text, info.msg,
				 bad[i].line);
	}
}

static void tpl_set_rules(void **state)
{
	(void)state;
	struct web_tpl_set *s = web__tpl_set_new();
	struct err_info info = {0};
	struct web_buf b;

	assert_non_null(s);
	assert_int_equal(web__tpl_add(s, "a.html", "A{{v}}", 6, &info), 0);
	assert_int_equal(web__tpl_add(s, "a.html", "B", 1, &info), ERR_INVALID);
	assert_int_equal(web__tpl_add(s, "n.html", "x\0y", 3, &info), ERR_PARSE);
	assert_true(web__tpl_has(s, "a.html"));
	assert_false(web__tpl_has(s, "n.html"));
	assert_false(web__tpl_has(s, "b.html"));
	web__buf_init(&b, 4);
	assert_int_equal(web__tpl_render(s, "b.html", NULL, 0, &b, &info), ERR_NOTFOUND);
	/* The output cap is honoured: "A" + 4 more bytes does not fit in 4. */
	const struct web_tpl_var v[] = {{"v", "1234"}};
	assert_int_equal(web__tpl_render(s, "a.html", v, 1, &b, &info), ERR_FULL);
	assert_true(b.len <= 4);
	web__buf_release(&b);
	web__tpl_set_free(s);
	web__tpl_set_free(NULL);
}

static void buf_json(void **state)
{
	(void)state;
	struct web_buf b;

	web__buf_init(&b, 1 << 16);
	web_buf_append(&b, "{\"a\":1", 6);
	web_json_add_str(&b, "s", "q\"b\\s\n\t\x01<x>&");
	web_json_add_str(&b, "e", "");
	web_json_add_str(&b, "n", NULL);
	web_json_add_i64(&b, "i", INT64_MIN);
	web_json_add_i64(&b, "j", 42);
	web_json_add_double(&b, "d", 0.5);
	web_json_add_double(&b, "nan", NAN);
	web_json_add_double(&b, "inf", -INFINITY);
	web_json_add_bool(&b, "t", 1);
	web_json_add_bool(&b, "f", 0);
	web_buf_append(&b, "}", 1);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.data,
			    "{\"a\":1,\"s\":\"q\\\"b\\\\s\\u000a\\u0009\\u0001\\u003cx\\u003e"
			    "\\u0026\",\"e\":\"\",\"n\":\"\",\"i\":-9223372036854775808,"
			    "\"j\":42,\"d\":0.5,\"nan\":null,\"inf\":null,\"t\":true,"
			    "\"f\":false}");
	web__buf_release(&b);

	/* Errors are sticky and the cap is exact. */
	web__buf_init(&b, 8);
	assert_int_equal(web_buf_append(&b, "12345678", 8), 0);
	assert_int_equal(web_buf_append(&b, "9", 1), ERR_FULL);
	assert_int_equal(web_buf_appendf(&b, "%s", ""), ERR_FULL);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	web__buf_release(&b);
	assert_int_equal(b.err, 0);

	/* appendf past its stack buffer. */
	web__buf_init(&b, 1 << 16);
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(web_buf_appendf(&b, "<%s>", big), 0);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[1000], '>');
	size_t len;
	char *p = web__buf_detach(&b, &len);
	assert_int_equal(len, 1001);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);
}

static void asset_names(void **state)
{
	(void)state;
	static const char *const ok[] = {"app.css", "htmx.min.js", "a", "A-b_c.9.png",
					 "favicon.ico"};
	static const char *const bad[] = {
	    "",		".",
	    "..",	"../x",
	    "..%2fx",	"a/b",
	    "/a",	"a\\b",
	    ".hidden",	"a..b",
	    "%2e%2e",	"a b",
	    "a%00b",	"a\nb",
	    "app.css/", "x..",
	    "..\\x",	"a:b",
	    "é.css",	"0123456789012345678901234567890123456789012345678901234567890123.css",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!web__asset_name_ok(ok[i]))
			fail_msg("\"%s\" should be a valid name", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (web__asset_name_ok(bad[i]))
			fail_msg("\"%s\" should be refused", bad[i]);

	assert_string_equal(web__content_type("a.css"), "text/css; charset=utf-8");
	assert_string_equal(web__content_type("a.min.js"), "text/javascript; charset=utf-8");
	assert_string_equal(web__content_type("a.svg"), "image/svg+xml");
	assert_string_equal(web__content_type("a.png"), "image/png");
	assert_string_equal(web__content_type("a.ico"), "image/x-icon");
	assert_null(web__content_type("a.html"));
	assert_null(web__content_type("a.txt"));
	assert_null(web__content_type(".css"));
	assert_null(web__content_type("css"));
	assert_null(web__content_type("a.CSS"));
}

static char tmp[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void assets_dir(void **state)
{
	(void)state;
	struct web_assets a = {0};
	struct err_info info = {0};
	char path[256], outside[256];

	snprintf(tmp, sizeof(tmp), "/tmp/arb_web_assets.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/static", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	put("secret.css", "secret");
	put("static/app.css", "body{}");
	put("static/logo.svg", "<svg/>");
	put("static/notes.txt", "not served");
	put("static/.hidden.css", "hidden");
	snprintf(path, sizeof(path), "%s/static/dir.css", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(outside, sizeof(outside), "%s/secret.css", tmp);
	snprintf(path, sizeof(path), "%s/static/leak.css", tmp);
	assert_int_equal(symlink(outside, path), 0);
	snprintf(outside, sizeof(outside), "%s/static/app.css", tmp);
	snprintf(path, sizeof(path), "%s/static/alias.css", tmp);
	assert_int_equal(symlink(outside, path), 0);

	snprintf(path, sizeof(path), "%s/static", tmp);
	assert_int_equal(web__assets_load_dir(&a, path, &info), 0);
	assert_int_equal(a.n, 3);
	const struct web_asset *e = web__assets_find(&a, "app.css");
	assert_non_null(e);
	assert_int_equal(e->len, 6);
	assert_memory_equal(e->data, "body{}", 6);
	assert_string_equal(e->content_type, "text/css; charset=utf-8");
	assert_int_equal(strlen(e->etag), 18);
	assert_int_equal(e->etag[0], '"');
	assert_non_null(web__assets_find(&a, "logo.svg"));
	assert_non_null(web__assets_find(&a, "alias.css"));
	assert_null(web__assets_find(&a, "leak.css"));
	assert_null(web__assets_find(&a, "notes.txt"));
	assert_null(web__assets_find(&a, ".hidden.css"));
	assert_null(web__assets_find(&a, "dir.css"));

	/* Explicit files: bad names, types and duplicates are refused. */
	snprintf(path, sizeof(path), "%s/secret.css", tmp);
	assert_int_equal(web__assets_add_file(&a, "app.css", path, &info), ERR_INVALID);
	assert_int_equal(web__assets_add_file(&a, "../x.css", path, &info), ERR_INVALID);
	assert_int_equal(web__assets_add_file(&a, "x.html", path, &info), ERR_INVALID);
	snprintf(path, sizeof(path), "%s/nope.js", tmp);
	assert_int_equal(web__assets_add_file(&a, "nope.js", path, &info), ERR_NOTFOUND);
	assert_non_null(strstr(info.msg, "nope.js"));
	web__assets_release(&a);
	assert_int_equal(a.n, 0);

	snprintf(path, sizeof(path), "%s/missing", tmp);
	assert_int_equal(web__assets_load_dir(&a, path, &info), ERR_NOTFOUND);
	web__assets_release(&a);
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void templates_dir(void **state)
{
	(void)state;
	struct web_tpl_set *s;
	struct err_info info = {0};
	char path[256];

	snprintf(tmp, sizeof(tmp), "/tmp/arb_web_tpl.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	put("a.html", "A={{a}}");
	put("b.html", "B");
	put("c.txt", "{{ not a template");
	s = web__tpl_set_new();
	assert_int_equal(web__tpl_load_dir(s, tmp, &info), 0);
	assert_true(web__tpl_has(s, "a.html"));
	assert_true(web__tpl_has(s, "b.html"));
	assert_false(web__tpl_has(s, "c.txt"));
	web__tpl_set_free(s);

	put("bad.html", "ok\n{{oops}");
	s = web__tpl_set_new();
	assert_int_equal(web__tpl_load_dir(s, tmp, &info), ERR_PARSE);
	assert_non_null(strstr(info.msg, "bad.html line 2"));
	web__tpl_set_free(s);

	s = web__tpl_set_new();
	snprintf(path, sizeof(path), "%s/none", tmp);
	assert_int_equal(web__tpl_load_dir(s, path, &info), ERR_NOTFOUND);
	web__tpl_set_free(s);
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tpl_escapes),	cmocka_unit_test(tpl_unknown_variable),
	    cmocka_unit_test(tpl_parse_errors), cmocka_unit_test(tpl_set_rules),
	    cmocka_unit_test(buf_json),		cmocka_unit_test(asset_names),
	    cmocka_unit_test(assets_dir),	cmocka_unit_test(templates_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
