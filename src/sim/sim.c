/* The simulator's lifecycle and server loop: one libwebsockets context on
 * one service thread (the caller of sim_run) serving WS v2 and /control on
 * one port, a 10 ms timer that advances the market and publishes, and the
 * REST server on its own thread (rest.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/sim_srv.h"

void sim__lock(struct sim *s)
{
	pthread_mutex_lock(&s->mu);
}

void sim__unlock(struct sim *s)
{
	pthread_mutex_unlock(&s->mu);
}

const char *sim__scenario_text(const struct sim *s, size_t *len)
{
	if (len)
		*len = s->scenario_len;
	return s->scenario_text;
}

struct sim_accounts **sim__accounts_slot(struct sim *s)
{
	return &s->accounts;
}

void **sim__ws_private_slot(struct sim *s)
{
	return &s->ws_private;
}

void sim__wake(struct sim *s)
{
	atomic_store(&s->wake, true);
	if (s->ctx)
		lws_cancel_service(s->ctx);
}

bool sim_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!host)
		return false;
	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static int read_file(struct sim *s, const char *path, struct err_info *info)
{
	FILE *f = fopen(path, "rb");
	int rc = 0;
	if (!f)
		return err_set(info, -errno, "scenario %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0) {
		rc = err_set(info, ERR_IO, "scenario %s: cannot seek", path);
		goto cleanup;
	}
	long n = ftell(f);
	if (n < 0 || n > (64l << 20) || fseek(f, 0, SEEK_SET) != 0) {
		rc =
		    err_set(info, ERR_RANGE, "scenario %s: unreadable or larger than 64 MiB", path);
		goto cleanup;
	}
	s->scenario_text = malloc((size_t)n + 1);
	if (!s->scenario_text) {
		rc = err_set(info, ERR_NOMEM, "scenario: out of memory");
		goto cleanup;
	}
	if (fread(s->scenario_text, 1, (size_t)n, f) != (size_t)n) {
		rc = err_set(info, ERR_IO, "scenario %s: short read", path);
		goto cleanup;
	}
	s->scenario_text[n] = '\0';
	s->scenario_len = (size_t)n;
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(s->scenario_dir, sizeof(s->scenario_dir), "%.*s", (int)(slash - path),
			 path);
	else
		snprintf(s->scenario_dir, sizeof(s->scenario_dir), ".");
cleanup:
	fclose(f);
	return rc;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct sim *s = lws_context_user(lws_get_context(wsi));
	struct sim_pss *pss = user;
	int rc;
	if (!s)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
	case LWS_CALLBACK_HTTP_WRITEABLE:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (!pss || pss->is_ws)
			return lws_callback_http_dummy(wsi, reason, user, in, len);
		sim__lock(s);
		rc = sim__http_callback(wsi, reason, pss, in, len);
		sim__unlock(s);
		return rc;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLOSED:
		sim__lock(s);
		rc = sim__ws_callback(wsi, reason, pss, in, len);
		sim__unlock(s);
		return rc;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (atomic_exchange(&s->wake, false) && s->priv_ops && s->priv_ops->on_tick) {
			sim__lock(s);
			s->priv_ops->on_tick(s);
			sim__unlock(s);
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
    {"kraken-v2", callback, sizeof(struct sim_pss), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_timer(lws_sorted_usec_list_t *sul)
{
	struct sim *s = lws_container_of(sul, struct sim, sul);
	uint64_t now = clock_mono_ns();
	uint64_t due = (now - s->start_ns) / (SIM_TICK_MS * 1000000ull);
	sim__lock(s);
	/* Catch up on missed ticks, but never spin for long after a pause. */
	for (int k = 0; s->tick < due && k < 100; k++)
		sim__market_tick(s);
	if (s->tick < due)
		s->start_ns = now - s->tick * SIM_TICK_MS * 1000000ull;
	if (s->stall_until_ns && !sim__stalled(s))
		s->stall_until_ns = 0;
	sim__publish(s);
	sim__heartbeats(s);
	if (s->priv_ops && s->priv_ops->on_tick)
		s->priv_ops->on_tick(s);
	if (!sim__stalled(s))
		for (struct sim_conn *c = s->conns; c; c = c->next)
			if (c->head || c->closing)
				lws_callback_on_writable(c->wsi);
	sim__unlock(s);
	if (!atomic_load(&s->stop))
		lws_sul_schedule(s->ctx, 0, &s->sul, on_timer, SIM_TICK_MS * LWS_US_PER_MS);
}

struct sim *sim_new(const struct sim_opts *opts, struct err_info *info)
{
	struct sim *s = NULL;
	pthread_mutexattr_t ma;
	const char *host = opts && opts->host ? opts->host : "127.0.0.1";
	int rc;
	if (!opts || !opts->scenario_path) {
		err_set(info, ERR_INVALID, "sim: a scenario file is required");
		return NULL;
	}
	if (!sim_host_is_loopback(host)) {
		err_set(info, ERR_INVALID, "sim: host %s is not a loopback address", host);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(info, ERR_NOMEM, "sim: out of memory");
		return NULL;
	}
	pthread_mutexattr_init(&ma);
	/* lws may call back into the protocol while a callback runs. */
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	snprintf(s->host, sizeof(s->host), "%s",
		 strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
	sim__buf_init(&s->out, LWS_PRE);
	if ((rc = read_file(s, opts->scenario_path, info)) != 0 ||
	    (rc = sim__scenario_load(s, info)) != 0)
		goto fail;
	if (opts->has_seed)
		s->seed = opts->seed;
	if ((rc = sim__market_init(s, info)) != 0)
		goto fail;

	lws_set_log_level(LLL_ERR, NULL);
	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.port = opts->ws_port;
	ci.iface = s->host;
	ci.protocols = protocols;
	ci.user = s;
	ci.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (strchr(s->host, ':') == NULL)
		ci.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	s->ctx = lws_create_context(&ci);
	if (!s->ctx) {
		err_set(info, ERR_NET, "sim: cannot listen on %s:%u", s->host, opts->ws_port);
		goto fail;
	}
	s->vhost = lws_get_vhost_by_name(s->ctx, "default");
	int port = s->vhost ? lws_get_vhost_listen_port(s->vhost) : -1;
	if (port <= 0) {
		err_set(info, ERR_NET, "sim: no listening port on %s", s->host);
		goto fail;
	}
	s->ws_port = (uint16_t)port;
	if ((rc = sim__accounts_init(s, info)) != 0 || (rc = sim__ws_private_init(s, info)) != 0)
		goto fail;
	if ((rc = sim__rest_start(s, s->host, opts->rest_port, &s->rest_port, info)) != 0)
		goto fail;
	s->rest_started = true;
	return s;
fail:
	sim_free(s);
	return NULL;
}

int sim_run(struct sim *s)
{
	if (atomic_load(&s->stop))
		return ERR_BADSTATE;
	sim__lock(s);
	s->start_ns = clock_mono_ns() - s->tick * SIM_TICK_MS * 1000000ull;
	sim__unlock(s);
	lws_sul_schedule(s->ctx, 0, &s->sul, on_timer, SIM_TICK_MS * LWS_US_PER_MS);
	while (!atomic_load(&s->stop))
		if (lws_service(s->ctx, 0) < 0)
			break;
	lws_sul_cancel(&s->sul);
	return 0;
}

void sim_stop(struct sim *s)
{
	atomic_store(&s->stop, true);
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	if (s->rest_started)
		sim__rest_stop(s);
	if (s->ctx)
		lws_context_destroy(s->ctx);
	s->ctx = NULL;
	sim__ws_private_free(s);
	if (s->accounts)
		sim__accounts_free(s);
	sim__market_free(s);
	sim__buf_release(&s->out);
	free(s->scenario_text);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

uint16_t sim_ws_port(const struct sim *s)
{
	return s->ws_port;
}

uint16_t sim_rest_port(const struct sim *s)
{
	return s->rest_port;
}

const char *sim_host(const struct sim *s)
{
	return s->host;
}
