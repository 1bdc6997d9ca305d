/*
 * cmd_serve.c: `aijri serve`: opens (and migrates) the database, loads the default data into
 * an empty one, starts the webhook dispatcher and the HTTP daemon, and on SIGTERM or SIGINT
 * stops accepting, finishes the requests in flight, flushes and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "api/api.h"
#include "revise/revise.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/dispatcher.h"
#include "server/http.h"
#include "server/log.h"
#include "util/embed.h"

#define DEFAULT_DATA "data/edge-ai-engineer.json"
#define DRAIN_MS 15000

/* Descriptors the server needs besides its connections: the database and its -wal, -shm
 * and export files, one SQLite connection per thread, the listening socket, epoll, logs,
 * and webhook deliveries (up to webhook-concurrency sockets). */
#define FD_RESERVE 128

/*
 * Every connection is a descriptor, so the open-file limit bounds the connection limit. The
 * soft limit is raised to the hard one (systemd's default soft limit is 1024, its hard limit
 * 524288); a --max-connections the hard limit cannot hold is lowered to what it can, said in
 * the log.
 */
static void fit_fd_limit(struct config *cfg)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg->max_connections + 256 + FD_RESERVE +
		      (rlim_t)cfg->webhook_concurrency;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		rlim_t room = rl.rlim_cur - 256 - FD_RESERVE - (rlim_t)cfg->webhook_concurrency;
		int max = rl.rlim_cur > 256 + FD_RESERVE + (rlim_t)cfg->webhook_concurrency + 16
				  ? (int)room : 16;

		log_msg("max-connections %d needs %llu open files and the limit is %llu: "
			"using max-connections %d (raise LimitNOFILE / ulimit -n)",
			cfg->max_connections, (unsigned long long)need,
			(unsigned long long)rl.rlim_cur, max);
		cfg->max_connections = max;
	}
}

/* An empty database gets the embedded default data as revision 1 of its role. */
static int seed_if_empty(struct store *s)
{
	const struct embed_file *f = embed_find(DEFAULT_DATA);
	int count = 0, rc;

	rc = store_role_count_all(s, &count);
	if (rc || count)
		return rc;
	if (!f)
		return RC_NOTFOUND;
	rc = revise_seed(s, f->data);
	if (!rc)
		log_msg("loaded the default data (%s)", DEFAULT_DATA);
	return rc == RC_CONFLICT ? RC_OK : rc;
}

/* The API's options from the configuration; public_url is where its base URL is written. */
static void api_options_of(const struct config *cfg, struct store *s, struct dispatcher *d,
			   char *public_url, size_t n, struct api_options *o)
{
	memset(o, 0, sizeof(*o));
	o->store = s;
	o->allow_private_webhooks = cfg->allow_private_webhooks;
	o->stale_after_days = cfg->stale_after_days;
	o->webhook_metrics = dispatcher_metrics;
	o->webhook_metrics_ctx = d;
	if (cfg->public_url[0])
		snprintf(public_url, n, "%s", cfg->public_url);
	else
		snprintf(public_url, n, "http://localhost:%d", cfg->port);
	o->public_url = public_url;
}

int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct store *s = NULL;
	struct dispatcher *d = NULL;
	struct api *a = NULL;
	struct http *h = NULL;
	struct api_options o;
	sigset_t set;
	char err[512], public_url[600], shown[512];
	int rc, sig = 0, status = 1;

	rc = config_load(&cfg, argc, argv, "serve");
	if (rc == 1)
		return 0;
	if (rc)
		return 2;
	/* Every thread started from here on inherits the blocked signals; main waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (log_start(!strcmp(cfg.log_format, "json"))) {
		fprintf(stderr, "aijri: cannot start the log\n");
		return 1;
	}
	if (strcmp(cfg.log_format, "json") && strcmp(cfg.log_format, "text")) {
		log_msg("log-format must be text or json, not '%s'", cfg.log_format);
		status = 2;
		goto out;
	}
	/* A URI's password is never logged: messages name the database as store_db_display
	 * shows it. */
	store_db_display(cfg.db, shown, sizeof(shown));
	rc = store_open(cfg.db, &s, err, sizeof(err));
	if (rc) {
		/* The message names the database already when it comes from the connection. */
		if (!strncmp(err, shown, strlen(shown)))
			log_msg("cannot open the database: %s", err);
		else
			log_msg("cannot open the database %s: %s", shown, err);
		status = config_db_exit(rc);
		goto out;
	}
	d = dispatcher_start(s, &cfg);
	if (!d)
		goto out;
	api_options_of(&cfg, s, d, public_url, sizeof(public_url), &o);
	a = api_new(&o);
	if (!a)
		goto out;
	rc = seed_if_empty(s);
	if (rc) {
		log_msg("cannot load the default data: %s", rc_str(rc));
		goto out;
	}
	fit_fd_limit(&cfg);
	h = http_start(a, &cfg);
	if (!h)
		goto out;
	log_msg("listening on %s:%d, database %s (schema %d)%s", cfg.bind, cfg.port, shown,
		store_schema_version(s),
		cfg.allow_private_webhooks ? ", private webhook addresses allowed" : "");
	if (sigwait(&set, &sig) == 0)
		log_msg("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	status = 0;
out:
	http_stop(h, DRAIN_MS);
	dispatcher_stop(d);
	api_free(a);
	store_free(s);
	if (status == 0)
		log_msg("stopped");
	log_stop();
	return status;
}
