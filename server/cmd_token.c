/* cmd_token.c: placeholder until the command is written. */
#include <stdio.h>

#include "server/commands.h"

int cmd_token(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "aijri: token is not built yet\n");
	return 1;
}
