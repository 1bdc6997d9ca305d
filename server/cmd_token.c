/*
 * cmd_token.c: `aijri token create NAME | list | revoke NAME [--db PATH]`. A new token is
 * shown once, alone on the last line of standard output, so that scripts can take it with
 * `tail -n 1`; the database keeps only its SHA-256, and `list` never shows a token.
 */
#include <stdio.h>
#include <string.h>

#include "server/commands.h"
#include "server/config.h"
#include "store/store.h"
#include "util/crypto.h"

#define TOKEN_PREFIX "aijri_"
#define TOKEN_RANDOM 32
#define TOKEN_NAME_MAX 64

struct token_job {
	const char *name;
	unsigned char hash[CRYPTO_SHA256_LEN];
};

static int name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 1 || n > TOKEN_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int create_job(struct store_tx *tx, void *arg)
{
	struct token_job *j = arg;

	return store_tx_token_create(tx, j->name, j->hash);
}

static int revoke_job(struct store_tx *tx, void *arg)
{
	struct token_job *j = arg;

	return store_tx_token_revoke(tx, j->name);
}

static int token_create(struct store *s, const char *name)
{
	unsigned char raw[TOKEN_RANDOM];
	/* The prefix, base64url of the random bytes (4 per 3, rounded up) and the NUL. */
	char token[sizeof(TOKEN_PREFIX) + (TOKEN_RANDOM + 2) / 3 * 4 + 1];
	struct token_job j;
	size_t n;
	int rc;

	if (crypto_random(raw, sizeof(raw))) {
		fprintf(stderr, "aijri: token: no random bytes\n");
		return 1;
	}
	memcpy(token, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
	n = sizeof(TOKEN_PREFIX) - 1;
	n += crypto_base64url(raw, sizeof(raw), token + n);
	token[n] = '\0';
	memset(&j, 0, sizeof(j));
	j.name = name;
	crypto_sha256(token, n, j.hash);
	rc = store_write(s, create_job, &j);
	if (rc == RC_CONFLICT) {
		fprintf(stderr, "aijri: token: a token named '%s' exists already\n", name);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "aijri: token: cannot store the token: %s\n", rc_str(rc));
		return 1;
	}
	fprintf(stderr, "aijri: token '%s' created; it is shown once, below:\n", name);
	printf("%s\n", token);
	return 0;
}

static int token_revoke(struct store *s, const char *name)
{
	struct token_job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.name = name;
	rc = store_write(s, revoke_job, &j);
	if (rc == RC_NOTFOUND) {
		fprintf(stderr, "aijri: token: no live token named '%s'\n", name);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "aijri: token: cannot revoke: %s\n", rc_str(rc));
		return 1;
	}
	fprintf(stderr, "aijri: token '%s' revoked\n", name);
	return 0;
}

static int list_row(void *ctx, const struct store_token *t)
{
	(void)ctx;
	printf("%-24s created %s  last used %s  %s%s\n", t->name, t->created_at,
	       t->last_used_at ? t->last_used_at : "never",
	       t->revoked_at ? "revoked " : "live", t->revoked_at ? t->revoked_at : "");
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: aijri token create NAME | list | revoke NAME [--db PATH]\n"
			"NAME: 1 to %d characters of A-Z a-z 0-9 . _ -\n",
		TOKEN_NAME_MAX);
}

int cmd_token(int argc, char **argv)
{
	struct store *s = NULL;
	char db[4096], err[512];
	const char *verb;
	int ret = 1, rc;

	argc = config_db_arg(argc, argv, db, sizeof(db));
	if (argc < 1) {
		usage();
		return 2;
	}
	verb = argv[0];
	if (!strcmp(verb, "list") ? argc != 1
	    : (!strcmp(verb, "create") || !strcmp(verb, "revoke")) ? argc != 2 || !name_ok(argv[1])
								     : 1) {
		usage();
		return 2;
	}
	rc = store_open(db, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: token: %s\n", err);
		return config_db_exit(rc);
	}
	if (!strcmp(verb, "create")) {
		ret = token_create(s, argv[1]);
	} else if (!strcmp(verb, "revoke")) {
		ret = token_revoke(s, argv[1]);
	} else {
		rc = store_tokens_list(s, list_row, NULL);
		if (rc)
			fprintf(stderr, "aijri: token: cannot list: %s\n", rc_str(rc));
		ret = rc ? 1 : 0;
	}
	store_free(s);
	return ret;
}
