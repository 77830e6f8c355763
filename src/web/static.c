/* Static assets, loaded into memory at start-up. A request names an asset by
 * an exact lookup in this table, so no request path ever reaches the file
 * system; the name check is a second fence, not the only one. */
#include "web/web_int.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

const char *web__content_type(const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t m = strlen(types[i].ext);

		if (n > m && strcmp(name + n - m, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

bool web__asset_name_ok(const char *name)
{
	size_t i;

	if (name[0] == '\0' || name[0] == '.')
		return false;
	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i + 1 >= WEB_ASSET_NAME)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
		if (c == '.' && name[i + 1] == '.')
			return false;
	}
	return true;
}

/* FNV-1a 64: a cheap, stable validator for ETag; not a security boundary. */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int web__assets_add_file(struct web_assets *a, const char *name, const char *path,
			 struct err_info *info)
{
	struct web_asset *v, *e;
	const char *type;
	char *data;
	size_t len;
	int rc;

	if (!web__asset_name_ok(name))
		return err_set(info, ERR_INVALID, "static file %s: name not servable", path);
	type = web__content_type(name);
	if (!type)
		return err_set(info, ERR_INVALID, "static file %s: type not servable", path);
	if (web__assets_find(a, name))
		return err_set(info, ERR_INVALID, "static file %s: %s defined twice", path, name);
	if (a->n == WEB_ASSET_MAX_COUNT)
		return err_set(info, ERR_FULL, "more than %u static files", WEB_ASSET_MAX_COUNT);
	rc = web__file_read(path, WEB_ASSET_MAX_BYTES, &data, &len);
	if (rc == -ENOENT)
		return err_set(info, ERR_NOTFOUND, "static file %s: not found", path);
	if (rc)
		return err_set(info, rc, "static file %s: %s", path, err_str(rc));
	v = realloc(a->v, (a->n + 1) * sizeof(*v));
	if (!v) {
		free(data);
		return err_set(info, ERR_NOMEM, "static file %s: out of memory", path);
	}
	a->v = v;
	e = &v[a->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, strlen(name) + 1);
	e->content_type = type;
	e->data = data;
	e->len = len;
	snprintf(e->etag, sizeof(e->etag), "\"%016llx\"", (unsigned long long)fnv1a(data, len));
	return 0;
}

int web__assets_load_dir(struct web_assets *a, const char *dir, struct err_info *info)
{
	char root[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	struct dirent *e;
	size_t rlen;
	DIR *d;
	int rc = 0;

	if (!realpath(dir, root)) {
		rc = -errno;
		return err_set(info, rc == -ENOENT ? ERR_NOTFOUND : rc, "static directory %s: %s",
			       dir, err_str(rc));
	}
	rlen = strlen(root);
	d = opendir(root);
	if (!d) {
		rc = -errno;
		return err_set(info, rc, "static directory %s: %s", dir, err_str(rc));
	}
	while ((e = readdir(d)) != NULL) {
		if (!web__asset_name_ok(e->d_name) || !web__content_type(e->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, e->d_name) >= sizeof(path))
			continue;
		/* A symlink may point anywhere; serve it only if it stays inside. */
		if (!realpath(path, real) || strncmp(real, root, rlen) != 0 || real[rlen] != '/' ||
		    strchr(real + rlen + 1, '/') != NULL)
			continue;
		rc = web__assets_add_file(a, e->d_name, real, info);
		if (rc == -EINVAL) {
			rc = 0; /* a directory or device with a servable name */
			continue;
		}
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

const struct web_asset *web__assets_find(const struct web_assets *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

void web__assets_release(struct web_assets *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].data);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}
