/* Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without
 * libFuzzer: every regular file in each directory named on the command line,
 * in name order. A directory that does not exist is skipped (a target may
 * have no regressions yet), but at least one input must run, so a wrong path
 * fails the test instead of passing it empty. Exit 0 when all ran. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (4u * 1024u * 1024u)

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path, long *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX_INPUT);
	if (!buf) {
		rc = -1;
		goto cleanup;
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		rc = -1;
		goto cleanup;
	}
	/* A heap copy of exactly n bytes, so ASan sees reads past the end. */
	uint8_t *in = malloc(n ? n : 1);
	if (!in) {
		rc = -1;
		goto cleanup;
	}
	memcpy(in, buf, n);
	printf("replay: %s (%zu bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	(*count)++;
cleanup:
	free(buf);
	fclose(f);
	return rc;
}

static int run_dir(const char *dir, long *count)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nn = realloc(names, ncap * sizeof(*names));
			if (!nn) {
				rc = -1;
				goto cleanup;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			rc = -1;
			goto cleanup;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = run_file(path, count);
	}
cleanup:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	long count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (run_dir(argv[i], &count) != 0)
			return 1;
	if (count == 0) {
		fprintf(stderr, "replay: no inputs found in the directories given\n");
		return 1;
	}
	printf("replay: %ld inputs, all passed\n", count);
	return 0;
}
