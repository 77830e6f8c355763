#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"
#include "store/store_int.h"

int store__exec(duckdb_connection c, const char *sql, struct err_info *info)
{
	duckdb_result res;
	int rc = 0;
	if (duckdb_query(c, sql, &res) != DuckDBSuccess) {
		const char *e = duckdb_result_error(&res);
		rc = err_set(info, ERR_DB, "%s", e ? e : "query failed");
	}
	duckdb_destroy_result(&res);
	return rc;
}

int store__query_i64(duckdb_connection c, const char *sql, int64_t *out, struct err_info *info)
{
	duckdb_result res;
	duckdb_data_chunk chunk = NULL;
	int rc = 0;
	if (duckdb_query(c, sql, &res) != DuckDBSuccess) {
		const char *e = duckdb_result_error(&res);
		rc = err_set(info, ERR_DB, "%s", e ? e : "query failed");
		goto cleanup;
	}
	if (duckdb_column_count(&res) < 1 || duckdb_column_type(&res, 0) != DUCKDB_TYPE_BIGINT) {
		rc = err_set(info, ERR_DB, "expected a BIGINT column");
		goto cleanup;
	}
	chunk = duckdb_fetch_chunk(res);
	if (!chunk || duckdb_data_chunk_get_size(chunk) < 1) {
		rc = err_set(info, ERR_DB, "expected a row");
		goto cleanup;
	}
	{
		duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
		uint64_t *valid = duckdb_vector_get_validity(v);
		if (valid && !duckdb_validity_row_is_valid(valid, 0)) {
			rc = err_set(info, ERR_DB, "expected a value, got NULL");
			goto cleanup;
		}
		*out = ((const int64_t *)duckdb_vector_get_data(v))[0];
	}
cleanup:
	if (chunk)
		duckdb_destroy_data_chunk(&chunk);
	duckdb_destroy_result(&res);
	return rc;
}

int store__sql_quote(const char *s, char *buf, size_t cap)
{
	size_t o = 0;
	if (cap < 3)
		return ERR_RANGE;
	buf[o++] = '\'';
	for (; *s; s++) {
		size_t need = *s == '\'' ? 2 : 1;
		if (o + need + 2 > cap)
			return ERR_RANGE;
		if (*s == '\'')
			buf[o++] = '\'';
		buf[o++] = *s;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return 0;
}

int store__mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);
	struct stat st;
	if (len == 0)
		return 0;
	if (len >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue; /* "a//b" */
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0) {
			if (errno != EEXIST)
				return -errno;
			if (stat(buf, &st) != 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

int store__dirname(const char *path, char *buf, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	if (!slash) {
		if (cap < 2)
			return ERR_RANGE;
		memcpy(buf, ".", 2);
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n + 1 > cap)
		return ERR_RANGE;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

size_t store__utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t k = seq_len(u + i, len - i);
		if (k == 0)
			break;
		i += k;
	}
	return i;
}

void store__utf8_clean(const char *s, size_t len, char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t k = seq_len(u + i, len - i);
		if (k == 0) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, k);
		i += k;
	}
}

int store__fmt_ts_us(int64_t us, char *buf, size_t cap)
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;
	int n;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		return ERR_RANGE;
	n = snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
	if (n < 0 || (size_t)n >= cap)
		return ERR_RANGE;
	return 0;
}

void store__set_error(struct store *s, const char *msg)
{
	pthread_mutex_lock(&s->mu);
	snprintf(s->last_error, sizeof s->last_error, "%s", msg);
	pthread_mutex_unlock(&s->mu);
}

uint64_t store__mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct timespec store__deadline(uint64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int store_parse_age(const char *s, int64_t *seconds)
{
	int64_t v = 0, unit;
	size_t i = 0;
	if (!s || !seconds)
		return ERR_INVALID;
	if (s[0] < '0' || s[0] > '9')
		return ERR_PARSE;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return ERR_RANGE;
		v = v * 10 + (s[i] - '0');
	}
	switch (s[i]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return ERR_PARSE;
	}
	if (s[i + 1] != '\0')
		return ERR_PARSE;
	if (v > INT64_MAX / unit)
		return ERR_RANGE;
	*seconds = v * unit;
	return 0;
}

int store_amount_from_double(double v, int scale, struct store_amount *out)
{
	double x;
	if (scale < 0 || scale > 18)
		return ERR_INVALID;
	if (!isfinite(v))
		return ERR_RANGE;
	x = round(v * pow(10.0, scale)); /* round() is half away from zero */
	/* 2^63 is exactly representable; anything at or above it does not fit. */
	if (!(x < 9223372036854775808.0) || !(x >= -9223372036854775808.0))
		return ERR_RANGE;
	out->units = (int64_t)x;
	out->scale = scale;
	return 0;
}
