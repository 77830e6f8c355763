/* Nonces: strictly increasing, unique across threads, above every earlier
 * nonce after a restart or a crash and when the wall clock steps back; the
 * mark file is strict about its contents and private. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kraken/sign.h"

#define HOUR_NS (3600LL * 1000000000LL)
#define T0_NS	(1700000000LL * 1000000000LL) /* 2023-11-14, a plausible "now" */
#define T0_US	((uint64_t)(T0_NS / 1000))

/* A test clock whose wall reading the test sets (and threads may read). */
struct tclock {
	_Atomic int64_t wall_ns;
	struct clock clk;
};

static int64_t t_wall(void *ctx)
{
	return atomic_load(&((struct tclock *)ctx)->wall_ns);
}

static uint64_t t_mono(void *ctx)
{
	return (uint64_t)atomic_load(&((struct tclock *)ctx)->wall_ns);
}

static void tclock_init(struct tclock *t, int64_t wall_ns)
{
	atomic_init(&t->wall_ns, wall_ns);
	t->clk.wall_ns = t_wall;
	t->clk.mono_ns = t_mono;
	t->clk.ctx = t;
}

static void tclock_set(struct tclock *t, int64_t wall_ns)
{
	atomic_store(&t->wall_ns, wall_ns);
}

static char tmpdir[256];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/arb-nonce-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_of(char *buf, size_t cap, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	assert_int_equal(fclose(f), 0);
	return n;
}

/* The mark on disk, which must be a well-formed line. */
static uint64_t read_mark(const char *path)
{
	char buf[64], *end;
	unsigned long long v;
	size_t n = read_text(path, buf, sizeof(buf));

	assert_true(n >= 2 && buf[n - 1] == '\n');
	errno = 0;
	v = strtoull(buf, &end, 10);
	assert_int_equal(errno, 0);
	assert_ptr_equal(end, buf + n - 1);
	return v;
}

static struct kr_nonce *open_ok(const char *path, const struct clock *clk)
{
	struct err_info info = {0};
	struct kr_nonce *n = kr_nonce_open(path, clk, &info);

	if (!n)
		fail_msg("kr_nonce_open(%s): %d %s", path, info.code, info.msg);
	return n;
}

static uint64_t next_ok(struct kr_nonce *n)
{
	uint64_t v = 0;

	assert_int_equal(kr_nonce_next(n, &v), 0);
	return v;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_increasing_system_clock(void **state)
{
	char path[512];
	struct kr_nonce *n;
	uint64_t before, first, prev;

	(void)state;
	path_of(path, sizeof(path), "system.txt");
	before = now_us();
	n = open_ok(path, NULL);
	first = next_ok(n);
	/* Microseconds since the epoch, from the system clock. */
	assert_true(first >= before);
	assert_true(first <= now_us());
	prev = first;
	for (int i = 1; i < 100000; i++) {
		uint64_t v = next_ok(n);

		if (v <= prev)
			fail_msg("call %d: %llu after %llu", i, (unsigned long long)v,
				 (unsigned long long)prev);
		prev = v;
	}
	/* The disk never lags what was issued. */
	assert_true(read_mark(path) >= prev);
	kr_nonce_free(n);
	assert_int_equal(read_mark(path), prev);
}

/* A frozen clock: each nonce is the previous + 1; a clock jump forward is
 * followed and persisted before the nonce is handed out. */
static void test_frozen_and_jumping_clock(void **state)
{
	char path[512];
	struct tclock tc;
	struct kr_nonce *n;
	uint64_t v;

	(void)state;
	tclock_init(&tc, T0_NS);
	path_of(path, sizeof(path), "frozen.txt");
	n = open_ok(path, &tc.clk);
	/* The first block is reserved at open. */
	assert_int_equal(read_mark(path), T0_US + KR_NONCE_RESERVE_US);
	for (uint64_t i = 0; i < 100000; i++)
		assert_int_equal(next_ok(n), T0_US + i);
	tclock_set(&tc, T0_NS + HOUR_NS);
	v = next_ok(n);
	assert_int_equal(v, T0_US + 3600000000u);
	assert_int_equal(read_mark(path), v + KR_NONCE_RESERVE_US);
	/* Run through a whole block on the frozen clock: a new mark follows. */
	for (uint64_t i = 1; i <= KR_NONCE_RESERVE_US + 1; i++) {
		uint64_t w = next_ok(n);

		if (w != v + i)
			fail_msg("got %llu want %llu", (unsigned long long)w,
				 (unsigned long long)(v + i));
	}
	assert_int_equal(read_mark(path), v + KR_NONCE_RESERVE_US + 1 + KR_NONCE_RESERVE_US);
	kr_nonce_free(n);
}

static void test_clock_steps_back(void **state)
{
	char path[512];
	struct tclock tc;
	struct kr_nonce *n;
	uint64_t a, b, c, d;

	(void)state;
	tclock_init(&tc, T0_NS);
	path_of(path, sizeof(path), "back.txt");
	n = open_ok(path, &tc.clk);
	a = next_ok(n);
	assert_int_equal(a, T0_US);
	tclock_set(&tc, T0_NS - HOUR_NS);
	b = next_ok(n);
	assert_int_equal(b, a + 1);
	c = next_ok(n);
	assert_int_equal(c, b + 1);
	/* Before the epoch, too. */
	tclock_set(&tc, -5);
	assert_int_equal(next_ok(n), c + 1);
	/* Once the clock passes the last nonce, nonces follow it again. */
	tclock_set(&tc, T0_NS + 1000000);
	d = next_ok(n);
	assert_int_equal(d, T0_US + 1000);
	kr_nonce_free(n);
}

struct worker {
	struct kr_nonce *n;
	pthread_barrier_t *start;
	uint64_t *out;
	size_t count;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	/* All threads call at once, so they contend from the first call. */
	pthread_barrier_wait(w->start);
	for (size_t i = 0; i < w->count; i++) {
		int rc = kr_nonce_next(w->n, &w->out[i]);

		if (rc != 0) {
			w->rc = rc;
			return NULL;
		}
		/* Each thread sees its own nonces increase. */
		if (i > 0 && w->out[i] <= w->out[i - 1]) {
			w->rc = -1;
			return NULL;
		}
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define THREADS	   4
#define PER_THREAD 50000

static uint64_t run_threads(struct kr_nonce *n, uint64_t *all)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];
	pthread_barrier_t start;
	size_t total = THREADS * PER_THREAD;
	int created = 0, joined = 0;

	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int t = 0; t < THREADS; t++) {
		w[t] = (struct worker){n, &start, all + (size_t)t * PER_THREAD, PER_THREAD, 0};
		created += pthread_create(&th[t], NULL, work, &w[t]) == 0;
	}
	/* Join before asserting: a failed assert must not leave threads
	 * writing into this frame. */
	for (int t = 0; t < created; t++)
		joined += pthread_join(th[t], NULL) == 0;
	assert_int_equal(created, THREADS);
	assert_int_equal(joined, THREADS);
	pthread_barrier_destroy(&start);
	for (int t = 0; t < THREADS; t++)
		if (w[t].rc != 0)
			fail_msg("thread %d: %d (-1: its own nonces did not increase)", t, w[t].rc);
	qsort(all, total, sizeof(all[0]), cmp_u64);
	for (size_t i = 1; i < total; i++)
		if (all[i] == all[i - 1])
			fail_msg("duplicate nonce %llu", (unsigned long long)all[i]);
	return all[total - 1];
}

static void test_threads_system_clock(void **state)
{
	char path[512];
	struct kr_nonce *n;
	uint64_t *all = calloc(THREADS * PER_THREAD, sizeof(uint64_t));
	uint64_t max;

	(void)state;
	assert_non_null(all);
	path_of(path, sizeof(path), "threads.txt");
	n = open_ok(path, NULL);
	max = run_threads(n, all);
	assert_true(read_mark(path) >= max);
	assert_true(next_ok(n) > max);
	kr_nonce_free(n);
	free(all);
}

/* A frozen clock makes every call contend on last + 1: the nonces issued are
 * then exactly the consecutive run from the clock's value. */
static void test_threads_frozen_clock(void **state)
{
	char path[512];
	struct tclock tc;
	struct kr_nonce *n;
	uint64_t *all = calloc(THREADS * PER_THREAD, sizeof(uint64_t));

	(void)state;
	assert_non_null(all);
	tclock_init(&tc, T0_NS);
	path_of(path, sizeof(path), "threads-frozen.txt");
	n = open_ok(path, &tc.clk);
	run_threads(n, all);
	for (size_t i = 0; i < THREADS * PER_THREAD; i++)
		if (all[i] != T0_US + i)
			fail_msg("nonce %zu: %llu", i, (unsigned long long)all[i]);
	kr_nonce_free(n);
	free(all);
}

static void test_restart(void **state)
{
	char path[512];
	struct tclock tc;
	struct kr_nonce *n;
	uint64_t last = 0;

	(void)state;
	tclock_init(&tc, T0_NS);
	path_of(path, sizeof(path), "restart.txt");
	n = open_ok(path, &tc.clk);
	for (int i = 0; i < 1000; i++)
		last = next_ok(n);
	kr_nonce_free(n);
	/* A clean shutdown leaves the last nonce issued as the mark. */
	assert_int_equal(read_mark(path), last);

	/* Same clock: continue right above. */
	n = open_ok(path, &tc.clk);
	assert_int_equal(next_ok(n), last + 1);
	last = next_ok(n);
	kr_nonce_free(n);

	/* The clock set back an hour while stopped: still above. */
	tclock_set(&tc, T0_NS - HOUR_NS);
	n = open_ok(path, &tc.clk);
	assert_int_equal(next_ok(n), last + 1);
	last += 1;
	kr_nonce_free(n);

	/* The system clock is years past T0: nonces follow it. */
	n = open_ok(path, NULL);
	assert_true(next_ok(n) >= now_us() - 1000000);
	kr_nonce_free(n);
	assert_true(read_mark(path) > last);
}

/* A crash (no kr_nonce_free) after nonces ran ahead of the clock: the next
 * run, with the clock an hour back, still starts above them. */
static void test_crash(void **state)
{
	char path[512];
	struct tclock tc;
	struct kr_nonce *n;
	int fds[2], status;
	uint64_t child_last = 0, v;
	pid_t pid;

	(void)state;
	path_of(path, sizeof(path), "crash.txt");
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t last = 0;

		close(fds[0]);
		tclock_init(&tc, T0_NS);
		n = kr_nonce_open(path, &tc.clk, NULL);
		if (!n)
			_exit(1);
		/* Past the first reserved block, on a frozen clock. */
		for (uint64_t i = 0; i < KR_NONCE_RESERVE_US + 5000; i++)
			if (kr_nonce_next(n, &last) != 0)
				_exit(2);
		if (write(fds[1], &last, sizeof(last)) != (ssize_t)sizeof(last))
			_exit(3);
		_exit(0); /* no kr_nonce_free: the mark stays reserved ahead */
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &child_last, sizeof(child_last)),
			 (ssize_t)sizeof(child_last));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(child_last, T0_US + KR_NONCE_RESERVE_US + 4999);
	assert_true(read_mark(path) >= child_last);

	tclock_init(&tc, T0_NS - HOUR_NS);
	n = open_ok(path, &tc.clk);
	v = next_ok(n);
	assert_true(v > child_last);
	assert_true(next_ok(n) > v);
	kr_nonce_free(n);
}

static void test_corrupt(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} bad[] = {
	    {"", 0},
	    {"\n", 1},
	    {"abc\n", 4},
	    {"1700000000000000", 16}, /* no newline */
	    {"0123\n", 5},
	    {"12 \n", 4},
	    {" 12\n", 4},
	    {"12\n\n", 4},
	    {"12\nx", 4},
	    {"-5\n", 3},
	    {"+5\n", 3},
	    {"1e9\n", 4},
	    {"0x10\n", 5},
	    {"18446744073709551616\n", 21},  /* 2^64 */
	    {"99999999999999999999\n", 21},  /* 20 digits, too big */
	    {"100000000000000000000\n", 22}, /* 21 digits */
	    {"1700000000000000000000000\n", 26},
	    {"17\0000\n", 5},
	    {"1700000000000000\r\n", 18},
	};
	char path[512], after[64];
	struct tclock tc;

	(void)state;
	tclock_init(&tc, T0_NS);
	path_of(path, sizeof(path), "corrupt.txt");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err_info info = {0};
		struct kr_nonce *n;

		write_text(path, bad[i].text, bad[i].len);
		n = kr_nonce_open(path, &tc.clk, &info);
		if (n)
			fail_msg("case %zu accepted", i);
		assert_int_equal(info.code, ERR_PARSE);
		assert_non_null(strstr(info.msg, path));
		/* Not reset: the file is as it was. */
		assert_int_equal(read_text(path, after, sizeof(after)), bad[i].len);
		assert_memory_equal(after, bad[i].text, bad[i].len);
	}
	/* No err_info: still NULL. */
	assert_null(kr_nonce_open(path, &tc.clk, NULL));

	/* Well-formed values at the edges open. */
	write_text(path, "0\n", 2);
	kr_nonce_free(open_ok(path, &tc.clk));
	write_text(path, "1800000000000000\n", 17);
	{
		struct kr_nonce *n = open_ok(path, &tc.clk);

		assert_int_equal(next_ok(n), 1800000000000001u);
		kr_nonce_free(n);
	}
}

static void test_not_a_file(void **state)
{
	char path[512];
	struct err_info info = {0};

	(void)state;
	path_of(path, sizeof(path), "isdir.txt");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(kr_nonce_open(path, NULL, &info));
	assert_true(info.code < 0);
	assert_non_null(strstr(info.msg, path));

	info.code = 0;
	assert_null(kr_nonce_open(NULL, NULL, &info));
	assert_int_equal(info.code, ERR_INVALID);
	info.code = 0;
	assert_null(kr_nonce_open("", NULL, &info));
	assert_int_equal(info.code, ERR_INVALID);
	info.code = 0;
	path_of(path, sizeof(path), "dir/");
	assert_null(kr_nonce_open(path, NULL, &info));
	assert_int_equal(info.code, ERR_INVALID);
}

static void assert_mode(const char *path, mode_t want)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 07777) != want)
		fail_msg("%s: mode %o, want %o", path, (unsigned)(st.st_mode & 07777),
			 (unsigned)want);
}

static void test_modes(void **state)
{
	char dir[512], path[512], lock[600], tmp[600];
	mode_t old = umask(0);
	struct kr_nonce *n;

	(void)state;
	/* umask 0 must not widen anything; missing parents are created. */
	path_of(dir, sizeof(dir), "m1");
	path_of(path, sizeof(path), "m1/m2/m3/nonce.txt");
	n = open_ok(path, NULL);
	next_ok(n);
	assert_mode(path, 0600);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	assert_mode(lock, 0600);
	assert_mode(dir, 0700);
	path_of(dir, sizeof(dir), "m1/m2");
	assert_mode(dir, 0700);
	path_of(dir, sizeof(dir), "m1/m2/m3");
	assert_mode(dir, 0700);
	kr_nonce_free(n);
	assert_mode(path, 0600);

	/* A temp file left behind with a wide mode does not widen the file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	write_text(tmp, "junk", 4);
	assert_int_equal(chmod(tmp, 0666), 0);
	n = open_ok(path, NULL);
	assert_mode(path, 0600);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed into place */
	kr_nonce_free(n);
	umask(old);

	/* A path whose parent is a file fails with the path in the message. */
	{
		struct err_info info = {0};

		path_of(path, sizeof(path), "m1/m2/m3/nonce.txt/sub/nonce.txt");
		assert_null(kr_nonce_open(path, NULL, &info));
		assert_int_equal(info.code, -ENOTDIR);
		assert_non_null(strstr(info.msg, path));
	}
}

/* One handle per file: a second opener, in this process or another, fails
 * instead of issuing the same nonces. */
static void test_lock(void **state)
{
	char path[512];
	struct err_info info = {0};
	struct kr_nonce *a, *b;

	(void)state;
	path_of(path, sizeof(path), "locked.txt");
	a = open_ok(path, NULL);
	assert_null(kr_nonce_open(path, NULL, &info));
	assert_int_equal(info.code, ERR_BADSTATE);
	assert_non_null(strstr(info.msg, path));
	kr_nonce_free(a);
	b = open_ok(path, NULL);
	kr_nonce_free(b);
}

/* When the mark cannot be written, no nonce past it is issued; nonces within
 * the reservation still are. */
static void test_persist_failure(void **state)
{
	char dir[512], path[512], lock[600];
	struct tclock tc;
	struct kr_nonce *n;
	uint64_t a, v = 0;

	(void)state;
	tclock_init(&tc, T0_NS);
	path_of(dir, sizeof(dir), "vanish");
	path_of(path, sizeof(path), "vanish/nonce.txt");
	snprintf(lock, sizeof(lock), "%s.lock", path);
	n = open_ok(path, &tc.clk);
	a = next_ok(n);
	/* Remove the directory under the open handle. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(rmdir(dir), 0);
	tclock_set(&tc, T0_NS + HOUR_NS);
	assert_int_equal(kr_nonce_next(n, &v), -ENOENT);
	assert_int_equal(v, 0);
	assert_int_equal(kr_nonce_next(n, &v), -ENOENT);
	tclock_set(&tc, T0_NS);
	assert_int_equal(next_ok(n), a + 1);
	kr_nonce_free(n);
}

static void test_exhausted(void **state)
{
	char path[512];
	struct tclock tc;
	struct err_info info = {0};
	struct kr_nonce *n;
	uint64_t v;

	(void)state;
	tclock_init(&tc, T0_NS);
	path_of(path, sizeof(path), "max.txt");
	write_text(path, "18446744073709551615\n", 21);
	assert_null(kr_nonce_open(path, &tc.clk, &info));
	assert_int_equal(info.code, ERR_RANGE);
	assert_non_null(strstr(info.msg, path));

	write_text(path, "18446744073709551613\n", 21);
	n = open_ok(path, &tc.clk);
	assert_int_equal(read_mark(path), UINT64_MAX);
	assert_int_equal(next_ok(n), UINT64_MAX - 1);
	assert_int_equal(next_ok(n), UINT64_MAX);
	v = 7;
	assert_int_equal(kr_nonce_next(n, &v), ERR_RANGE);
	assert_int_equal(v, 7);
	kr_nonce_free(n);
	assert_int_equal(read_mark(path), UINT64_MAX);
}

static void test_default_path(void **state)
{
	struct secret *key = secret_new("abc", 3);
	struct secret *empty = secret_new("", 0);
	/* SHA256("abc") = ba7816bf8f01cfea... */
	const char *want = "/var/lib/arb/nonce-ba7816bf8f01.txt";
	char out[128];

	(void)state;
	assert_non_null(key);
	assert_non_null(empty);
	assert_int_equal(kr_nonce_default_path(key, "/var/lib/arb", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(kr_nonce_default_path(key, "/var/lib/arb//", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(kr_nonce_default_path(key, "/", out, sizeof(out)), 0);
	assert_string_equal(out, "/nonce-ba7816bf8f01.txt");
	assert_int_equal(kr_nonce_default_path(key, "state", out, sizeof(out)), 0);
	assert_string_equal(out, "state/nonce-ba7816bf8f01.txt");

	/* Exactly enough room, then one byte short. */
	assert_int_equal(kr_nonce_default_path(key, "/var/lib/arb", out, strlen(want) + 1), 0);
	assert_string_equal(out, want);
	memset(out, 'x', sizeof(out));
	assert_int_equal(kr_nonce_default_path(key, "/var/lib/arb", out, strlen(want)), ERR_RANGE);
	assert_int_equal(out[0], '\0');

	assert_int_equal(kr_nonce_default_path(empty, "/d", out, sizeof(out)), ERR_INVALID);
	assert_int_equal(kr_nonce_default_path(NULL, "/d", out, sizeof(out)), ERR_INVALID);
	assert_int_equal(kr_nonce_default_path(key, "", out, sizeof(out)), ERR_INVALID);
	assert_int_equal(kr_nonce_default_path(key, NULL, out, sizeof(out)), ERR_INVALID);
	assert_int_equal(kr_nonce_default_path(key, "/d", NULL, 10), ERR_INVALID);
	secret_free(key);
	secret_free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_increasing_system_clock),
	    cmocka_unit_test(test_frozen_and_jumping_clock),
	    cmocka_unit_test(test_clock_steps_back),
	    cmocka_unit_test(test_threads_system_clock),
	    cmocka_unit_test(test_threads_frozen_clock),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_crash),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_not_a_file),
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_persist_failure),
	    cmocka_unit_test(test_exhausted),
	    cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
