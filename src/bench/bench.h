/* Benchmarks and book verification: the engine behind `arbitrade verify-book`
 * and the generated book stream behind `arbitrade profile gen-book-stream`
 * and `make bench` (scripts/bench.sh).
 *
 * Threads: every function runs on its caller's thread and touches only what
 * it is given. Nothing here is on the bot's hot path; the verifier's timed
 * pass runs the hot-path code (kr_decode, book_*) exactly as the market-data
 * thread does, and proves it allocates nothing (core/alloc_count.h). */
#ifndef ARB_BENCH_BENCH_H
#define ARB_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/hist.h"
#include "kraken/codec.h"

/* Messages of the timed pass after which allocations must stop. */
#define BENCH_WARMUP_MESSAGES 1000u

struct bench_verify_opts {
	/* Levels per side of every book: 10, 25, 100, 500 or 1000; 0 takes
	 * each symbol's depth from the book subscribe acknowledgements in the
	 * file, else 10. */
	unsigned depth;
	/* Where to say which pairs' precisions were inferred (one line each);
	 * borrowed for the call; NULL says nothing. */
	FILE *notes;
};

struct bench_verify_result {
	uint64_t lines;		      /* non-blank lines */
	uint64_t messages;	      /* lines holding a message (recording line or raw) */
	uint64_t decoded;	      /* messages kr_decode accepted */
	uint64_t symbols;	      /* books that received at least one book message */
	uint64_t snapshots;	      /* book snapshots applied */
	uint64_t updates;	      /* book updates applied */
	uint64_t level3_snapshots;    /* level3 snapshots checked (level3.c) */
	uint64_t checksum_ok;	      /* book messages whose checksum matched */
	uint64_t checksum_mismatch;   /* ... and did not (book_end ERR_CHECKSUM) */
	uint64_t book_errors;	      /* book_end ERR_FULL or ERR_RANGE */
	uint64_t unverified;	      /* updates skipped: no good snapshot before them
					 (start of file, or since a mismatch), and
					 book messages of a symbol too long for a book */
	uint64_t parse_errors;	      /* lines that are not a message, or that
					 kr_decode dropped */
	uint64_t precision_changes;   /* book messages at another scale than their
					 book (an instrument update changed it) */
	uint32_t inferred;	      /* pairs whose precisions came from a snapshot */
	uint64_t first_mismatch_line; /* 1-based line; 0 = none */
	char first_mismatch_symbol[KR_SYMBOL_MAX];
	uint64_t first_parse_error_line; /* 0 = none */
	char first_parse_error[256];
	uint64_t elapsed_ns;	  /* wall time of the timed pass */
	uint64_t cpu_ns;	  /* CPU time of the thread in the timed pass: the
				     wall time less any time it was not running */
	struct hist latency;	  /* per decoded message: decode + apply + checksum */
	bool allocs_measured;	  /* false under ASan (see alloc_count.h) */
	uint64_t warmup_messages; /* messages before allocations were counted */
	uint64_t allocs_after_warmup;
};

/* Verifies the recording in buf (len bytes; borrowed for the call; lines
 * separated by '\n'; each line a recording line {"recv_ts":..,"msg":{..}} or
 * a raw Kraken v2 message).
 *
 * A first, untimed pass applies the instrument messages and subscribe
 * acknowledgements and, for a symbol no instrument message describes, infers
 * its price and quantity precisions from the most decimals written in its
 * first snapshot (reported through opts->notes and in r->inferred). The books
 * are then created, and the timed pass decodes every message with kr_decode
 * and applies book messages with book_begin, book_set_bid, book_set_ask and
 * book_end, timing each message with clock_mono_ns into r->latency and
 * counting heap calls after the first BENCH_WARMUP_MESSAGES messages.
 *
 * Returns 0 with *r filled (also when checksums mismatch: see the counters),
 * ERR_INVALID for a bad depth, ERR_NOMEM, or ERR_PARSE when not one line
 * decodes as a Kraken message (info says why). Prints nothing but the notes. */
int bench_verify(const char *buf, size_t len, const struct bench_verify_opts *opts,
		 struct bench_verify_result *r, struct err_info *info);

/* Generated book streams. */
#define BENCH_GEN_MAX_PAIRS 1000u

struct bench_gen_opts {
	uint64_t messages; /* lines to write in all, >= 2 * pairs + 2 */
	unsigned pairs;	   /* 1 .. BENCH_GEN_MAX_PAIRS */
	unsigned depth;	   /* 10, 25, 100, 500 or 1000 */
	uint64_t seed;	   /* the same seed writes the same bytes */
	bool raw;	   /* bare messages instead of recording lines */
};

struct bench_gen_stats {
	uint64_t messages;
	uint64_t snapshots;
	uint64_t updates;
	uint64_t levels; /* levels written in updates */
	uint64_t bytes;
};

/* Writes a realistic Kraken v2 session to out: a status message, the
 * instrument snapshot (pairs with their precisions), a book subscribe
 * acknowledgement and a snapshot per pair, then book updates with a
 * heartbeat every 2,000 lines. Each pair's book is a random walk at its own
 * precisions: quantities change, levels appear and disappear, prices cross
 * into the spread, levels fall below the depth (Kraken does not send those)
 * and come back; numbers are written with the pair's full precision, and
 * every checksum is Kraken's CRC32 over the book after the message.
 * Lines are recording lines ({"recv_ts":"...","msg":...}) unless opts->raw.
 * Returns 0, ERR_INVALID (bad options, info says which), ERR_NOMEM, or
 * -errno when writing fails. */
int bench_gen_book_stream(FILE *out, const struct bench_gen_opts *opts, struct bench_gen_stats *st,
			  struct err_info *info);

#endif
