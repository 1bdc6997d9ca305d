/* cmd_migrate.c: placeholder until the command is written. */
#include <stdio.h>

#include "server/commands.h"

int cmd_migrate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "aijri: migrate is not built yet\n");
	return 1;
}
