/* Replay of a recording: the book messages of one symbol from lines as
 * `arbitrade record` writes them ({"recv_ts":...,"msg":{...}}, or bare
 * messages), applied to the truth book at their recorded pace and looped
 * after a one-second pause. The recording's checksums are not used: the
 * simulator computes its own over what it publishes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "sim/sim_srv.h"

static int add_levels(const struct sim_json *j, int arr, int pscale, int qscale,
		      struct book_level **out, uint32_t *n)
{
	if (!sim__json_is_array(j, arr))
		return ERR_SCHEMA;
	int cnt = j->tok[arr].size;
	*out = calloc(cnt > 0 ? (size_t)cnt : 1, sizeof(**out));
	if (!*out)
		return ERR_NOMEM;
	*n = 0;
	for (int k = 0; k < cnt; k++) {
		int e = sim__json_elem(j, arr, k);
		struct book_level l;
		if (sim__json_fixed(j, sim__json_get(j, e, "price"), pscale, &l.price) != 0 ||
		    sim__json_fixed(j, sim__json_get(j, e, "qty"), qscale, &l.qty) != 0)
			return ERR_SCHEMA;
		(*out)[(*n)++] = l;
	}
	return 0;
}

int sim__replay_load(struct sim *s, size_t idx, const char *path, struct err_info *info)
{
	struct sim_pair *p = &s->pairs[idx];
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	int rc = 0;
	int64_t t0 = 0;
	size_t lineno = 0, skipped = 0;
	if (!f)
		return err_set(info, ERR_INVALID, "scenario: replay file %s: cannot open", path);
	p->replay = calloc(1, sizeof(*p->replay));
	if (!p->replay) {
		rc = err_set(info, ERR_NOMEM, "scenario: replay: out of memory");
		goto cleanup;
	}
	struct sim_replay *r = p->replay;
	size_t cap = 0;
	while ((len = getline(&line, &lcap, f)) > 0) {
		struct sim_json j;
		lineno++;
		if (sim__json_parse(&j, line, (size_t)len) != 0) {
			skipped++;
			continue;
		}
		int msg = sim__json_get(&j, 0, "msg");
		int ts = sim__json_get(&j, 0, "recv_ts");
		if (msg < 0)
			msg = 0;
		int data = sim__json_elem(&j, sim__json_get(&j, msg, "data"), 0);
		int type = sim__json_get(&j, msg, "type");
		if (!sim__json_is(&j, sim__json_get(&j, msg, "channel"), "book") ||
		    !sim__json_is(&j, sim__json_get(&j, data, "symbol"), p->kp.symbol)) {
			sim__json_release(&j);
			continue;
		}
		if (r->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct sim_replay_ev *ne = realloc(r->ev, nc * sizeof(*ne));
			if (!ne) {
				sim__json_release(&j);
				rc = err_set(info, ERR_NOMEM, "scenario: replay: out of memory");
				goto cleanup;
			}
			r->ev = ne;
			cap = nc;
		}
		struct sim_replay_ev *ev = &r->ev[r->n];
		memset(ev, 0, sizeof(*ev));
		ev->snapshot = sim__json_is(&j, type, "snapshot");
		int64_t t = 0;
		char tbuf[64];
		if (ts >= 0 && sim__json_str(&j, ts, tbuf, sizeof(tbuf)) == 0 &&
		    clock_parse_rfc3339(tbuf, strlen(tbuf), &t) == 0) {
			if (r->n == 0)
				t0 = t;
			ev->tick = t > t0 ? (uint64_t)((t - t0) / 1000000 / SIM_TICK_MS) : 0;
		} else {
			ev->tick = (uint64_t)((double)r->n * 1000.0 / (p->ups > 0 ? p->ups : 5) /
					      SIM_TICK_MS);
		}
		int e1 = add_levels(&j, sim__json_get(&j, data, "bids"), p->kp.price_precision,
				    p->kp.qty_precision, &ev->bids, &ev->n_bids);
		int e2 = add_levels(&j, sim__json_get(&j, data, "asks"), p->kp.price_precision,
				    p->kp.qty_precision, &ev->asks, &ev->n_asks);
		sim__json_release(&j);
		if (e1 != 0 || e2 != 0) {
			free(ev->bids);
			free(ev->asks);
			rc = err_set(
			    info, ERR_SCHEMA,
			    "scenario: replay %s line %zu: a %s level does not fit the pair's "
			    "precision",
			    path, lineno, p->kp.symbol);
			goto cleanup;
		}
		if (ev->snapshot) {
			unsigned d = ev->n_bids > ev->n_asks ? ev->n_bids : ev->n_asks;
			if (d > r->depth)
				r->depth = d;
		}
		r->n++;
	}
	if (r->n == 0 || !r->ev[0].snapshot) {
		rc =
		    err_set(info, ERR_SCHEMA,
			    "scenario: replay %s: no book snapshot for %s at the start (%zu lines, "
			    "%zu unreadable)",
			    path, p->kp.symbol, lineno, skipped);
		goto cleanup;
	}
	if (r->depth < 10)
		r->depth = 10;
cleanup:
	free(line);
	fclose(f);
	return rc;
}

void sim__replay_free(struct sim_replay *r)
{
	if (!r)
		return;
	for (size_t k = 0; k < r->n; k++) {
		free(r->ev[k].bids);
		free(r->ev[k].asks);
	}
	free(r->ev);
	free(r);
}

void sim__replay_step(struct sim *s, size_t i)
{
	struct sim_pair *p = &s->pairs[i];
	struct sim_replay *r = p->replay;
	const size_t cap = 2 * SIM_BOOK_DEPTH;
	while (r->next < r->n && r->start_tick + r->ev[r->next].tick <= s->tick) {
		const struct sim_replay_ev *ev = &r->ev[r->next++];
		size_t nb = 0, na = 0;
		if (!ev->snapshot) {
			nb = sim__top(s, i, 'b', s->scratch_bids, SIM_BOOK_DEPTH);
			na = sim__top(s, i, 'a', s->scratch_asks, SIM_BOOK_DEPTH);
		}
		for (uint32_t k = 0; k < ev->n_bids; k++)
			nb = sim__side_set('b', s->scratch_bids, nb, cap, ev->bids[k].price,
					   ev->bids[k].qty);
		for (uint32_t k = 0; k < ev->n_asks; k++)
			na = sim__side_set('a', s->scratch_asks, na, cap, ev->asks[k].price,
					   ev->asks[k].qty);
		if (nb > r->depth)
			nb = r->depth;
		if (na > r->depth)
			na = r->depth;
		sim__commit(s, i, nb, na);
	}
	if (r->next >= r->n) {
		/* Loop after a one-second pause, from the first snapshot. */
		r->next = 0;
		r->start_tick = s->tick + 1000 / SIM_TICK_MS;
	}
}
