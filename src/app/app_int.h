/* Shared by the app module's .c files only. */
#ifndef ARB_APP_APP_INT_H
#define ARB_APP_APP_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

/* Exit statuses. */
enum { APP_OK = 0, APP_FAIL = 1, APP_USAGE = 2 };

struct app_cmd {
	const char *name;
	const char *summary;
	const char *usage; /* options, one per line, printed by --help */
	int (*fn)(int argc, char **argv);
};

/* Every command, in the order `arbitrade --help` lists them. */
extern const struct app_cmd app__cmds[];
extern const size_t app__ncmds;

/* Prints "usage: arbitrade <name> ..." and the command's options to f. */
void app__usage(FILE *f, const struct app_cmd *c);
const struct app_cmd *app__find(const char *name);

/* Loads configuration (env_file NULL = ./.env) and reports an error on
 * stderr naming key and value; returns APP_OK or APP_USAGE (exit 2). */
int app__load_config(struct config *cfg, const char *env_file);

/* Reads all of stdin (at most cap-1 bytes), strips one trailing newline,
 * NUL-terminates. With prompt and a terminal on stdin, echo is turned off
 * while reading. Returns the length or -1 with a message on stderr. */
long app__read_stdin(char *buf, size_t cap, const char *prompt);

/* Signal handling for long-running commands: the first SIGINT/SIGTERM asks
 * for a clean stop, a second one exits at once. */
void app__signals_install(void);
bool app__stop_requested(void);

struct store;
struct web_buf;
struct web_deps;

/* Enqueues an audit event (actor, action, detail as a JSON object or NULL)
 * stamped now; a full ring is logged, never blocks. Any thread. */
void app__audit(struct store *s, enum trading_mode mode, const char *actor, const char *action,
		const char *detail);

/* Operator controls (control.c): process-wide flags that any thread reads
 * with one atomic load, set from the dashboard (and later risk). Every change
 * is an audit event with its actor ("operator:<user>", "risk", "system").
 *   app__control_init: once in `run`, after the store opens (cfg borrowed
 *     for the call; store borrowed until app__control_release, which must
 *     run before store_close). Mode starts as TRADING_MODE; live is
 *     allowed only with KRAKEN_API_KEY and KRAKEN_API_SECRET set.
 *   app__control_paused/killed/mode: for the execution thread: place no new
 *     cycle while paused or killed; trade against the venue of mode().
 *   app__control_pause: 0, or ERR_BADSTATE after the kill switch.
 *   app__control_kill: latches killed (and paused) until restart; 0.
 *   app__control_set_mode: NULL when done (or already so), else a static
 *     text saying why not (no credentials, killed); audited either way.
 *   app__control_snapshot: fills mode, paused, killed, live_available.
 *   app__control_web_deps: sets deps' snapshot, pause, kill, set_mode and
 *     audit callbacks (they ignore deps->ctx). A pipeline that publishes
 *     more of the snapshot replaces deps->snapshot with its own that calls
 *     app__control_snapshot first. */
struct web_snapshot;
struct risk;
void app__control_init(const struct config *cfg, struct store *store);
/* The pipeline's risk state (borrowed until attached NULL): pause/resume
 * call risk_pause/risk_resume, kill calls risk_kill with the actor as
 * reason. venue_fixed: the pipeline trades on a venue chosen at start, so
 * set_mode to the other mode is refused with a text saying to restart. */
void app__control_attach(struct risk *r, bool venue_fixed);
void app__control_release(void);
bool app__control_paused(void);
bool app__control_killed(void);
enum trading_mode app__control_mode(void);
int app__control_pause(bool paused, const char *actor);
int app__control_kill(const char *actor);
const char *app__control_set_mode(enum trading_mode m, const char *actor);
void app__control_snapshot(struct web_snapshot *out);
void app__control_web_deps(struct web_deps *deps);

/* Process rules checked before anything starts (prod refuses root, a key
 * with withdrawal rights). Prints the reason on stderr; returns 0 or -1. */
int app__check_process(const struct config *cfg);

/* Sets the file-creation mask to 077, so every file and directory any
 * command creates is owner-only. app_main calls it before every command. */
void app__process_init(void);

/* What `arbitrade run` starts besides storage and the web server. */
struct app_run_opts {
	bool market_data; /* false with --no-market-data */
};

/* The pipeline of `arbitrade run`: market data, detector, risk, execution.
 * app__pipeline_new borrows cfg and store until app__pipeline_free and
 * returns it owned, or NULL after logging why. web_deps lets it add its
 * callbacks before the web server starts. run blocks on the main thread until
 * a stop is requested (signal), then stops its threads; returns 0 or an
 * ERR_* code. health appends its members to /health (web thread). */
struct app_pipeline;
struct app_pipeline *app__pipeline_new(const struct config *cfg, struct store *store,
				       const struct app_run_opts *opts);
void app__pipeline_web_deps(struct app_pipeline *p, struct web_deps *deps);
int app__pipeline_run(struct app_pipeline *p);
void app__pipeline_health(struct app_pipeline *p, struct web_buf *out);
void app__pipeline_free(struct app_pipeline *p);

/* Market data (md.c): the public Kraken WS connection, its books and the
 * counters /health shows. One struct app_md runs on one thread: its own
 * (app__md_start, for run) or the caller's (app__md_run, for record). */
struct app_md;
struct book;

/* After every change of a book (each applied message whatever its outcome,
 * each invalidation on disconnect: check book_valid), on the md thread; b is
 * borrowed during the call. The detector's entry point (arb_on_book wants
 * every change). pair_id is the decoder's kr_pair.id. */
typedef void (*app_md_book_fn)(void *ctx, const struct book *b, uint32_t pair_id, uint64_t recv_ns);
/* Books were created or rebuilt (instrument snapshot, new pairs, a pair's
 * precision changed): rebind them (kr_ws_feed_book_count/kr_ws_feed_book,
 * kr_ws_feed_decoder for the pairs). md thread, between book messages. */
struct kr_ws_feed;
typedef void (*app_md_books_fn)(void *ctx, const struct kr_ws_feed *feed);
/* Every frame received, exactly as received (borrowed during the call),
 * stamped recv_ns (clock_mono_ns), after it was applied; decode_rc is
 * kr_decode's result (0 or the ERR_* of a rejected frame). md thread. */
typedef void (*app_md_tap_fn)(void *ctx, const char *frame, size_t len, uint64_t recv_ns,
			      int decode_rc);

struct app_md_opts {
	const char *symbols; /* NULL: BOOK_SYMBOLS; borrowed during app__md_new */
	app_md_book_fn on_book;
	void *on_book_ctx;
	app_md_books_fn on_books;
	void *on_books_ctx;
	app_md_tap_fn tap;
	void *tap_ctx;
};

/* What the md thread publishes (seqlock), read from any thread. */
struct app_md_health {
	uint64_t connected; /* 1 while the connection is open */
	uint64_t system;    /* enum kr_system_status of the last status message */
	uint64_t books, books_live, books_invalid, books_stale, books_missing;
	uint64_t messages, parse_errors, book_messages;
	uint64_t checksum_failures, resubscribes, subscribe_errors;
	uint64_t reconnects, watchdog, oversize;
	uint64_t msg_rate_milli; /* messages per second * 1000, over the last second or so */
	uint64_t published_ns;	 /* clock_mono_ns of this reading; 0 before the first */
};

/* Creates the client (cfg->kraken URL and timings, cfg->book depth) and the
 * session; connects once running. cfg is borrowed until app__md_free.
 * Returned owned, or NULL after logging why (bad URL or symbols). */
struct app_md *app__md_new(const struct config *cfg, const struct app_md_opts *o);
/* Runs on the calling thread until app__md_stop, a stop signal
 * (app__stop_requested) or deadline_ns (clock_mono_ns; 0: none). */
int app__md_run(struct app_md *m, uint64_t deadline_ns);
/* Runs app__md_run on a new thread. Returns 0 or -errno. */
int app__md_start(struct app_md *m);
/* Asks the md loop to stop and, when app__md_start started it, joins the
 * thread. Any thread but the md thread. */
void app__md_stop(struct app_md *m);
/* The feed session (its status, books, decoder): md thread only, or
 * before the thread starts. Borrowed until app__md_free. */
const struct kr_ws_feed *app__md_feed(const struct app_md *m);
/* The last published counters. Any thread; never blocks the md thread. */
void app__md_read(const struct app_md *m, struct app_md_health *out);
/* Appends "feed":{...} to /health from app__md_read (web thread). */
void app__md_health_json(const struct app_md *m, struct web_buf *out);
void app__md_free(struct app_md *m); /* stops first; NULL does nothing */

int app__cmd_record(int argc, char **argv);

int app__cmd_run(int argc, char **argv);
int app__cmd_migrate(int argc, char **argv);
int app__cmd_sim(int argc, char **argv);
int app__cmd_audit_archive(int argc, char **argv);
int app__cmd_secrets(int argc, char **argv);
/* `arbitrade account` (cmd_account.c). */
int app__cmd_account(int argc, char **argv);
int app__cmd_config(int argc, char **argv);
int app__cmd_cycles(int argc, char **argv);

/* The detector's universe (cmd_cycles.c; files are read with
 * kr_universe_load_file). app__arb_pairs_from_kraken converts d's table to arb pairs, out[i] for
 * pair id i (so arb pair indices are kr_pair ids), tradable = status online,
 * fee unknown (ARB_TAKER_FEE_BPS until the account tier is known); pairs
 * whose names are too long for the detector stay in place as not tradable
 * (*n_skipped, when not NULL). Returns the count, or ERR_FULL above cap. The
 * live pipeline calls it after each instrument message, then
 * arb_set_universe (or arb_graph_new + arb_install). */
struct kr_decoder;
struct arb_pair;
int app__arb_pairs_from_kraken(const struct kr_decoder *d, struct arb_pair *out, uint32_t cap,
			       uint32_t *n_skipped, struct err_info *info);
int app__cmd_verify_book(int argc, char **argv);
int app__cmd_profile(int argc, char **argv);
int app__cmd_metrics(int argc, char **argv);
int app__cmd_backtest(int argc, char **argv);
int app__cmd_kill(int argc, char **argv);

#endif
