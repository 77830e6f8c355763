#include "core/clock.h"

#include <time.h>

#include "core/err.h"

#define NS_PER_SEC  1000000000LL
#define SEC_PER_DAY 86400LL

uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * (uint64_t)NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int64_t clock_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + (int64_t)ts.tv_nsec;
}

static uint64_t sys_mono(void *ctx)
{
	(void)ctx;
	return clock_mono_ns();
}

static int64_t sys_wall(void *ctx)
{
	(void)ctx;
	return clock_wall_ns();
}

const struct clock clock_system = {.mono_ns = sys_mono, .wall_ns = sys_wall, .ctx = NULL};

static uint64_t manual_mono(void *ctx)
{
	const struct clock_manual *m = ctx;
	return (uint64_t)m->wall_ns;
}

static int64_t manual_wall(void *ctx)
{
	const struct clock_manual *m = ctx;
	return m->wall_ns;
}

struct clock clock_manual_make(struct clock_manual *m)
{
	struct clock c = {.mono_ns = manual_mono, .wall_ns = manual_wall, .ctx = m};
	return c;
}

/* Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian
 * calendar, days relative to 1970-01-01, valid far beyond int64 ns range. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return dim[m - 1];
}

/* Writes n decimal digits of v, most significant first, zero padded. */
static void put_digits(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

int clock_fmt_rfc3339(int64_t wall_ns, int frac_digits, char *buf, size_t cap)
{
	int64_t secs, sod, days, year;
	int64_t nsec;
	int mon, day;
	size_t len;
	char *p = buf;

	if (frac_digits < 0 || frac_digits > 9)
		return ERR_INVALID;
	len = 20 + (frac_digits ? (size_t)frac_digits + 1 : 0);
	if (cap < len + 1)
		return ERR_RANGE;

	/* Floor division, so times before 1970 keep a non-negative fraction. */
	secs = wall_ns / NS_PER_SEC;
	nsec = wall_ns % NS_PER_SEC;
	if (nsec < 0) {
		nsec += NS_PER_SEC;
		secs--;
	}
	days = secs / SEC_PER_DAY;
	sod = secs % SEC_PER_DAY;
	if (sod < 0) {
		sod += SEC_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &mon, &day);

	/* The int64 ns range is years 1677..2262, always four digits. */
	put_digits(p, (uint64_t)year, 4);
	p[4] = '-';
	put_digits(p + 5, (uint64_t)mon, 2);
	p[7] = '-';
	put_digits(p + 8, (uint64_t)day, 2);
	p[10] = 'T';
	put_digits(p + 11, (uint64_t)(sod / 3600), 2);
	p[13] = ':';
	put_digits(p + 14, (uint64_t)(sod / 60 % 60), 2);
	p[16] = ':';
	put_digits(p + 17, (uint64_t)(sod % 60), 2);
	p += 19;
	if (frac_digits) {
		uint64_t f = (uint64_t)nsec;
		/* Truncate, never round: a stamp must not move into the next second. */
		for (int i = frac_digits; i < 9; i++)
			f /= 10;
		*p++ = '.';
		put_digits(p, f, frac_digits);
		p += frac_digits;
	}
	*p++ = 'Z';
	*p = '\0';
	return (int)len;
}

/* Reads exactly n digits at s[*i]; false if any is not a digit. */
static int take_num(const char *s, size_t len, size_t *i, int n, int *out)
{
	int v = 0;
	if (len - *i < (size_t)n)
		return 0;
	for (int k = 0; k < n; k++) {
		unsigned c = (unsigned char)s[*i + (size_t)k] - '0';
		if (c > 9)
			return 0;
		v = v * 10 + (int)c;
	}
	*i += (size_t)n;
	*out = v;
	return 1;
}

static int take_char(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return 0;
	(*i)++;
	return 1;
}

int clock_parse_rfc3339(const char *s, size_t len, int64_t *out_ns)
{
	int year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
	int64_t frac = 0;
	int64_t offset = 0;
	int64_t secs, ns;
	size_t i = 0;

	if (!s || !out_ns)
		return ERR_PARSE;
	if (!take_num(s, len, &i, 4, &year) || !take_char(s, len, &i, '-') ||
	    !take_num(s, len, &i, 2, &mon) || !take_char(s, len, &i, '-') ||
	    !take_num(s, len, &i, 2, &day))
		return ERR_PARSE;
	/* RFC 3339 5.6 allows a lower-case 't' and 'z'. */
	if (i >= len || (s[i] != 'T' && s[i] != 't'))
		return ERR_PARSE;
	i++;
	if (!take_num(s, len, &i, 2, &hh) || !take_char(s, len, &i, ':') ||
	    !take_num(s, len, &i, 2, &mm) || !take_char(s, len, &i, ':') ||
	    !take_num(s, len, &i, 2, &ss))
		return ERR_PARSE;
	if (i < len && s[i] == '.') {
		int n = 0;
		i++;
		while (i < len && (unsigned)((unsigned char)s[i] - '0') <= 9) {
			if (n == 9)
				return ERR_PARSE;
			frac = frac * 10 + (s[i] - '0');
			n++;
			i++;
		}
		if (n == 0)
			return ERR_PARSE;
		for (; n < 9; n++)
			frac *= 10;
	}
	if (i >= len)
		return ERR_PARSE;
	if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		int sign = s[i] == '-' ? -1 : 1;
		int oh, om;
		i++;
		if (!take_num(s, len, &i, 2, &oh) || !take_char(s, len, &i, ':') ||
		    !take_num(s, len, &i, 2, &om))
			return ERR_PARSE;
		if (oh > 23 || om > 59)
			return ERR_PARSE;
		offset = sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		return ERR_PARSE;
	}
	if (i != len)
		return ERR_PARSE;

	/* Leap seconds (ss == 60) are rejected: no exchange sends them and the
	 * epoch arithmetic below could not represent them anyway. */
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 ||
	    mm > 59 || ss > 59)
		return ERR_PARSE;

	secs = days_from_civil(year, mon, day) * SEC_PER_DAY + hh * 3600 + mm * 60 + ss - offset;
	/* Years 0000..9999 keep secs far inside int64; the ns product may not.
	 * Borrow a second for negative times so INT64_MIN itself is reachable. */
	if (secs < 0 && frac > 0) {
		secs++;
		frac -= NS_PER_SEC;
	}
	if (__builtin_mul_overflow(secs, NS_PER_SEC, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return ERR_PARSE;
	*out_ns = ns;
	return 0;
}
