/* The configuration key table. Shared by core/config.c and
 * tests/unit/core/test_config.c only; other modules use core/config.h. */
#ifndef ARB_CORE_CONFIG_INT_H
#define ARB_CORE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

enum config_type {
	CONFIG_T_STRING, /* char[]: text without control characters */
	CONFIG_T_PATH,	 /* char[]: a file system path */
	CONFIG_T_URL,	 /* char[]: a URL whose scheme is one of choices ("wss://") */
	CONFIG_T_BOOL,	 /* bool: true|false, on|off, yes|no, 1|0 */
	CONFIG_T_ENUM,	 /* int-sized enum: the index of the value in choices */
	CONFIG_T_CHOICE, /* char[]: one of choices, stored as text */
	CONFIG_T_U32,	 /* uint32_t or uint16_t: min..max, or one of choices */
	CONFIG_T_DOUBLE, /* double: min..max */
	CONFIG_T_SECRET, /* struct secret *: NULL when empty */
	CONFIG_T_LIST,	 /* char[]: comma list, items checked by item(), stored trimmed */
	CONFIG_T_PERMS,	 /* unsigned: Kraken permission names as enum kraken_perm bits */
};

enum config_flag {
	CONFIG_F_SECRET = 1u << 0,     /* never echoed; default shown empty */
	CONFIG_F_POSITIVE = 1u << 1,   /* double: strictly greater than min */
	CONFIG_F_POW2 = 1u << 2,       /* u32: a power of two */
	CONFIG_F_BASE64 = 1u << 3,     /* secret: standard base64 */
	CONFIG_F_FERNET_KEY = 1u << 4, /* secret: a Fernet key; never enc: */
	CONFIG_F_NO_ENC = 1u << 5,     /* the value cannot itself be enc: */
	CONFIG_F_ALL = 1u << 6,	       /* list: "all" alone is also accepted */
	CONFIG_F_BUILD_DEFAULT =
	    1u << 7, /* default fixed at build time: .env.example leaves it empty */
};

struct config_key {
	const char *name;
	enum config_type type;
	const char *def;	    /* default as text, parsed like any value */
	const char *const *choices; /* NULL-terminated: ENUM, CHOICE, URL schemes, U32 values */
	double min, max;	    /* U32, DOUBLE */
	size_t off, size;	    /* the field in struct config */
	unsigned flags;		    /* enum config_flag */
	bool (*item)(const char *s, size_t len); /* LIST: one item; SECRET: the value */
	const char *form; /* expected form for STRING/LIST/SECRET; NULL: generated */
	const char *help; /* one line */
};

extern const struct config_key config__keys[];
extern const size_t config__nkeys;

/* The row for name (exact, case-sensitive), or NULL. */
const struct config_key *config__find(const char *name, size_t len);

/* The expected form of k's values, e.g. "an integer 1..65535", into buf. */
void config__form(const struct config_key *k, char *buf, size_t cap);

/* Optimal string alignment distance (case-insensitive), for suggestions. */
size_t config__distance(const char *a, size_t alen, const char *b, size_t blen);

#endif
