/* Shared by the arb module's .c files and tests/unit/arb/ only. */
#ifndef ARB_ARB_ARB_INT_H
#define ARB_ARB_ARB_INT_H

#include "arb/arb.h"

/* A directed use of a pair: dir = pair * 2 + side. BUY walks the asks and
 * turns quote into base; SELL walks the bids and turns base into quote. */
#define ARB__DIR(pair, side) ((uint32_t)(pair)*2u + (uint32_t)(side))
#define ARB__DIR_PAIR(dir)   ((dir) >> 1)
#define ARB__DIR_SIDE(dir)   ((enum arb_side)((dir)&1u))

/* The sentinel direction whose cached rate is always 1: it pads a 3-leg
 * cycle's screen entry to four rates, so the screen has no branch. */
#define ARB__DIR_ONE (ARB_MAX_PAIRS * 2u)

/* One cycle as the screen of one directed pair sees it: the OTHER legs'
 * directions (ARB__DIR_ONE past a 3-leg cycle's end) in 16 bits and the
 * pass flag, so a group is one sequential run of 8-byte records (the cycle
 * index is idx[] at the same position). */
struct arb__entry {
	uint16_t other[ARB_MAX_LEGS - 1];
	uint16_t pass;
};

struct arb__cycle {
	uint32_t dir[ARB_MAX_LEGS];
	uint8_t n_legs;
	uint8_t home; /* index into the graph's homes */
};

struct arb_graph {
	uint32_t n_pairs;
	struct arb_pair *pairs; /* copy of the records given */
	uint32_t *pair_base;	/* asset id of each pair's base, quote */
	uint32_t *pair_quote;
	uint32_t n_assets;
	char (*assets)[ARB_ASSET_MAX];
	unsigned n_homes;
	char homes[ARB_MAX_HOMES][ARB_ASSET_MAX];
	uint32_t home_asset[ARB_MAX_HOMES]; /* asset id, UINT32_MAX when absent */
	uint32_t n_cycles;
	struct arb__cycle *cycles;
	/* The index, grouped by directed use: the cycles that use pair p on
	 * side k are idx[grp_off[d]..grp_off[d + 1]) with d = ARB__DIR(p, k),
	 * so a pair's cycles are its two groups, BUY then SELL. */
	uint32_t *grp_off;	    /* 2 * n_pairs + 1 offsets */
	uint32_t *idx;		    /* cycle indices */
	struct arb__entry *entries; /* the same order as idx */
	/* Screen state, owned by the detector the graph is installed in: each
	 * entry's pass flag is set while its cycle's top-of-book bound passes
	 * (the same in all of a cycle's entries); pass_count[d] counts the
	 * passing cycles of group d; epos says where each cycle's entries are
	 * (ARB_MAX_LEGS per cycle, in leg order), to flip all of them. */
	uint32_t *pass_count; /* 2 * n_pairs + 1 */
	uint32_t *epos;
	uint32_t by_len[ARB_MAX_HOMES][ARB_MAX_LEGS + 1];
};

/* Splits a comma list of assets into homes (trimmed, empty items skipped).
 * Returns the count, or ERR_INVALID with info (too many, too long, none). */
int arb__parse_homes(const char *list, char homes[ARB_MAX_HOMES][ARB_ASSET_MAX],
		     struct err_info *info);

/* What eval.c needs of the detector for one evaluation. */
struct arb__env {
	const struct arb_graph *g;
	const struct book *const *books; /* by pair */
	const double *fee_bps;		 /* effective fee by pair */
	const bool *tradable;		 /* current status by pair */
	const double *cap;		 /* by home index: min(balance, max notional) */
	uint64_t max_age_ns;
	double min_profit_bps; /* ARB_DETECT_MIN_PROFIT_BPS: what is reported */
};

/* Full evaluation of cycle c (validity, age, depth walk, sizing, rounding);
 * fills *out for ARB_V_OPP and ARB_V_BELOW_MIN. Never allocates. */
enum arb_verdict arb__eval(const struct arb__env *env, uint32_t c, uint64_t now_ns,
			   struct arb_opp *out);

/* Top-of-book effective rate of one directed use of a pair (fee included):
 * BUY 1 / (best ask * (1 + f)), SELL best bid * (1 - f); 0 with no level. */
double arb__top_rate(const struct book *b, enum arb_side side, double fee_bps);

#endif
