/* Stage bookkeeping, the result JSON and the readable table (profile.h). */
#include "bench/profile.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/alloc_count.h"

const char *const prof_scenario_names[PROF_MAX_SCENARIO] = {"book_update_burst", "execution_spike",
							    "reconnect_storm"};

prof_scenario_fn prof_scenario_find(const char *name)
{
	static const prof_scenario_fn fns[PROF_MAX_SCENARIO] = {prof_book_burst, prof_exec_spike,
								prof_reconnect};

	for (unsigned i = 0; i < PROF_MAX_SCENARIO; i++)
		if (strcmp(name, prof_scenario_names[i]) == 0)
			return fns[i];
	return NULL;
}

unsigned prof__stage(struct prof_scenario *sc, const char *name, bool hot_path)
{
	unsigned i = sc->n_stages++;
	struct prof_stage *st = &sc->st[i];

	snprintf(st->name, sizeof(st->name), "%s", name);
	st->hot_path = hot_path;
	hist_init(&st->h);
	st->alloc_sum = 0;
	st->alloc_evts = 0;
	return i;
}

void prof__record(struct prof_stage *st, uint64_t ns, uint64_t allocs, bool counted)
{
	hist_record(&st->h, ns);
	if (counted) {
		st->alloc_sum += allocs;
		st->alloc_evts++;
	}
}

uint64_t prof__cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Events per second. In CPU time, the stage's summed wall time is scaled by
 * the loop's CPU/wall ratio: time the thread sat preempted by a neighbour
 * does not count, which keeps the figure steady on shared cores. */
static double throughput(const struct prof_scenario *sc, const struct prof_stage *st)
{
	double sum = (double)st->h.sum, frac = 1.0;

	if (sc->cpu_scaled && sc->wall_ns > 0 && sc->cpu_ns > 0 && sc->cpu_ns < sc->wall_ns)
		frac = (double)sc->cpu_ns / (double)sc->wall_ns;
	if (sum <= 0 || st->h.count == 0)
		return 0.0;
	return (double)st->h.count * 1e9 / (sum * frac);
}

void prof_summarize(const struct prof_scenario *sc, unsigned n, struct prof_summary *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < sc[i].n_stages && out->n < PROF_MAX_STATS; k++) {
			const struct prof_stage *st = &sc[i].st[k];
			struct prof_stat *s = &out->s[out->n++];

			snprintf(s->scenario, sizeof(s->scenario), "%s", sc[i].name);
			snprintf(s->stage, sizeof(s->stage), "%s", st->name);
			s->count = hist_count(&st->h);
			s->p50 = (double)hist_quantile(&st->h, 0.50);
			s->p90 = (double)hist_quantile(&st->h, 0.90);
			s->p99 = (double)hist_quantile(&st->h, 0.99);
			s->max = (double)hist_max(&st->h);
			s->throughput = throughput(&sc[i], st);
			s->hot_path = st->hot_path;
			s->allocs_measured = sc[i].allocs_measured && st->alloc_evts > 0;
			s->allocs = (double)st->alloc_sum;
			s->allocs_per_event =
			    st->alloc_evts ? (double)st->alloc_sum / (double)st->alloc_evts : 0.0;
		}
	}
}

int prof_write_result(FILE *f, const struct prof_scenario *sc, unsigned n, uint64_t iterations)
{
	struct prof_summary sum;
	unsigned k = 0;

	prof_summarize(sc, n, &sum);
	fprintf(f,
		"{\"tool\":\"arbitrade profile\",\"version\":1,\"iterations\":%llu,"
		"\"alloc_counting\":%s,\"scenarios\":{",
		(unsigned long long)iterations, alloc_count_supported() ? "true" : "false");
	for (unsigned i = 0; i < n; i++) {
		fprintf(f,
			"%s\"%s\":{\"events\":%llu,\"wall_ns\":%llu,\"cpu_ns\":%llu,"
			"\"throughput_clock\":\"%s\",\"note\":\"%s\",\"stages\":{",
			i ? "," : "", sc[i].name, (unsigned long long)sc[i].events,
			(unsigned long long)sc[i].wall_ns, (unsigned long long)sc[i].cpu_ns,
			sc[i].cpu_scaled ? "cpu" : "wall", sc[i].note);
		for (unsigned j = 0; j < sc[i].n_stages; j++, k++) {
			const struct prof_stat *s = &sum.s[k];

			fprintf(f,
				"%s\"%s\":{\"count\":%llu,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,"
				"\"max\":%.0f,\"throughput\":%.1f,\"hot_path\":%s,",
				j ? "," : "", s->stage, (unsigned long long)s->count, s->p50,
				s->p90, s->p99, s->max, s->throughput,
				s->hot_path ? "true" : "false");
			if (s->allocs_measured)
				fprintf(f,
					"\"allocs_after_warmup\":%.0f,\"allocs_per_event\":%.6g}",
					s->allocs, s->allocs_per_event);
			else
				fprintf(f,
					"\"allocs_after_warmup\":null,\"allocs_per_event\":null}");
		}
		fprintf(f, "}}");
	}
	fprintf(f, "}}\n");
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : ERR_IO;
	return 0;
}

void prof_print_table(FILE *f, const struct prof_scenario *sc, unsigned n)
{
	struct prof_summary sum;
	unsigned k = 0;

	prof_summarize(sc, n, &sum);
	fprintf(f, "%-18s %-13s %9s %10s %10s %10s %11s %13s %12s\n", "scenario", "stage", "count",
		"p50 ns", "p90 ns", "p99 ns", "max ns", "events/s", "allocs/event");
	for (unsigned i = 0; i < n; i++) {
		for (unsigned j = 0; j < sc[i].n_stages; j++, k++) {
			const struct prof_stat *s = &sum.s[k];
			char al[32];

			if (s->allocs_measured)
				snprintf(al, sizeof(al), "%.4g%s", s->allocs_per_event,
					 s->hot_path ? " (hot)" : "");
			else
				snprintf(al, sizeof(al), "not measured");
			fprintf(f, "%-18s %-13s %9llu %10.0f %10.0f %10.0f %11.0f %13.0f %12s\n",
				j ? "" : sc[i].name, s->stage, (unsigned long long)s->count, s->p50,
				s->p90, s->p99, s->max, s->throughput, al);
		}
		fprintf(f, "%-18s %s; throughput in %s time\n", "", sc[i].note,
			sc[i].cpu_scaled ? "CPU" : "wall");
	}
	if (!alloc_count_supported())
		fprintf(f, "allocations: not measured (no counting allocator in this build, "
			   "e.g. under ASan)\n");
}
