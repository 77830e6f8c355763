/* A small template engine: literal text with {{escaped}} and {{{raw}}}
 * variables. Templates are parsed once, at start-up, into segments, so a
 * syntax error stops the server from starting instead of breaking a page. */
#include "web/web_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TPL_MAX_COUNT 64
#define TPL_MAX_BYTES (1024u * 1024u)
#define TPL_NAME      64
#define TPL_VAR_NAME  64

enum seg_kind { SEG_TEXT, SEG_ESC, SEG_RAW };

struct seg {
	enum seg_kind kind;
	size_t off; /* into the template's text: literal text or variable name */
	size_t len;
};

struct tpl {
	char name[TPL_NAME];
	char *text;
	struct seg *segs;
	size_t nseg;
};

struct web_tpl_set {
	struct tpl v[TPL_MAX_COUNT];
	size_t n;
};

struct web_tpl_set *web__tpl_set_new(void)
{
	return calloc(1, sizeof(struct web_tpl_set));
}

void web__tpl_set_free(struct web_tpl_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].text);
		free(s->v[i].segs);
	}
	free(s);
}

static const struct tpl *find(const struct web_tpl_set *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

bool web__tpl_has(const struct web_tpl_set *s, const char *name)
{
	return find(s, name) != NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static unsigned line_of(const char *text, size_t off)
{
	unsigned line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static int push(struct tpl *t, size_t *cap, enum seg_kind kind, size_t off, size_t len)
{
	if (kind == SEG_TEXT && len == 0)
		return 0;
	if (t->nseg == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct seg *p = realloc(t->segs, ncap * sizeof(*p));

		if (!p)
			return ERR_NOMEM;
		t->segs = p;
		*cap = ncap;
	}
	t->segs[t->nseg].kind = kind;
	t->segs[t->nseg].off = off;
	t->segs[t->nseg].len = len;
	t->nseg++;
	return 0;
}

/* Splits t->text into segments. */
static int parse(struct tpl *t, size_t len, struct err_info *info)
{
	const char *s = t->text;
	size_t cap = 0, lit = 0, i = 0;
	int rc;

	while (i < len) {
		size_t open, n, name_off, name_len;
		bool raw;

		if (!(s[i] == '{' && i + 1 < len && s[i + 1] == '{')) {
			i++;
			continue;
		}
		open = i;
		raw = i + 2 < len && s[i + 2] == '{';
		n = raw ? 3 : 2;
		i += n;
		while (i < len && s[i] == ' ')
			i++;
		name_off = i;
		while (i < len && name_char(s[i]))
			i++;
		name_len = i - name_off;
		while (i < len && s[i] == ' ')
			i++;
		if (name_len == 0 || name_len >= TPL_VAR_NAME)
			return err_set(info, ERR_PARSE, "template %s line %u: bad variable name",
				       t->name, line_of(s, open));
		if (len - i < n || memcmp(s + i, "}}}", n) != 0 ||
		    (!raw && i + 2 < len && s[i + 2] == '}'))
			return err_set(info, ERR_PARSE, "template %s line %u: expected '%s'",
				       t->name, line_of(s, open), raw ? "}}}" : "}}");
		rc = push(t, &cap, SEG_TEXT, lit, open - lit);
		if (rc == 0)
			rc = push(t, &cap, raw ? SEG_RAW : SEG_ESC, name_off, name_len);
		if (rc)
			return err_set(info, rc, "template %s: out of memory", t->name);
		i += n;
		lit = i;
	}
	rc = push(t, &cap, SEG_TEXT, lit, len - lit);
	if (rc)
		return err_set(info, rc, "template %s: out of memory", t->name);
	return 0;
}

int web__tpl_add(struct web_tpl_set *s, const char *name, const char *text, size_t len,
		 struct err_info *info)
{
	struct tpl *t;
	int rc;

	if (strlen(name) >= TPL_NAME)
		return err_set(info, ERR_INVALID, "template name too long: %s", name);
	if (find(s, name))
		return err_set(info, ERR_INVALID, "template %s defined twice", name);
	if (s->n == TPL_MAX_COUNT)
		return err_set(info, ERR_FULL, "more than %d templates", TPL_MAX_COUNT);
	if (memchr(text, '\0', len))
		return err_set(info, ERR_PARSE, "template %s contains a NUL byte", name);
	t = &s->v[s->n];
	memset(t, 0, sizeof(*t));
	memcpy(t->name, name, strlen(name) + 1);
	t->text = malloc(len + 1);
	if (!t->text)
		return err_set(info, ERR_NOMEM, "template %s: out of memory", name);
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	rc = parse(t, len, info);
	if (rc) {
		free(t->text);
		free(t->segs);
		memset(t, 0, sizeof(*t));
		return rc;
	}
	s->n++;
	return 0;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && memcmp(s + n - m, suf, m) == 0;
}

int web__tpl_load_dir(struct web_tpl_set *s, const char *dir, struct err_info *info)
{
	DIR *d;
	struct dirent *e;
	char path[4096];
	char *text = NULL;
	size_t len;
	int rc = 0;

	d = opendir(dir);
	if (!d) {
		rc = -errno;
		return err_set(info, rc == -ENOENT ? ERR_NOTFOUND : rc,
			       "templates directory %s: %s", dir, err_str(rc));
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".html"))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path)) {
			rc = err_set(info, ERR_RANGE, "template path too long: %s", dir);
			goto cleanup;
		}
		rc = web__file_read(path, TPL_MAX_BYTES, &text, &len);
		if (rc == -EINVAL)
			continue; /* not a regular file */
		if (rc) {
			err_set(info, rc, "template %s: %s", path, err_str(rc));
			goto cleanup;
		}
		rc = web__tpl_add(s, e->d_name, text, len, info);
		free(text);
		text = NULL;
		if (rc)
			goto cleanup;
	}
cleanup:
	closedir(d);
	return rc;
}

static const struct web_tpl_var *lookup(const struct web_tpl_var *vars, size_t nvars,
					const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nvars; i++)
		if (strncmp(vars[i].name, name, len) == 0 && vars[i].name[len] == '\0')
			return &vars[i];
	return NULL;
}

int web__tpl_render(const struct web_tpl_set *s, const char *name, const struct web_tpl_var *vars,
		    size_t nvars, struct web_buf *out, struct err_info *info)
{
	const struct tpl *t = find(s, name);
	size_t i;

	if (!t)
		return err_set(info, ERR_NOTFOUND, "no template %s", name);
	for (i = 0; i < t->nseg; i++) {
		const struct seg *g = &t->segs[i];
		const struct web_tpl_var *v;
		const char *val;

		if (g->kind == SEG_TEXT) {
			web_buf_append(out, t->text + g->off, g->len);
			continue;
		}
		v = lookup(vars, nvars, t->text + g->off, g->len);
		if (!v)
			return err_set(info, ERR_NOTFOUND, "template %s: no variable %.*s", name,
				       (int)g->len, t->text + g->off);
		val = v->value ? v->value : "";
		if (g->kind == SEG_RAW)
			web_buf_append(out, val, strlen(val));
		else
			web__buf_html(out, val, strlen(val));
	}
	if (out->err)
		return err_set(info, out->err, "template %s: %s", name, err_str(out->err));
	return 0;
}
