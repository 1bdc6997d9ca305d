/* cmd_score.c: placeholder until the command is written. */
#include <stdio.h>

#include "server/commands.h"

int cmd_score(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "aijri: score is not built yet\n");
	return 1;
}
