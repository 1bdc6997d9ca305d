/* cmd_serve.c: placeholder until the command is written. */
#include <stdio.h>

#include "server/commands.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "aijri: serve is not built yet\n");
	return 1;
}
