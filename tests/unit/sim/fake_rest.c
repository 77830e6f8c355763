/* Test-only stand-ins for the REST seam (rest.c is another engineer's file):
 * weak, so the real sim__rest_start/stop win as soon as rest.c is linked.
 * Included by the sim core's test files. */
#include "sim/sim_int.h"

__attribute__((weak)) int sim__rest_start(struct sim *s, const char *host, uint16_t port,
					  uint16_t *bound, struct err_info *info)
{
	(void)s;
	(void)host;
	(void)info;
	*bound = port;
	return 0;
}

__attribute__((weak)) void sim__rest_stop(struct sim *s)
{
	(void)s;
}
