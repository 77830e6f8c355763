/* Process hardening rules: the file-creation mask for every command, and the
 * checks made before `run` starts anything. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app_int.h"

void app__process_init(void)
{
	/* Everything the bot writes is the operator's alone: the DuckDB file
	 * and its WAL, Parquet archives, the Fernet key file, the nonce file
	 * and log files. The key and nonce files also set 0600 explicitly, but
	 * DuckDB and COPY ... TO create files with whatever the umask allows,
	 * so the mask is set once here, before any command runs. */
	umask(077);
}

int app__check_process(const struct config *cfg)
{
	if (cfg->app.env == APP_ENV_PROD && geteuid() == 0) {
		fprintf(stderr,
			"arbitrade: refusing to run as root with APP_ENV=prod; run it as an "
			"unprivileged user (see README, Deployment)\n");
		return -1;
	}
	if (cfg->kraken.permissions & KRAKEN_PERM_WITHDRAW) {
		/* config_load already refuses this; kept so no later path can skip it. */
		fprintf(stderr,
			"arbitrade: KRAKEN_API_KEY_PERMISSIONS grants withdrawal: refusing to "
			"start with a key that can move funds out\n");
		return -1;
	}
	return 0;
}
