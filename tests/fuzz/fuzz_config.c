/*
 * fuzz_config.c: libFuzzer target for the settings of `aijri serve` (server/config.c): each
 * input is a config file's bytes, written to a temporary file and loaded with config_load as
 * `aijri serve --config FILE` would, with no AIJRI_* variable set. Also each input's first
 * line as a flag value: `--port VALUE`, `--retry-schedule VALUE` and `--public-url VALUE`.
 *
 * Invariants (abort() when broken): config_load answers 0 or 2 (a bad file is a clear error,
 * exit 2, never a crash), or 1 when the flag value was -h or --help (it printed the help); when it answers 0, every integer setting is within its documented
 * range and every string setting is NUL-terminated within its field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	extern char **environ;
	char **e;
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/aijri-fuzz-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	/* No setting may come from the environment: only the input decides. */
	for (e = environ; *e;) {
		if (!strncmp(*e, "AIJRI_", 6)) {
			char name[128];
			size_t n = strcspn(*e, "=");

			snprintf(name, sizeof(name), "%.*s", (int)n, *e);
			unsetenv(name);
			e = environ;
		} else {
			e++;
		}
	}
	return 0;
}

/* help: whether an argument asked for --help (then config_load prints it and answers 1). */
static void check(const struct config *c, int rc, int help)
{
	if (rc != 0 && rc != 2 && !(rc == 1 && help))
		abort();
	if (rc)
		return;
	if (c->port < 1 || c->port > 65535 || c->threads < 0 || c->max_connections < 1 ||
	    c->max_connections_per_address < 0 || c->cache_mb < 1 || c->connection_timeout < 1 ||
	    c->webhook_timeout < 1 || c->webhook_concurrency < 1 || c->webhook_pause_days < 1 ||
	    c->stale_after_days < 1)
		abort();
	if (!memchr(c->db, '\0', sizeof(c->db)) || !memchr(c->bind, '\0', sizeof(c->bind)) ||
	    !memchr(c->log_format, '\0', sizeof(c->log_format)) ||
	    !memchr(c->retry_schedule, '\0', sizeof(c->retry_schedule)) ||
	    !memchr(c->public_url, '\0', sizeof(c->public_url)))
		abort();
	if (strcmp(c->log_format, "text") && strcmp(c->log_format, "json"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const flags[] = { "--port", "--retry-schedule", "--public-url" };
	struct config *c = malloc(sizeof(*c));
	char *argv[4], *first;
	FILE *f;
	size_t n, i;
	int rc;

	if (!c)
		abort();
	f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	argv[0] = (char *)"--config";
	argv[1] = path;
	argv[2] = NULL;
	rc = config_load(c, 2, argv, "serve");
	check(c, rc, 0);

	n = 0;
	while (n < size && data[n] != '\n' && data[n] != '\0')
		n++;
	first = malloc(n + 1);
	if (!first)
		abort();
	memcpy(first, data, n);
	first[n] = '\0';
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		argv[0] = (char *)flags[i];
		argv[1] = first;
		argv[2] = NULL;
		rc = config_load(c, 2, argv, "serve");
		check(c, rc, !strcmp(first, "-h") || !strcmp(first, "--help"));
	}
	free(first);
	free(c);
	return 0;
}
