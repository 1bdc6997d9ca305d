/*
 * main.c: bin/aijri's entry point. It only picks the sub-command; each lives in its own
 * server/cmd_*.c. Process-wide set-up that every command needs happens here once.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "server/commands.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", cmd_serve, "run the HTTP service (see serve --help)" },
	{ "score", cmd_score, "score FILE|-: print the score block of an assessment JSON" },
	{ "token", cmd_token, "token create NAME | list | revoke NAME: manage API tokens" },
	{ "migrate", cmd_migrate, "apply the database migrations and report the version" },
	{ "backup", cmd_backup, "backup PATH: an online, consistent copy of the database" },
	{ "restore", cmd_restore, "restore PATH: replace the database (not while in use)" },
	{ "export", cmd_export, "export [FILE]: every role with its assessment, as NDJSON" },
	{ "import", cmd_import, "import FILE|-: load roles from NDJSON, all or nothing" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	const struct command *c;

	fprintf(f, "usage: aijri COMMAND [ARGS]\n\ncommands:\n");
	for (c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
	fprintf(f, "\nCommon options: --db PATH (or AIJRI_DB; default ./aijri.db)\n");
}

int main(int argc, char **argv)
{
	const struct command *c;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	/*
	 * glibc hands the free top of a heap back to the kernel as soon as it passes 128 KiB
	 * (madvise, then a TLB flush on every core, then the pages faulted in again on the next
	 * malloc): a write or an import frees that much at every turn. perf found it at 8% of the
	 * writer thread's time and a quarter of an import's. Past these bounds only.
	 */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	/* A peer that goes away mid-write must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "aijri: libcurl failed to initialise\n");
		return 1;
	}
	for (c = commands; c->name; c++) {
		if (!strcmp(argv[1], c->name)) {
			rc = c->fn(argc - 2, argv + 2);
			curl_global_cleanup();
			return rc;
		}
	}
	curl_global_cleanup();
	fprintf(stderr, "aijri: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
