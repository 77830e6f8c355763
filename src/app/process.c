/* Process hardening rules, checked before `run` starts anything. */
#include <stdio.h>
#include <unistd.h>

#include "app/app_int.h"

int app__check_process(const struct config *cfg)
{
	if (cfg->app.env == APP_ENV_PROD && geteuid() == 0) {
		fprintf(stderr, "arbitrade: refusing to run as root with APP_ENV=prod; run it as an "
				"unprivileged user (see README, Deployment)\n");
		return -1;
	}
	if (cfg->kraken.permissions & KRAKEN_PERM_WITHDRAW) {
		/* config_load already refuses this; kept so no later path can skip it. */
		fprintf(stderr, "arbitrade: KRAKEN_API_KEY_PERMISSIONS grants withdrawal: refusing to "
				"start with a key that can move funds out\n");
		return -1;
	}
	return 0;
}
