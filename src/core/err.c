#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    "error",	     "invalid argument",    "parse error",	  "schema error",
    "out of range",  "out of memory",	    "capacity exhausted", "empty",
    "not found",     "configuration error", "crypto failure",	  "authentication failed",
    "expired",	     "I/O error",	    "database error",	  "timed out",
    "invalid state", "checksum mismatch",   "exchange error",	  "rate limited",
    "network error", "outcome unknown",	    "rejected",
};

const char *err_str(int code)
{
	if (code == 0)
		return "ok";
	if (code <= ERR_BASE && code > ERR_LAST)
		return names[ERR_BASE - code];
	if (code < 0 && code > ERR_BASE) {
		/* strerrordesc_np is thread-safe and returns a static string. */
		const char *s = strerrordesc_np(-code);
		return s ? s : "unknown errno";
	}
	return "unknown error";
}

int err_set(struct err_info *info, int code, const char *fmt, ...)
{
	if (info) {
		va_list ap;
		info->code = code;
		va_start(ap, fmt);
		vsnprintf(info->msg, sizeof(info->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}
