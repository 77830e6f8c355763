/* A test-only stand-in for the simulator's market (sim.c, market.c): the
 * seams of sim_int.h over two fixed books, so the accounts and the REST
 * side can be tested on their own. Included by tests/unit/sim/test_rest*.c;
 * the real struct sim is never linked into those binaries. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "sim/sim_int.h"

struct sim {
	pthread_mutex_t mu;
	struct kr_pair pairs[2];
	struct book *books[2];
	struct sim_accounts *accts;
	const char *scenario;
	enum kr_system_status status;
	int consumed;	      /* sim__book_consume calls */
	int64_t consumed_qty; /* their total qty */
	char consumed_side;   /* the last side */
};

void sim__lock(struct sim *s)
{
	pthread_mutex_lock(&s->mu);
}

void sim__unlock(struct sim *s)
{
	pthread_mutex_unlock(&s->mu);
}

size_t sim__pair_count(const struct sim *s)
{
	(void)s;
	return 2;
}

const struct kr_pair *sim__pair(const struct sim *s, size_t i)
{
	return i < 2 ? &s->pairs[i] : NULL;
}

long sim__pair_find(const struct sim *s, const char *symbol)
{
	for (long i = 0; i < 2; i++)
		if (symbol && strcmp(s->pairs[i].symbol, symbol) == 0)
			return i;
	return -1;
}

const struct book *sim__book(const struct sim *s, size_t i)
{
	return i < 2 ? s->books[i] : NULL;
}

/* Removes qty from the best levels of side, as the real market does. */
int sim__book_consume(struct sim *s, size_t i, char side, int64_t limit_price, int64_t qty)
{
	struct book *b = s->books[i];
	struct book_level lv[64];
	size_t n = 0;
	const struct book_level *src = side == 'a' ? book_asks(b, &n) : book_bids(b, &n);
	int64_t left = qty;

	(void)limit_price;
	s->consumed++;
	s->consumed_qty += qty;
	s->consumed_side = side;
	if (n > 64)
		n = 64;
	memcpy(lv, src, n * sizeof(lv[0]));
	book_begin(b, false);
	for (size_t k = 0; k < n && left > 0; k++) {
		int64_t take = lv[k].qty < left ? lv[k].qty : left;

		left -= take;
		if (side == 'a')
			book_set_ask(b, lv[k].price, lv[k].qty - take);
		else
			book_set_bid(b, lv[k].price, lv[k].qty - take);
	}
	book_end(b, 0, 0); /* the fake publishes nothing: the checksum is not used */
	return 0;
}

enum kr_system_status sim__system_status(const struct sim *s)
{
	return s->status;
}

const char *sim__scenario_text(const struct sim *s, size_t *len)
{
	*len = strlen(s->scenario);
	return s->scenario;
}

struct sim_accounts **sim__accounts_slot(struct sim *s)
{
	return &s->accts;
}

static void fake_pair(struct kr_pair *p, const char *sym, const char *base, const char *quote,
		      int pp, int qp)
{
	memset(p, 0, sizeof(*p));
	strncpy(p->symbol, sym, sizeof(p->symbol) - 1);
	strncpy(p->base, base, sizeof(p->base) - 1);
	strncpy(p->quote, quote, sizeof(p->quote) - 1);
	p->status = KR_PAIR_STATUS_ONLINE;
	p->price_precision = pp;
	p->qty_precision = qp;
	p->cost_precision = 5;
	p->price_increment = 1;
	p->qty_increment = 1;
	p->qty_min = 10000;  /* 0.0001 at 8 decimals */
	p->cost_min = 50000; /* 0.5 at 5 decimals */
}

static void fake_book(struct book *b, const int64_t (*asks)[2], const int64_t (*bids)[2], size_t n)
{
	book_begin(b, true);
	for (size_t i = 0; i < n; i++) {
		book_set_ask(b, asks[i][0], asks[i][1]);
		book_set_bid(b, bids[i][0], bids[i][1]);
	}
	book_end(b, 0, 0);
}

/* BTC/USD (price 1 decimal, qty 8): asks 30000.0 x 0.5, 30010.0 x 1.0;
 * bids 29990.0 x 0.5, 29980.0 x 1.0. ETH/BTC (5, 8): asks 0.05000 x 10,
 * bids 0.04990 x 10. */
static struct sim *fake_sim_new(const char *scenario)
{
	static const int64_t btc_asks[2][2] = {{300000, 50000000}, {300100, 100000000}};
	static const int64_t btc_bids[2][2] = {{299900, 50000000}, {299800, 100000000}};
	static const int64_t eth_asks[1][2] = {{5000, 1000000000}};
	static const int64_t eth_bids[1][2] = {{4990, 1000000000}};
	struct sim *s = calloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	fake_pair(&s->pairs[0], "BTC/USD", "BTC", "USD", 1, 8);
	fake_pair(&s->pairs[1], "ETH/BTC", "ETH", "BTC", 5, 8);
	s->pairs[1].cost_min = 1; /* 0.00001 BTC */
	s->books[0] = book_new("BTC/USD", 1, 8, 10, NULL);
	s->books[1] = book_new("ETH/BTC", 5, 8, 10, NULL);
	fake_book(s->books[0], btc_asks, btc_bids, 2);
	fake_book(s->books[1], eth_asks, eth_bids, 1);
	s->scenario = scenario;
	s->status = KR_SYSTEM_ONLINE;
	return s;
}

static void fake_sim_free(struct sim *s)
{
	book_free(s->books[0]);
	book_free(s->books[1]);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
