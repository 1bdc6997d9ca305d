/*
 * cmd_migrate.c: `aijri migrate [--db PATH]`. Opening the store applies any migration the
 * database lacks; this command does only that and reports the version, so that an operator
 * can migrate before starting a new binary. It never loads data.
 */
#include <stdio.h>

#include "server/commands.h"
#include "server/config.h"
#include "store/store.h"

int cmd_migrate(int argc, char **argv)
{
	struct store *s = NULL;
	char db[4096], err[512];
	int rc;

	argc = config_db_arg(argc, argv, db, sizeof(db));
	if (argc > 0) {
		fprintf(stderr, "usage: aijri migrate [--db PATH]\n");
		return 2;
	}
	rc = store_open(db, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "aijri: migrate: %s\n", err);
		return config_db_exit(rc);
	}
	printf("schema version %d (latest %d)\n", store_schema_version(s), store_schema_latest());
	store_free(s);
	return 0;
}
