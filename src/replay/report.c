/* The backtest report: the totals the loop counted, final balances and PnL,
 * as JSON (deterministic) and as a readable summary. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "replay/replay_int.h"

int replay__finish_report(struct replay *r);

static const struct venue_balance *find_bal(const struct venue_balance *v, size_t n,
					    const char *asset)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].asset, asset) == 0)
			return &v[i];
	return NULL;
}

/* The mid of the last valid book of a pair base/quote, in quote per base. */
static bool mid_of(const struct replay *r, const char *base, const char *quote, double *out)
{
	for (uint32_t i = 0; i < r->npairs; i++) {
		const struct arb_pair *p = &r->pairs[i];
		const struct book *b = r->books[i];
		if (!b || strcmp(p->base, base) != 0 || strcmp(p->quote, quote) != 0)
			continue;
		size_t nb, na;
		const struct book_level *bids = book_bids(b, &nb), *asks = book_asks(b, &na);
		if (!nb || !na)
			return false;
		*out = (fx_to_double(bids[0].price, p->price_scale) +
			fx_to_double(asks[0].price, p->price_scale)) /
		       2;
		return true;
	}
	return false;
}

static int64_t units_at(const struct venue_balance *b, int scale)
{
	int64_t v = 0;
	if (b && fx_rescale(b->amount, b->scale, scale, &v) != 0)
		v = 0;
	return v;
}

int replay__finish_report(struct replay *r)
{
	struct replay_report *p = r->rep;
	if (r->venue.ops->balances(r->venue.ctx, p->final, REPLAY__MAX_ASSETS, &p->n_final) != 0)
		p->n_final = 0;
	/* The home asset: the first of ARB_HOME_ASSETS with a starting balance. */
	p->home[0] = '\0';
	for (const char *h = r->cfg->arb.home_assets; *h && !p->home[0];) {
		const char *end = strchr(h, ',');
		size_t len = end ? (size_t)(end - h) : strlen(h);
		char name[ARB_ASSET_MAX];
		if (len < sizeof name) {
			memcpy(name, h, len);
			name[len] = '\0';
			if (find_bal(p->start, p->n_start, name))
				memcpy(p->home, name, len + 1);
		}
		h += len + (end ? 1 : 0);
	}
	if (!p->home[0] && p->n_start)
		replay__name(p->home, sizeof p->home, p->start[0].asset);
	p->pnl_home = 0;
	size_t ul = 0;
	for (size_t i = 0; i < p->n_final; i++) {
		const struct venue_balance *f = &p->final[i];
		const struct venue_balance *s = find_bal(p->start, p->n_start, f->asset);
		double d = fx_to_double(f->amount - units_at(s, f->scale), f->scale);
		double mid;
		if (d == 0)
			continue;
		if (strcmp(f->asset, p->home) == 0)
			p->pnl_home += d;
		else if (mid_of(r, f->asset, p->home, &mid))
			p->pnl_home += d * mid;
		else if (mid_of(r, p->home, f->asset, &mid) && mid > 0)
			p->pnl_home += d / mid;
		else {
			int w = snprintf(p->unpriced + ul, sizeof p->unpriced - ul, "%s%s",
					 ul ? "," : "", f->asset);
			if (w > 0 && (size_t)w < sizeof p->unpriced - ul)
				ul += (size_t)w;
		}
	}
	p->symbols = r->npairs;
	return 0;
}

/* __int128 at 18 decimals, exact. */
static void fmt18(__int128 v, char *buf, size_t cap)
{
	char digits[64];
	int n = 0;
	bool neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
	do {
		digits[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u && n < 60);
	while (n < 19)
		digits[n++] = '0';
	size_t k = 0;
	if (neg && k + 1 < cap)
		buf[k++] = '-';
	for (int i = n - 1; i >= 18 && k + 1 < cap; i--)
		buf[k++] = digits[i];
	int last = 0; /* trim trailing zeros of the fraction */
	while (last < 18 && digits[last] == '0')
		last++;
	if (last < 18 && k + 1 < cap)
		buf[k++] = '.';
	for (int i = 17; i >= last && k + 1 < cap; i--)
		buf[k++] = digits[i];
	buf[k] = '\0';
}

static void bal_json(FILE *f, const struct venue_balance *v, size_t n)
{
	char t[48];
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		fx_format(v[i].amount, v[i].scale, t, sizeof t);
		fprintf(f, "%s\"%s\":\"%s\"", i ? "," : "", v[i].asset, t);
	}
	fputc('}', f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Doubles in the report: fixed 10 decimals, so the text never depends on a
 * shortest-representation algorithm. */
static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.10f", v);
	else
		fputs("null", f);
}

static void pnl_json(FILE *f, const struct replay_report *p)
{
	char t[48];
	size_t k = 0;
	fputc('{', f);
	for (size_t i = 0; i < p->n_final; i++) {
		const struct venue_balance *fb = &p->final[i];
		const struct venue_balance *s = find_bal(p->start, p->n_start, fb->asset);
		int64_t d = fb->amount - units_at(s, fb->scale);
		if (d == 0 && !s)
			continue;
		fx_format(d, fb->scale, t, sizeof t);
		fprintf(f, "%s\"%s\":\"%s\"", k++ ? "," : "", fb->asset, t);
	}
	fputc('}', f);
}

void replay_report_write_json(const struct replay_report *p, FILE *f)
{
	char ts0[40] = "", ts1[40] = "", t[64];
	clock_fmt_rfc3339(p->first_ts, 9, ts0, sizeof ts0);
	clock_fmt_rfc3339(p->last_ts, 9, ts1, sizeof ts1);
	fprintf(f,
		"{\"events\":%" PRIu64 ",\"bad_lines\":%" PRIu64 ",\"first_bad_line\":", p->events,
		p->bad_lines);
	if (p->first_bad_line)
		fprintf(f, "%u", p->first_bad_line);
	else
		fputs("null", f);
	fprintf(f,
		",\"book_errors\":%" PRIu64 ",\"symbols\":%" PRIu64 ",\"first_ts\":\"%s\","
		"\"last_ts\":\"%s\",\"precisions\":\"%s\",\"options\":{\"latency_ms\":%" PRId64
		",\"slippage_bps\":",
		p->book_errors, p->symbols, ts0, ts1, p->inferred ? "inferred" : "instruments",
		p->latency_ms);
	json_num(f, p->slippage_bps);
	fputs(",\"taker_fee_bps\":", f);
	json_num(f, p->taker_fee_bps);
	fprintf(f,
		"},\"opportunities\":%" PRIu64 ",\"accepted\":%" PRIu64
		",\"executed_cycles\":%" PRIu64 ",\"failed_cycles\":%" PRIu64 ",\"missed\":%" PRIu64
		",\"legs\":%" PRIu64 ",\"unwind_orders\":%" PRIu64 ",\"hit_rate\":",
		p->opportunities, p->accepted, p->executed, p->failed, p->missed, p->orders,
		p->unwind_orders);
	json_num(f, p->opportunities ? (double)p->executed / (double)p->opportunities : NAN);
	fputs(",\"misses_by_reason\":{", f);
	for (size_t i = 0; i < p->n_misses; i++) {
		if (i)
			fputc(',', f);
		json_str(f, p->misses[i].what);
		fprintf(f, ":%" PRIu64, p->misses[i].n);
	}
	fputs("},\"rejections_by_reason\":{", f);
	size_t k = 0;
	for (int i = 1; i < RISK__COUNT; i++)
		if (p->rejected[i])
			fprintf(f, "%s\"%s\":%" PRIu64, k++ ? "," : "",
				risk_reason_str((enum risk_reason)i), p->rejected[i]);
	fputs("},\"fees\":{", f);
	for (size_t i = 0; i < p->n_fees; i++) {
		fmt18(p->fees[i].amt18, t, sizeof t);
		fprintf(f, "%s\"%s\":\"%s\"", i ? "," : "", p->fees[i].asset, t);
	}
	fputs("},\"starting_balances\":", f);
	bal_json(f, p->start, p->n_start);
	fputs(",\"final_balances\":", f);
	bal_json(f, p->final, p->n_final);
	fputs(",\"pnl\":", f);
	pnl_json(f, p);
	fputs(",\"pnl_home\":{\"asset\":", f);
	json_str(f, p->home);
	fputs(",\"value\":", f);
	json_num(f, p->pnl_home);
	fputs(",\"unpriced\":", f);
	json_str(f, p->unpriced);
	fprintf(f,
		"},\"decision_latency_ns\":{\"n\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64
		",\"max\":%" PRIu64 "},\"cycles\":[",
		hist_count(&p->decision), hist_quantile(&p->decision, 0.5),
		hist_quantile(&p->decision, 0.99), hist_max(&p->decision));
	for (size_t i = 0; i < p->n_cycles; i++) {
		const struct replay__cycle *c = &p->cycles[i];
		clock_fmt_rfc3339((int64_t)c->ts_ns, 9, t, sizeof t);
		fprintf(f, "%s{\"opp_id\":%" PRIu64 ",\"ts\":\"%s\",\"cycle\":", i ? "," : "",
			c->opp_id, t);
		json_str(f, c->path);
		fprintf(f, ",\"outcome\":\"%s\",\"expected_profit\":", c->outcome);
		json_num(f, c->expected_profit);
		fputs(",\"realised_profit\":", f);
		json_num(f, c->realised_profit);
		fputc('}', f);
	}
	fprintf(f, "],\"cycles_unlisted\":%" PRIu64 "}\n", p->cycles_unlisted);
}

void replay_report_write_text(const struct replay_report *p, FILE *f)
{
	char t[64];
	fprintf(f, "backtest: %" PRIu64 " events over %" PRIu64 " pairs (%s precisions)", p->events,
		p->symbols, p->inferred ? "inferred" : "instrument");
	if (p->bad_lines)
		fprintf(f, ", %" PRIu64 " bad lines skipped (first: line %u: %s)", p->bad_lines,
			p->first_bad_line, p->first_bad_why);
	fprintf(f,
		"\nopportunities %" PRIu64 ": accepted %" PRIu64 ", executed %" PRIu64
		", failed %" PRIu64 ", missed %" PRIu64 "; %" PRIu64 " legs, %" PRIu64
		" unwind orders\n",
		p->opportunities, p->accepted, p->executed, p->failed, p->missed, p->orders,
		p->unwind_orders);
	if (p->opportunities)
		fprintf(f, "hit rate %.2f%%\n",
			100.0 * (double)p->executed / (double)p->opportunities);
	for (int i = 1; i < RISK__COUNT; i++)
		if (p->rejected[i])
			fprintf(f, "  rejected %-18s %" PRIu64 "\n",
				risk_reason_str((enum risk_reason)i), p->rejected[i]);
	for (size_t i = 0; i < p->n_misses; i++)
		fprintf(f, "  missed: %s: %" PRIu64 "\n", p->misses[i].what, p->misses[i].n);
	for (size_t i = 0; i < p->n_fees; i++) {
		fmt18(p->fees[i].amt18, t, sizeof t);
		fprintf(f, "fees %s %s\n", p->fees[i].asset, t);
	}
	for (size_t i = 0; i < p->n_final; i++) {
		const struct venue_balance *fb = &p->final[i];
		const struct venue_balance *s = find_bal(p->start, p->n_start, fb->asset);
		char a[48], d[48];
		fx_format(fb->amount, fb->scale, a, sizeof a);
		fx_format(fb->amount - units_at(s, fb->scale), fb->scale, d, sizeof d);
		fprintf(f, "balance %-6s %s (change %s)\n", fb->asset, a, d);
	}
	fprintf(f, "PnL in %s: %.10f%s%s\n", p->home, p->pnl_home,
		p->unpriced[0] ? " (not priced: " : "", p->unpriced[0] ? p->unpriced : "");
	if (p->unpriced[0])
		fputs(")\n", f);
	if (hist_count(&p->compute))
		fprintf(f,
			"measured: %.3f s wall, %.0f events/s; %.3f s CPU, %.0f events per CPU "
			"second; per event p50 %" PRIu64 " ns, p99 %" PRIu64
			" ns (not in the JSON report: it varies from run to run)\n",
			p->wall_s, p->wall_s > 0 ? (double)p->events / p->wall_s : 0, p->cpu_s,
			p->cpu_s > 0 ? (double)p->events / p->cpu_s : 0,
			hist_quantile(&p->compute, 0.5), hist_quantile(&p->compute, 0.99));
}

void replay_report_free(struct replay_report *r)
{
	free(r);
}
