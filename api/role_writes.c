/*
 * role_writes.c: the writes of a role (POST /roles, PUT and DELETE /roles/{slug}, the part
 * writes, the commentary, the override's removal) adapted to the revision engine (revise/):
 * each handler checks the token, parses the body, answers a write to an alias or an unknown
 * slug as a read would (308, 404), and defers a job that calls the engine's entry point for
 * its kind of write; the answer is made of the engine's result. What a write may change and
 * how it is stored are the engine's alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/role_read.h"
#include "revise/revise.h"
#include "util/buf.h"

/* One deferred role write: the engine's input and its result. */
struct role_write {
	struct revise *revise;
	struct revise_target target; /* its strings: the three below */
	char *slug, *actor, *if_match;
	json_t *body;                /* owned */
	enum scoring_part part;      /* a part write */
	const char *key;             /* a part write: the body member that holds the part */
	int create;                  /* a create: 201 with Location */
	int archive;                 /* an archive: 204 */
	struct revise_result res;
};

static void write_free(void *arg)
{
	struct role_write *w = arg;

	if (!w)
		return;
	free(w->slug);
	free(w->actor);
	free(w->if_match);
	json_decref(w->body);
	revise_result_release(&w->res);
	free(w);
}

/* The jobs, one per kind of write: each calls the engine's entry point. */
static int create_job(struct store_tx *tx, void *arg)
{
	struct role_write *w = arg;

	return revise_create(tx, w->revise, w->body, w->actor, &w->res);
}

static int replace_job(struct store_tx *tx, void *arg)
{
	struct role_write *w = arg;

	return revise_replace(tx, w->revise, &w->target, w->body, &w->res);
}

static int part_job(struct store_tx *tx, void *arg)
{
	struct role_write *w = arg;

	return revise_part(tx, w->revise, &w->target, w->part, w->key, w->body, &w->res);
}

static int commentary_job(struct store_tx *tx, void *arg)
{
	struct role_write *w = arg;

	return revise_commentary(tx, w->revise, &w->target, w->body, &w->res);
}

static int archive_job(struct store_tx *tx, void *arg)
{
	struct role_write *w = arg;

	return revise_archive(tx, w->revise, &w->target, &w->res);
}

/* A written or unchanged revision: 201 with the role and Location for a create, else 200 with
 * {revision, score, changed, score_changed, changes}; ETag "r<revision>" either way. */
static void answer_written(struct role_write *w, int rc, struct api_response *rs)
{
	const struct revise_result *res = &w->res;
	char tag[32];
	json_t *v;

	if (w->create)
		v = api_role_repr(NULL, res->role_text, res->score_text, res->revision,
				  res->created_at, res->created_at);
	else
		v = json_pack("{s:i, s:O, s:b, s:b, s:O}", "revision", res->revision, "score",
			      res->score ? res->score : json_null(), "changed", rc == RC_OK,
			      "score_changed", rc == RC_OK && res->score_changed, "changes",
			      res->changes);
	if (!v) {
		api_problem_rc(rs, RC_NOMEM, NULL);
		return;
	}
	api_json(rs, w->create ? 201 : 200, v);
	if (w->create) {
		struct buf loc = BUF_INIT(512);

		buf_putf(&loc, "/roles/%s", res->slug);
		if (buf_err(&loc)) {
			buf_release(&loc);
			api_problem_rc(rs, RC_NOMEM, "the role was created; its answer could not be built");
			return;
		}
		api_header(rs, "Location", buf_str(&loc));
		buf_release(&loc);
	}
	snprintf(tag, sizeof(tag), "\"r%d\"", res->revision);
	api_header(rs, "ETag", tag);
}

static void write_finish(struct api_request *rq, struct api_response *rs, int rc, void *arg)
{
	struct role_write *w = arg;

	(void)rq;
	if (rc == RC_OK && w->archive) {
		rs->status = 204;
		return;
	}
	if (rc == RC_OK || rc == RC_UNCHANGED) {
		answer_written(w, rc, rs);
		return;
	}
	if (rc == RC_INVALID && w->res.errs.n) {
		api_problem_errors(rs, &w->res.errs);
		return;
	}
	if (rc == RC_NOTFOUND) {
		api_problem(rs, 404, "not-found", "Not found", "no role has this slug");
		return;
	}
	api_problem_rc_field(rs, rc, w->res.detail[0] ? w->res.detail : NULL,
			     w->res.conflict_field, "is taken by another role");
}

/* A write to an existing role: an alias or an unknown slug answers as a read would (308,
 * 404), with rs filled and non-zero returned. The job looks again, inside its transaction. */
static int target_check(struct api_request *rq, struct api_response *rs)
{
	struct store_role_head head;
	struct store_role r;

	if (!store_role_head(api_store(rq->api), api_role_slug(rq), &head) && !head.archived)
		return RC_OK;
	if (api_role_load(rq, rs, &r))
		return RC_NOTFOUND;
	store_role_release(&r);
	return RC_OK;
}

/* Common start of every role write: the token, the body (when the write has one), the
 * target. The write to defer, or NULL with rs filled. */
static struct role_write *write_new(struct api_request *rq, struct api_response *rs,
				    int has_body, int create)
{
	struct role_write *w;
	json_t *body = NULL;
	const char *if_match;

	if (api_require_token(rq, rs))
		return NULL;
	if (has_body && api_body_json(rq, rs, &body))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		json_decref(body);
		api_problem_rc(rs, RC_NOMEM, NULL);
		return NULL;
	}
	revise_result_init(&w->res);
	w->revise = api_revise(rq->api);
	w->body = body ? body : json_object();
	w->create = create;
	w->actor = rq->actor ? strdup(rq->actor) : NULL;
	if_match = rq->header(rq->ctx, "If-Match");
	w->if_match = if_match ? strdup(if_match) : NULL;
	if (!create) {
		if (target_check(rq, rs)) {
			write_free(w);
			return NULL;
		}
		w->slug = strdup(api_role_slug(rq));
	}
	w->target.slug = w->slug;
	w->target.actor = w->actor;
	w->target.if_match = w->if_match;
	w->target.if_match_ok = api_if_match_ok;
	return w;
}

static int write_defer(struct api_request *rq, store_job_fn job, struct role_write *w)
{
	return w ? api_defer(rq, job, w, write_finish, write_free) : API_DONE;
}

int api_roles_create(struct api_request *rq, struct api_response *rs)
{
	return write_defer(rq, create_job, write_new(rq, rs, 1, 1));
}

int api_roles_replace(struct api_request *rq, struct api_response *rs)
{
	return write_defer(rq, replace_job, write_new(rq, rs, 1, 0));
}

int api_roles_archive(struct api_request *rq, struct api_response *rs)
{
	struct role_write *w = write_new(rq, rs, 0, 0);

	if (w)
		w->archive = 1;
	return write_defer(rq, archive_job, w);
}

/* A part write: the part, and the body member that holds it. */
static int part_write(struct api_request *rq, struct api_response *rs, enum scoring_part part,
		      const char *key, int has_body)
{
	struct role_write *w = write_new(rq, rs, has_body, 0);

	if (w) {
		w->part = part;
		w->key = key;
	}
	return write_defer(rq, part_job, w);
}

int api_roles_part_put(struct api_request *rq, struct api_response *rs)
{
	static const struct {
		const char *name;
		enum scoring_part part;
	} parts[] = {
		{ "tasks", SCORING_TASKS },	  { "barriers", SCORING_BARRIERS },
		{ "protective", SCORING_PROTECTIVE }, { "growth", SCORING_GROWTH },
	};
	enum scoring_part p = SCORING_OVERRIDE;
	size_t i;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strcmp(rq->part, parts[i].name))
			p = parts[i].part;
	return part_write(rq, rs, p, rq->part, 1);
}

int api_roles_evidence_post(struct api_request *rq, struct api_response *rs)
{
	return part_write(rq, rs, SCORING_EVIDENCE, "dimensions", 1);
}

int api_roles_commentary_put(struct api_request *rq, struct api_response *rs)
{
	return write_defer(rq, commentary_job, write_new(rq, rs, 1, 0));
}

int api_roles_override_delete(struct api_request *rq, struct api_response *rs)
{
	struct role_write *w = write_new(rq, rs, 0, 0);

	if (w) {
		w->part = SCORING_OVERRIDE;
		w->key = "override";
		json_object_set_new(w->body, "override", json_null());
		json_object_set_new(w->body, "reason", json_string("override removed"));
	}
	return write_defer(rq, part_job, w);
}
