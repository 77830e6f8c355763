/* arbitrade verify-book FILE [--depth N]: rebuilds every book of a recording
 * and checks every checksum (src/bench/verify.c does the work), then prints
 * one JSON summary on stdout. Exit 0 when every checksum matched and at
 * least one was checked, 1 otherwise, 2 for unusable input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app_int.h"
#include "bench/bench.h"

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade verify-book: %s\n\n", why);
	app__usage(stderr, app__find("verify-book"));
	return APP_USAGE;
}

/* The whole file, mapped and pre-faulted so the timed pass does no I/O. */
static int map_file(const char *path, const char **buf, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "arbitrade verify-book: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "arbitrade verify-book: %s: not a regular file\n", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		fprintf(stderr, "arbitrade verify-book: %s: the file is empty\n", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "arbitrade verify-book: %s: mmap: %s\n", path, strerror(errno));
		return -1;
	}
	madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	*buf = p;
	*len = (size_t)st.st_size;
	return 0;
}

static void print_json(const struct bench_verify_result *r)
{
	/* The rate of the work itself (decode + apply + checksum, the sum of the
	 * per-message times), and the rate of the whole pass (also splitting
	 * lines, finding the message in a recording line and reading the
	 * clock twice per message). */
	double busy = (double)r->latency.sum / 1e9, secs = (double)r->elapsed_ns / 1e9;
	double rate = busy > 0 ? (double)hist_count(&r->latency) / busy : 0.0;
	double wall = secs > 0 ? (double)r->messages / secs : 0.0;
	/* The whole pass again, counting only the time this thread ran. */
	double cpu = r->cpu_ns > 0 ? (double)r->messages / ((double)r->cpu_ns / 1e9) : 0.0;

	printf("{\"messages\":%llu,\"symbols\":%llu,\"snapshots\":%llu,\"updates\":%llu,"
	       "\"checksum_ok\":%llu,\"checksum_mismatch\":%llu,\"parse_errors\":%llu,",
	       (unsigned long long)r->messages, (unsigned long long)r->symbols,
	       (unsigned long long)r->snapshots, (unsigned long long)r->updates,
	       (unsigned long long)r->checksum_ok, (unsigned long long)r->checksum_mismatch,
	       (unsigned long long)r->parse_errors);
	if (r->first_mismatch_line)
		printf("\"first_mismatch\":{\"line\":%llu,\"symbol\":\"%s\"},",
		       (unsigned long long)r->first_mismatch_line, r->first_mismatch_symbol);
	else
		printf("\"first_mismatch\":null,");
	printf("\"messages_per_second\":%.0f,\"wall_messages_per_second\":%.0f,"
	       "\"cpu_messages_per_second\":%.0f,"
	       "\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu,"
	       "\"mean\":%.1f},",
	       rate, wall, cpu, (unsigned long long)hist_quantile(&r->latency, 0.50),
	       (unsigned long long)hist_quantile(&r->latency, 0.99),
	       (unsigned long long)hist_quantile(&r->latency, 0.999),
	       (unsigned long long)hist_max(&r->latency), hist_mean(&r->latency));
	printf("\"lines\":%llu,\"decoded\":%llu,\"level3_snapshots\":%llu,\"book_errors\":%llu,"
	       "\"unverified_updates\":%llu,"
	       "\"precision_changes\":%llu,\"precision_inferred\":%u,\"elapsed_ns\":%llu,"
	       "\"cpu_ns\":%llu,"
	       "\"warmup_messages\":%llu,",
	       (unsigned long long)r->lines, (unsigned long long)r->decoded,
	       (unsigned long long)r->level3_snapshots, (unsigned long long)r->book_errors,
	       (unsigned long long)r->unverified, (unsigned long long)r->precision_changes,
	       r->inferred, (unsigned long long)r->elapsed_ns, (unsigned long long)r->cpu_ns,
	       (unsigned long long)r->warmup_messages);
	if (r->allocs_measured)
		printf("\"allocations_after_warmup\":%llu}\n",
		       (unsigned long long)r->allocs_after_warmup);
	else
		printf("\"allocations_after_warmup\":null}\n");
}

int app__cmd_verify_book(int argc, char **argv)
{
	struct bench_verify_opts opts = {.depth = 0, .notes = stderr};
	struct bench_verify_result *r = NULL;
	struct err_info info = {0};
	const char *path = NULL, *buf = NULL;
	size_t len = 0;
	int rc, status = APP_FAIL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--depth") == 0) {
			char *endp;
			unsigned long d;

			if (i + 1 >= argc)
				return bad_usage("--depth needs a value");
			errno = 0;
			d = strtoul(argv[++i], &endp, 10);
			if (errno || *endp || endp == argv[i] ||
			    (d != 10 && d != 25 && d != 100 && d != 500 && d != 1000))
				return bad_usage("--depth must be 10, 25, 100, 500 or 1000");
			opts.depth = (unsigned)d;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "arbitrade verify-book: unknown option '%s'\n\n", argv[i]);
			app__usage(stderr, app__find("verify-book"));
			return APP_USAGE;
		} else if (path) {
			return bad_usage("only one FILE");
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return bad_usage("missing FILE");
	if (map_file(path, &buf, &len) != 0)
		return APP_USAGE;
	r = malloc(sizeof(*r));
	if (!r) {
		fprintf(stderr, "arbitrade verify-book: out of memory\n");
		goto cleanup;
	}
	rc = bench_verify(buf, len, &opts, r, &info);
	if (rc == ERR_PARSE) {
		fprintf(stderr, "arbitrade verify-book: %s: %s\n", path, info.msg);
		status = APP_USAGE;
		goto cleanup;
	}
	if (rc != 0) {
		fprintf(stderr, "arbitrade verify-book: %s\n",
			info.msg[0] ? info.msg : err_str(rc));
		goto cleanup;
	}
	if (r->first_parse_error_line)
		fprintf(stderr,
			"arbitrade verify-book: %llu lines dropped; first at line %llu: %s\n",
			(unsigned long long)r->parse_errors,
			(unsigned long long)r->first_parse_error_line, r->first_parse_error);
	if (r->first_mismatch_line)
		fprintf(stderr, "arbitrade verify-book: checksum mismatch at line %llu (%s)\n",
			(unsigned long long)r->first_mismatch_line, r->first_mismatch_symbol);
	print_json(r);
	fflush(stdout);
	if (r->checksum_ok > 0 && r->checksum_mismatch == 0 && r->book_errors == 0 &&
	    r->precision_changes == 0)
		status = APP_OK;
	else if (r->checksum_ok == 0 && r->checksum_mismatch == 0)
		fprintf(stderr, "arbitrade verify-book: no checksum was checked\n");
cleanup:
	free(r);
	if (buf)
		munmap((void *)(uintptr_t)buf, len);
	return status;
}
