#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static struct store_reader *finish_open(struct store_reader *r, duckdb_database db,
					struct err_info *info)
{
	if (duckdb_connect(db, &r->conn) != DuckDBSuccess) {
		err_set(info, ERR_DB, "cannot connect a reader");
		store_reader_close(r);
		return NULL;
	}
	store__exec(r->conn, "SET TimeZone = 'UTC'", NULL);
	return r;
}

struct store_reader *store_reader_open(struct store *s, struct err_info *info)
{
	struct store_reader *r;
	if (!s) {
		err_set(info, ERR_INVALID, "no store");
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		err_set(info, ERR_NOMEM, "reader: out of memory");
		return NULL;
	}
	return finish_open(r, s->db, info);
}

struct store_reader *store_reader_open_path(const char *path, struct err_info *info)
{
	struct store_reader *r;
	duckdb_config cfg = NULL;
	char *oerr = NULL;
	if (!path || !path[0]) {
		err_set(info, ERR_INVALID, "no database path");
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		err_set(info, ERR_NOMEM, "reader: out of memory");
		return NULL;
	}
	if (duckdb_create_config(&cfg) != DuckDBSuccess ||
	    duckdb_set_config(cfg, "access_mode", "READ_ONLY") != DuckDBSuccess) {
		err_set(info, ERR_DB, "reader: cannot build the configuration");
		goto fail;
	}
	if (duckdb_open_ext(path, &r->own_db, cfg, &oerr) != DuckDBSuccess) {
		err_set(info, ERR_DB, "%s: %s", path, oerr ? oerr : "cannot open");
		duckdb_free(oerr);
		r->own_db = NULL;
		goto fail;
	}
	duckdb_destroy_config(&cfg);
	return finish_open(r, r->own_db, info);
fail:
	if (cfg)
		duckdb_destroy_config(&cfg);
	free(r);
	return NULL;
}

void store_reader_close(struct store_reader *r)
{
	if (!r)
		return;
	if (r->conn)
		duckdb_disconnect(&r->conn);
	if (r->own_db)
		duckdb_close(&r->own_db);
	free(r);
}

/* Row text: ncols NUL-terminated strings packed into one growing buffer. */
struct rowbuf {
	char *buf;
	size_t cap;
};

static int reserve(struct rowbuf *b, size_t need)
{
	char *nb;
	size_t cap = b->cap ? b->cap : 1024;
	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	nb = realloc(b->buf, cap);
	if (!nb)
		return ERR_NOMEM;
	b->buf = nb;
	b->cap = cap;
	return 0;
}

static int run_rows(duckdb_result *res, store_row_fn fn, void *ctx, struct err_info *info)
{
	idx_t ncols = duckdb_column_count(res);
	const char **names = calloc(ncols ? ncols : 1, sizeof *names);
	const char **vals = calloc(ncols ? ncols : 1, sizeof *vals);
	size_t *offs = calloc(ncols ? ncols : 1, sizeof *offs);
	struct rowbuf b = {0};
	duckdb_data_chunk chunk = NULL;
	int rc = 0;
	if (!names || !vals || !offs) {
		rc = err_set(info, ERR_NOMEM, "query: out of memory");
		goto cleanup;
	}
	for (idx_t c = 0; c < ncols; c++)
		names[c] = duckdb_column_name(res, c);
	while (rc == 0 && (chunk = duckdb_fetch_chunk(*res)) != NULL) {
		idx_t rows = duckdb_data_chunk_get_size(chunk);
		for (idx_t i = 0; i < rows && rc == 0; i++) {
			size_t used = 0;
			for (idx_t c = 0; c < ncols && rc == 0; c++) {
				duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
				uint64_t *valid = duckdb_vector_get_validity(v);
				duckdb_string_t *str;
				uint32_t len;
				if (valid && !duckdb_validity_row_is_valid(valid, i)) {
					offs[c] = SIZE_MAX;
					continue;
				}
				str = (duckdb_string_t *)duckdb_vector_get_data(v) + i;
				len = duckdb_string_t_length(*str);
				if (reserve(&b, used + len + 1) != 0) {
					rc = err_set(info, ERR_NOMEM, "query: out of memory");
					break;
				}
				memcpy(b.buf + used, duckdb_string_t_data(str), len);
				b.buf[used + len] = '\0';
				offs[c] = used;
				used += len + 1;
			}
			if (rc != 0)
				break;
			/* Pointers are taken once the buffer has stopped moving. */
			for (idx_t c = 0; c < ncols; c++)
				vals[c] = offs[c] == SIZE_MAX ? NULL : b.buf + offs[c];
			if (fn)
				rc = fn(ctx, ncols, names, vals);
		}
		duckdb_destroy_data_chunk(&chunk);
	}
cleanup:
	free(b.buf);
	free(offs);
	free(vals);
	free(names);
	return rc;
}

int store_query_params(struct store_reader *r, const char *sql, const char *const *params,
		       size_t nparams, store_row_fn fn, void *ctx, struct err_info *info)
{
	static const char head[] = "SELECT COLUMNS(*)::VARCHAR FROM (";
	static const char tail[] = "\n)"; /* past a trailing -- comment */
	duckdb_prepared_statement stmt = NULL;
	duckdb_result res;
	bool have_res = false;
	char *wrapped = NULL;
	size_t len;
	int rc = 0;
	if (!r || !sql || (nparams && !params))
		return err_set(info, ERR_INVALID, "query: missing argument");
	len = strlen(sql);
	while (len && (isspace((unsigned char)sql[len - 1]) || sql[len - 1] == ';'))
		len--;
	if (len == 0)
		return err_set(info, ERR_INVALID, "query: empty SQL");
	/* Wrapping makes every column text and admits a single query only: a
	 * statement that is not a query does not parse as a subquery, and a
	 * second statement makes the prepare fail. */
	wrapped = malloc(sizeof head + len + sizeof tail);
	if (!wrapped)
		return err_set(info, ERR_NOMEM, "query: out of memory");
	memcpy(wrapped, head, sizeof head - 1);
	memcpy(wrapped + sizeof head - 1, sql, len);
	memcpy(wrapped + sizeof head - 1 + len, tail, sizeof tail);
	if (duckdb_prepare(r->conn, wrapped, &stmt) != DuckDBSuccess) {
		const char *e = duckdb_prepare_error(stmt);
		rc = err_set(info, ERR_DB, "%s", e ? e : "prepare failed");
		goto cleanup;
	}
	if (duckdb_nparams(stmt) != nparams) {
		rc = err_set(info, ERR_INVALID, "query: %zu parameters given, statement has %llu",
			     nparams, (unsigned long long)duckdb_nparams(stmt));
		goto cleanup;
	}
	for (size_t i = 0; i < nparams; i++) {
		duckdb_state st = params[i] ? duckdb_bind_varchar(stmt, i + 1, params[i])
					    : duckdb_bind_null(stmt, i + 1);
		if (st != DuckDBSuccess) {
			rc = err_set(info, ERR_INVALID, "query: cannot bind parameter %zu", i + 1);
			goto cleanup;
		}
	}
	have_res = true;
	if (duckdb_execute_prepared(stmt, &res) != DuckDBSuccess) {
		const char *e = duckdb_result_error(&res);
		rc = err_set(info, ERR_DB, "%s", e ? e : "query failed");
		goto cleanup;
	}
	rc = run_rows(&res, fn, ctx, info);
cleanup:
	if (have_res)
		duckdb_destroy_result(&res);
	if (stmt)
		duckdb_destroy_prepare(&stmt);
	free(wrapped);
	return rc;
}

int store_query(struct store_reader *r, const char *sql, store_row_fn fn, void *ctx,
		struct err_info *info)
{
	return store_query_params(r, sql, NULL, 0, fn, ctx, info);
}
