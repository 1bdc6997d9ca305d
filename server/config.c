/*
 * config.c: the settings table and its three sources. One table so that --help, the
 * environment names and the file keys can never drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/dispatcher.h"
#include "util/url.h"
#include "util/num.h"

enum kind { K_INT, K_STR, K_BOOL };

static const struct setting {
	const char *name; /* flag without "--", and file key */
	const char *env;
	enum kind kind;
	size_t off;
	size_t size;      /* for strings */
	int min, max;     /* for ints */
	const char *def;
	const char *help;
} settings[] = {
	{ "port", "AIJRI_PORT", K_INT, offsetof(struct config, port), 0, 1, 65535, "8080",
	  "TCP port to listen on" },
	{ "db", "AIJRI_DB", K_STR, offsetof(struct config, db), sizeof(((struct config *)0)->db), 0, 0,
	  "./aijri.db", "SQLite database file (created and migrated if new)" },
	{ "bind", "AIJRI_BIND", K_STR, offsetof(struct config, bind), sizeof(((struct config *)0)->bind),
	  0, 0, "0.0.0.0", "IPv4 address to listen on" },
	{ "public-url", "AIJRI_PUBLIC_URL", K_STR, offsetof(struct config, public_url),
	  sizeof(((struct config *)0)->public_url), 0, 0, "",
	  "public base URL of links in pages and feeds, e.g. https://aijri.example.org "
	  "(default http://localhost:PORT; never taken from a request's Host)" },
	{ "allow-private-webhooks", "AIJRI_ALLOW_PRIVATE_WEBHOOKS", K_BOOL,
	  offsetof(struct config, allow_private_webhooks), 0, 0, 1, "false",
	  "allow webhook URLs on loopback and private addresses" },
	{ "threads", "AIJRI_THREADS", K_INT, offsetof(struct config, threads), 0, 0, 256, "0",
	  "HTTP worker threads (0: one per core)" },
	{ "max-connections", "AIJRI_MAX_CONNECTIONS", K_INT, offsetof(struct config, max_connections),
	  0, 1, 100000, "1024",
	  "open connections at most; past it the longest-idle one is closed for a new one" },
	{ "max-connections-per-address", "AIJRI_MAX_CONNECTIONS_PER_ADDRESS", K_INT,
	  offsetof(struct config, max_connections_per_address), 0, 0, 100000, "256",
	  "open connections from one client address at most (0: no such limit; behind a load "
	  "balancer or proxy every client has its address: use 0)" },
	{ "cache-mb", "AIJRI_CACHE_MB", K_INT, offsetof(struct config, cache_mb), 0, 1, 65536,
	  "16", "MiB of memory for ready GET answers (the response cache)" },
	{ "connection-timeout", "AIJRI_CONNECTION_TIMEOUT", K_INT,
	  offsetof(struct config, connection_timeout), 0, 1, 3600, "30",
	  "seconds an idle or trickling connection is kept" },
	{ "log-format", "AIJRI_LOG_FORMAT", K_STR, offsetof(struct config, log_format),
	  sizeof(((struct config *)0)->log_format), 0, 0, "text", "request log on stderr: text or json" },
	{ "webhook-retry-schedule", "AIJRI_WEBHOOK_RETRY_SCHEDULE", K_STR,
	  offsetof(struct config, retry_schedule), sizeof(((struct config *)0)->retry_schedule), 0, 0,
	  "5,300,1800,7200,18000,36000,36000", "seconds between delivery attempts, comma-separated" },
	{ "webhook-timeout", "AIJRI_WEBHOOK_TIMEOUT", K_INT, offsetof(struct config, webhook_timeout),
	  0, 1, 600, "10", "seconds a receiver has to answer one delivery" },
	{ "webhook-concurrency", "AIJRI_WEBHOOK_CONCURRENCY", K_INT,
	  offsetof(struct config, webhook_concurrency), 0, 1, 10000, "64",
	  "webhook deliveries in flight at once" },
	{ "webhook-claim-seconds", "AIJRI_WEBHOOK_CLAIM_SECONDS", K_INT,
	  offsetof(struct config, webhook_claim_seconds), 0, 0, 86400, "0",
	  "seconds an instance holds a webhook delivery it sends (the lease of its claim): "
	  "another instance sends it again only once the lease has passed without an answer "
	  "recorded, as when the first one died; keep it above webhook-timeout (0: three times "
	  "webhook-timeout, at least 60)" },
	{ "stale-after-days", "AIJRI_STALE_AFTER_DAYS", K_INT,
	  offsetof(struct config, stale_after_days), 0, 1, 36500, "180",
	  "days after which an evidence dimension's as_of is stale" },
	{ "webhook-pause-days", "AIJRI_WEBHOOK_PAUSE_DAYS", K_INT,
	  offsetof(struct config, webhook_pause_days), 0, 1, 3650, "30",
	  "days a paused (disabled) subscription's deliveries are kept for it; older ones expire" },
	{ NULL, NULL, K_INT, 0, 0, 0, 0, NULL, NULL },
};

/* A base URL: pages append paths to it, so a query or fragment would end up inside them. */
static int public_url_ok(const char *v)
{
	return url_http_ok(v) && !strpbrk(v, "?#");
}

static int set_value(struct config *cfg, const struct setting *s, const char *v, const char *src)
{
	char *p = (char *)cfg + s->off;
	int64_t n;

	switch (s->kind) {
	case K_INT:
		if (num_parse(v, s->min, s->max, &n)) {
			fprintf(stderr, "aijri: %s: %s must be an integer from %d to %d, not '%s'\n",
				src, s->name, s->min, s->max, v);
			return 2;
		}
		*(int *)p = (int)n;
		return 0;
	case K_BOOL:
		if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
			*(int *)p = 1;
		} else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ||
			   !strcmp(v, "off") || !*v) {
			*(int *)p = 0;
		} else {
			fprintf(stderr, "aijri: %s: %s must be true or false, not '%s'\n", src, s->name, v);
			return 2;
		}
		return 0;
	case K_STR:
		if (strlen(v) >= s->size) {
			fprintf(stderr, "aijri: %s: %s is too long\n", src, s->name);
			return 2;
		}
		/* Values with a form of their own are checked here, where their source is known,
		 * before anything is opened. */
		if (!strcmp(s->name, "log-format") && strcmp(v, "text") && strcmp(v, "json")) {
			fprintf(stderr, "aijri: %s: %s must be text or json, not '%s'\n", src, s->name,
				v);
			return 2;
		}
		if (!strcmp(s->name, "webhook-retry-schedule")) {
			int sched[DISPATCHER_MAX_SCHEDULE];

			if (*v && dispatcher_parse_schedule(v, sched, DISPATCHER_MAX_SCHEDULE) < 0) {
				fprintf(stderr,
					"aijri: %s: %s must be a comma list of seconds (at most %d, "
					"each at most 30 days), not '%s'\n",
					src, s->name, DISPATCHER_MAX_SCHEDULE, v);
				return 2;
			}
		}
		if (!strcmp(s->name, "public-url") && *v && !public_url_ok(v)) {
			fprintf(stderr,
				"aijri: %s: %s must be an absolute http or https URL with a host and "
				"no query or fragment, not '%s'\n", src, s->name, v);
			return 2;
		}
		memcpy(p, v, strlen(v) + 1);
		/* "https://x.org/" and "https://x.org" are one base: links add their own "/". */
		if (!strcmp(s->name, "public-url"))
			while (strlen(p) > 8 && p[strlen(p) - 1] == '/')
				p[strlen(p) - 1] = '\0';
		return 0;
	}
	return 2;
}

static const struct setting *find(const char *name, size_t len)
{
	const struct setting *s;

	for (s = settings; s->name; s++)
		if (strlen(s->name) == len && !strncmp(s->name, name, len))
			return s;
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct config *cfg, const char *path)
{
	char line[4600], where[4200];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = 0;

	if (!f) {
		fprintf(stderr, "aijri: cannot read config file %s\n", path);
		return 2;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *k, *v, *eq;
		const struct setting *s;

		lineno++;
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fprintf(stderr, "aijri: %s:%d: expected 'name = value'\n", path, lineno);
			rc = 2;
			break;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		s = find(k, strlen(k));
		if (!s) {
			fprintf(stderr, "aijri: %s:%d: unknown setting '%s'\n", path, lineno, k);
			rc = 2;
			break;
		}
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		rc = set_value(cfg, s, v, where);
	}
	fclose(f);
	return rc;
}

void config_help(FILE *f, const char *command)
{
	const struct setting *s;

	fprintf(f, "usage: aijri %s [--config PATH] [--NAME VALUE]...\n\n", command);
	fprintf(f, "Settings (a flag beats the environment, which beats the config file):\n");
	for (s = settings; s->name; s++)
		fprintf(f, "  --%-24s %-30s default %s\n      %s\n", s->name, s->env,
			*s->def ? s->def : "none", s->help);
	fprintf(f, "  --%-24s %-30s default none\n      %s\n", "config", "AIJRI_CONFIG",
		"file of 'name = value' lines with any of the settings above");
}

int config_load(struct config *cfg, int argc, char **argv, const char *command)
{
	const struct setting *s;
	const char *file = getenv("AIJRI_CONFIG");
	int i, rc;

	memset(cfg, 0, sizeof(*cfg));
	for (s = settings; s->name; s++)
		if ((rc = set_value(cfg, s, s->def, "default")))
			return rc;
	/* The file comes first, so find --config before anything else. */
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			config_help(stdout, command);
			return 1;
		}
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			file = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
	}
	if (file && *file) {
		if (strlen(file) >= sizeof(cfg->config_file))
			return 2;
		memcpy(cfg->config_file, file, strlen(file) + 1);
		if ((rc = load_file(cfg, file)))
			return rc;
	}
	for (s = settings; s->name; s++) {
		const char *v = getenv(s->env);
		if (v && *v && (rc = set_value(cfg, s, v, s->env)))
			return rc;
	}
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		size_t len;

		if (strncmp(a, "--", 2)) {
			fprintf(stderr, "aijri: unexpected argument '%s' (see --help)\n", a);
			return 2;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		if (len == 6 && !strncmp(a, "config", 6)) {
			if (!eq)
				i++;
			continue;
		}
		s = find(a, len);
		if (!s) {
			fprintf(stderr, "aijri: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		}
		if (eq)
			v = eq + 1;
		else if (s->kind == K_BOOL)
			v = "true";
		else if (i + 1 < argc)
			v = argv[++i];
		else {
			fprintf(stderr, "aijri: %s needs a value\n", argv[i]);
			return 2;
		}
		if ((rc = set_value(cfg, s, v, "command line")))
			return rc;
	}
	return 0;
}

int config_db_arg(int argc, char **argv, char *db, size_t dblen)
{
	const char *v = getenv("AIJRI_DB");
	int i, j;

	if (!v || !*v)
		v = "./aijri.db";
	for (i = 0, j = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc) {
			v = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--db=", 5)) {
			v = argv[i] + 5;
			continue;
		}
		argv[j++] = argv[i];
	}
	snprintf(db, dblen, "%s", v);
	return j;
}

int config_db_exit(int rc)
{
	return rc == RC_INVALID || rc == RC_UNAVAILABLE ? 2 : 1;
}
