/* arbitrade config keys [--markdown]: the configuration table, so that
 * .env.example and the README's list can be checked against the code. */
#include <stdio.h>
#include <string.h>

#include "app/app_int.h"

int app__cmd_config(int argc, char **argv)
{
	bool md = false;
	if (argc < 2 || strcmp(argv[1], "keys") != 0) {
		fprintf(stderr, "arbitrade config: expected 'keys'\n\n");
		app__usage(stderr, app__find("config"));
		return APP_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--markdown") == 0) {
			md = true;
		} else {
			fprintf(stderr, "arbitrade config: unknown option '%s'\n\n", argv[i]);
			app__usage(stderr, app__find("config"));
			return APP_USAGE;
		}
	}
	if (md)
		config_print_keys_markdown(stdout);
	else
		config_print_keys(stdout);
	return APP_OK;
}
