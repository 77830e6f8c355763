/* The one place a decoded book message meets a struct book: the live feed,
 * verify-book and the backtest all apply messages through here. */
#include "book/book.h"
#include "kraken/codec.h"

int kr_book_apply(struct book *b, const struct kr_book_event *e, uint64_t recv_ns)
{
	if (e->price_scale != book_price_scale(b) || e->qty_scale != book_qty_scale(b)) {
		book_invalidate(b);
		return ERR_INVALID;
	}
	book_begin(b, e->snapshot);
	for (uint32_t i = 0; i < e->n_bids; i++)
		book_set_bid(b, e->bids[i].price, e->bids[i].qty);
	for (uint32_t i = 0; i < e->n_asks; i++)
		book_set_ask(b, e->asks[i].price, e->asks[i].qty);
	return book_end(b, e->checksum, recv_ns);
}
