/*
 * config.h: every setting of `aijri serve` in one table, read from flags, the environment
 * and an optional config file, in that order of precedence (a flag beats the environment,
 * which beats the file, which beats the default). `aijri serve --help` prints the table.
 *
 * Config file: `--config PATH` or AIJRI_CONFIG; lines `name = value`, `#` comments, names
 * as the flags without the dashes (e.g. `port = 8080`).
 */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stdio.h>

struct config {
	int port;
	char db[4096];
	char bind[64];            /* IPv4 listen address */
	int allow_private_webhooks;
	int threads;              /* HTTP worker threads; 0 = number of cores */
	int max_connections;
	int max_connections_per_address; /* 0: no per-address limit */
	int cache_mb;             /* the response cache's bound, MiB */
	int connection_timeout;   /* seconds of idleness before a connection is closed */
	char log_format[8];       /* "text" or "json" */
	char retry_schedule[512]; /* comma list of seconds */
	int webhook_timeout;      /* seconds for one delivery */
	int webhook_concurrency;  /* deliveries in flight at once */
	int webhook_claim_seconds; /* the lease of a delivery's claim; 0 = from webhook_timeout */
	int webhook_pause_days;   /* how long a paused subscription's deliveries wait for it */
	char public_url[512];     /* base of absolute URLs in pages and feeds; "" = localhost */
	int stale_after_days;     /* evidence older than this many days is stale */
	char config_file[4096];
};

/*
 * Fills cfg from the defaults, the config file, the environment and argv (the arguments after
 * the command name), in rising precedence. Returns 0, 1 if --help was asked (the help is
 * printed to stdout), or 2 with a message on stderr for a bad flag or value.
 */
int config_load(struct config *cfg, int argc, char **argv, const char *command);
/* Prints every setting, its flag, environment variable and default. */
void config_help(FILE *f, const char *command);

/* The database path for the CLI commands: --db PATH in argv (removed from argv), else
 * AIJRI_DB, else ./aijri.db. Returns the remaining argument count. */
int config_db_arg(int argc, char **argv, char *db, size_t dblen);

/* The exit status of a command whose database did not open (rc of store_open): 2 when the
 * database string is at fault or the server would not have us (a URI libpq cannot read, a
 * server that cannot be reached, a login or database refused: the configuration is to fix),
 * else 1. */
int config_db_exit(int rc);

#endif
