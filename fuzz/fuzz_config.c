/* Fuzz target: the .env parser and the configuration rules (config_load).
 *
 * The input is written to a temporary file and loaded as the env file, with
 * an environment that holds only FERNET_KEY (the Fernet specification's
 * public example key), so enc:<token> values are decrypted too. config_load
 * reads nothing else from disk.
 *
 * Checked besides memory safety: a failure returns a known error code with
 * a NUL-terminated message and leaves no secret allocated (config_release
 * after it is harmless); success leaves a configuration that passes its own
 * rules: no withdrawal permission, credentials in pairs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/secret.h"
#include "fuzz.h"

static char path[64];

static void make_path(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir || strlen(dir) > 32)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/arb-fuzz-env-%ld", dir, (long)getpid());
}

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char fernet[] = "FERNET_KEY=cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
	static char *envp[] = {fernet, NULL};
	struct config cfg;
	struct err_info info = {0};
	FILE *f;

	if (!path[0]) {
		make_path();
		atexit(remove_file);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();

	int rc = config_load(&cfg, path, envp, &info);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(memchr(info.msg, '\0', sizeof(info.msg)) != NULL);
		FUZZ_CHECK(info.msg[0] != '\0');
		FUZZ_CHECK(cfg.kraken.api_key == NULL && cfg.kraken.api_secret == NULL);
	} else {
		FUZZ_CHECK(!(cfg.kraken.permissions & KRAKEN_PERM_WITHDRAW));
		FUZZ_CHECK(secret_empty(cfg.kraken.api_key) == secret_empty(cfg.kraken.api_secret));
		FUZZ_CHECK(cfg.trading_mode != TRADING_LIVE || !secret_empty(cfg.kraken.api_key));
		FUZZ_CHECK(memchr(cfg.store.duckdb_path, '\0', sizeof(cfg.store.duckdb_path)));
	}
	config_release(&cfg);
	return 0;
}
