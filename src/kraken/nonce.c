#include <openssl/evp.h>

#include "kraken/sign.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* A mark file is one line of at most 20 digits; anything longer is corrupt. */
#define MARK_TEXT_MAX 22

struct kr_nonce {
	/* The last nonce issued; every issued nonce is <= reserved. */
	_Atomic uint64_t last;
	/* The mark on disk. Stored (release) only once the file holds it. */
	_Atomic uint64_t reserved;
	pthread_mutex_t persist_lock; /* serialises writers of the file */
	const struct clock *clk;
	int dirfd;
	int lockfd;
	char *path; /* as given, for messages */
	char *base; /* file name inside dirfd */
	char *tmp;  /* "<base>.tmp" inside dirfd */
};

static uint64_t wall_us(const struct kr_nonce *n)
{
	int64_t ns = n->clk->wall_ns(n->clk->ctx);

	return ns > 0 ? (uint64_t)ns / 1000 : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Replaces the file with mark: write a temp file, fsync it, rename it over
 * the file, fsync the directory. A crash at any point leaves either the old
 * mark or the new one, never a torn file. */
static int persist(struct kr_nonce *n, uint64_t mark)
{
	char text[MARK_TEXT_MAX];
	size_t len = 0;
	uint64_t v = mark;
	char digits[20];
	size_t nd = 0;
	int fd, rc;

	do {
		digits[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (nd > 0)
		text[len++] = digits[--nd];
	text[len++] = '\n';

	fd = openat(n->dirfd, n->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* A temp file left by a crash keeps its old mode under O_TRUNC. */
	if (fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = write_all(fd, text, len);
	if (rc < 0)
		goto fail;
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (renameat(n->dirfd, n->tmp, n->dirfd, n->base) < 0) {
		rc = -errno;
		goto fail;
	}
	if (fsync(n->dirfd) < 0)
		return -errno;
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlinkat(n->dirfd, n->tmp, 0);
	return rc;
}

/* Makes sure the file allows issuing `want`, writing a new mark a block above
 * it when it does not. */
static int reserve(struct kr_nonce *n, uint64_t want)
{
	uint64_t mark;
	int rc = 0;

	pthread_mutex_lock(&n->persist_lock);
	if (want > atomic_load_explicit(&n->reserved, memory_order_acquire)) {
		mark = add_sat(want, KR_NONCE_RESERVE_US);
		rc = persist(n, mark);
		if (rc == 0)
			atomic_store_explicit(&n->reserved, mark, memory_order_release);
	}
	pthread_mutex_unlock(&n->persist_lock);
	return rc;
}

int kr_nonce_next(struct kr_nonce *n, uint64_t *out)
{
	uint64_t cur;

	assert(n && out);
	cur = atomic_load_explicit(&n->last, memory_order_acquire);
	for (;;) {
		uint64_t now = wall_us(n), next;
		int rc;

		if (cur == UINT64_MAX)
			return ERR_RANGE;
		next = now > cur ? now : cur + 1;
		if (next > atomic_load_explicit(&n->reserved, memory_order_acquire)) {
			rc = reserve(n, next);
			if (rc < 0)
				return rc;
			cur = atomic_load_explicit(&n->last, memory_order_acquire);
			continue;
		}
		/* Winning the exchange makes next ours alone: any other caller
		 * that read the same cur fails and retries above next. */
		if (atomic_compare_exchange_weak_explicit(
			&n->last, &cur, next, memory_order_acq_rel, memory_order_acquire)) {
			*out = next;
			return 0;
		}
	}
}

/* Parses the mark strictly: 1 to 20 digits, no leading zero, in range, and a
 * single newline at the end. */
static int parse_mark(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i, nd;

	if (len < 2 || s[len - 1] != '\n')
		return ERR_PARSE;
	nd = len - 1;
	if (nd > 20 || (nd > 1 && s[0] == '0'))
		return ERR_PARSE;
	for (i = 0; i < nd; i++) {
		unsigned d = (unsigned char)s[i] - (unsigned)'0';

		if (d > 9)
			return ERR_PARSE;
		if (v > (UINT64_MAX - d) / 10)
			return ERR_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Reads the mark; *found is false when the file does not exist. */
static int read_mark(struct kr_nonce *n, uint64_t *mark, bool *found, struct err_info *info)
{
	char buf[MARK_TEXT_MAX + 1];
	size_t len = 0;
	struct stat st;
	int fd, rc;

	*found = false;
	fd = openat(n->dirfd, n->base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		return err_set(info, rc, "nonce file %s: %s", n->path, err_str(rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return err_set(info, rc, "nonce file %s: %s", n->path, err_str(rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(info, ERR_INVALID, "nonce file %s: not a regular file", n->path);
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			close(fd);
			return err_set(info, rc, "nonce file %s: %s", n->path, err_str(rc));
		}
		if (r == 0 || (len += (size_t)r) == sizeof(buf))
			break;
	}
	close(fd);
	if (len == sizeof(buf) || parse_mark(buf, len, mark) < 0)
		return err_set(info, ERR_PARSE,
			       "nonce file %s is corrupt (want one decimal number and a newline); "
			       "not resetting: delete it only if no nonce above the wall clock was "
			       "ever used with this key",
			       n->path);
	*found = true;
	return 0;
}

/* mkdir -p for the directories in path[0, len), new ones 0700. */
static int make_dirs(char *path, size_t len)
{
	size_t i;
	int rc = 0;

	for (i = 1; i <= len; i++) {
		char c;
		struct stat st;

		if (i < len && path[i] != '/')
			continue;
		if (path[i - 1] == '/')
			continue;
		c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) < 0) {
			if (errno != EEXIST)
				rc = -errno;
			else if (stat(path, &st) < 0)
				rc = -errno;
			else if (!S_ISDIR(st.st_mode))
				rc = -ENOTDIR;
		}
		path[i] = c;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int open_dir(struct kr_nonce *n, const char *path, struct err_info *info)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	char *dir;
	int rc = 0;

	if (!slash) {
		n->dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		goto done;
	}
	if (dlen == 0) {
		n->dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		goto done;
	}
	dir = malloc(dlen + 1);
	if (!dir)
		return err_set(info, ERR_NOMEM, "nonce file %s: out of memory", path);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	rc = make_dirs(dir, dlen);
	if (rc == 0)
		n->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (rc < 0)
		return err_set(info, rc, "nonce file %s: creating its directory: %s", path,
			       err_str(rc));
done:
	if (n->dirfd < 0) {
		rc = -errno;
		return err_set(info, rc, "nonce file %s: opening its directory: %s", path,
			       err_str(rc));
	}
	return 0;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

struct kr_nonce *kr_nonce_open(const char *path, const struct clock *clk, struct err_info *info)
{
	struct kr_nonce *n;
	const char *slash;
	char *lockname = NULL;
	uint64_t mark = 0, first;
	bool found;
	int rc;

	if (!path || !*path || path[strlen(path) - 1] == '/') {
		err_set(info, ERR_INVALID, "nonce file path is empty or names a directory");
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		err_set(info, ERR_NOMEM, "nonce file %s: out of memory", path);
		return NULL;
	}
	rc = pthread_mutex_init(&n->persist_lock, NULL);
	if (rc != 0) {
		err_set(info, -rc, "nonce file %s: mutex: %s", path, err_str(-rc));
		free(n);
		return NULL;
	}
	n->dirfd = -1;
	n->lockfd = -1;
	n->clk = clk ? clk : &clock_system;
	slash = strrchr(path, '/');
	n->path = concat(path, "");
	n->base = concat(slash ? slash + 1 : path, "");
	n->tmp = concat(n->base ? n->base : "", ".tmp");
	lockname = concat(n->base ? n->base : "", ".lock");
	if (!n->path || !n->base || !n->tmp || !lockname) {
		rc = err_set(info, ERR_NOMEM, "nonce file %s: out of memory", path);
		goto fail;
	}
	rc = open_dir(n, path, info);
	if (rc < 0)
		goto fail;

	/* The lock outlives every rename of the mark file, so it sits beside it. */
	n->lockfd = openat(n->dirfd, lockname, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (n->lockfd < 0) {
		rc = -errno;
		err_set(info, rc, "nonce lock %s.lock: %s", path, err_str(rc));
		goto fail;
	}
	if (flock(n->lockfd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? ERR_BADSTATE : -errno;
		err_set(info, rc, "nonce file %s is in use by another process or handle (%s)", path,
			rc == ERR_BADSTATE ? "locked" : err_str(rc));
		goto fail;
	}

	rc = read_mark(n, &mark, &found, info);
	if (rc < 0)
		goto fail;
	if (found && mark == UINT64_MAX) {
		rc = err_set(info, ERR_RANGE, "nonce file %s: nonce space exhausted", path);
		goto fail;
	}
	atomic_init(&n->last, mark);
	atomic_init(&n->reserved, mark);
	first = wall_us(n);
	if (first <= mark)
		first = mark + 1;
	rc = reserve(n, first);
	if (rc < 0) {
		err_set(info, rc, "nonce file %s: writing: %s", path, err_str(rc));
		goto fail;
	}
	free(lockname);
	return n;

fail:
	pthread_mutex_destroy(&n->persist_lock);
	if (n->lockfd >= 0)
		close(n->lockfd);
	if (n->dirfd >= 0)
		close(n->dirfd);
	free(lockname);
	free(n->tmp);
	free(n->base);
	free(n->path);
	free(n);
	return NULL;
}

void kr_nonce_free(struct kr_nonce *n)
{
	uint64_t last;

	if (!n)
		return;
	/* Lowering the mark to the last nonce issued is safe now that no caller
	 * remains, and keeps the next run's nonces close to the wall clock. On
	 * failure the file keeps the reserved mark, which is still an upper
	 * bound. */
	last = atomic_load_explicit(&n->last, memory_order_acquire);
	if (last < atomic_load_explicit(&n->reserved, memory_order_acquire))
		(void)persist(n, last);
	pthread_mutex_destroy(&n->persist_lock);
	close(n->lockfd);
	close(n->dirfd);
	free(n->tmp);
	free(n->base);
	free(n->path);
	free(n);
}

int kr_nonce_default_path(const struct secret *api_key, const char *dir, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	size_t dlen, need, o, i;

	if (out && cap > 0)
		out[0] = '\0';
	if (!api_key || secret_empty(api_key) || !dir || !*dir || !out)
		return ERR_INVALID;
	dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	/* "/" + "nonce-" + 12 hex + ".txt" + NUL, no slash after a root "/". */
	need = dlen + (dir[dlen - 1] == '/' ? 0 : 1) + 6 + 12 + 4 + 1;
	if (cap < need)
		return ERR_RANGE;
	if (!EVP_Digest(secret__bytes(api_key), secret_len(api_key), md, &md_len, EVP_sha256(),
			NULL) ||
	    md_len != 32)
		return ERR_CRYPTO;
	memcpy(out, dir, dlen);
	o = dlen;
	if (dir[dlen - 1] != '/')
		out[o++] = '/';
	memcpy(out + o, "nonce-", 6);
	o += 6;
	for (i = 0; i < 6; i++) {
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	memcpy(out + o, ".txt", 5);
	return 0;
}
