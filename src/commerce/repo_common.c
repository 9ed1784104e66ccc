#include <stdio.h>
#include <stdlib.h>

#include "cinema/mem.h"
#include "commerce/repo.h"

void commerce_ll_str(char out[24], long long v)
{
	snprintf(out, 24, "%lld", v);
}

enum err commerce_page(struct db_conn *c, const struct db_stmt *count, const struct db_stmt *list,
		       int nparams, const char **params, long long limit, long long offset,
		       struct buf *items, long long *total)
{
	PGresult *res = NULL;
	const char **p = xcalloc((size_t)nparams + 2, sizeof(*p));
	char lim[24], off[24];
	enum err rc;

	for (int i = 0; i < nparams; i++)
		p[i] = params[i];
	commerce_ll_str(lim, limit);
	commerce_ll_str(off, offset);
	p[nparams] = lim;
	p[nparams + 1] = off;
	rc = db_exec_planned(c, count, nparams, params, &res);
	if (rc != ERR_OK)
		goto out;
	*total = db_int(res, 0, 0);
	PQclear(res);
	res = NULL;
	rc = db_exec_planned(c, list, nparams + 2, p, &res);
	if (rc != ERR_OK)
		goto out;
	buf_append_char(items, '[');
	for (int i = 0; i < PQntuples(res); i++) {
		if (i)
			buf_append_char(items, ',');
		buf_append_json_compact(items, PQgetvalue(res, i, 0),
					(size_t)PQgetlength(res, i, 0));
	}
	buf_append_char(items, ']');
out:
	PQclear(res);
	free(p);
	return rc;
}

enum err commerce_render_one(struct db_conn *c, const struct db_stmt *stmt, long long id,
			     long long user_id, struct buf *out)
{
	PGresult *res = NULL;
	char ids[24], uid[24];
	commerce_ll_str(ids, id);
	commerce_ll_str(uid, user_id);
	const char *p[] = {ids, user_id ? uid : NULL};
	enum err rc = db_exec(c, stmt, 2, p, &res);
	if (rc == ERR_OK && PQntuples(res) == 0)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_OK)
		buf_append_json_compact(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	PQclear(res);
	return rc;
}
