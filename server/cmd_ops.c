/* cmd_ops.c: placeholder until the operations commands are written. */
#include <stdio.h>

#include "server/commands.h"

static int todo(const char *what)
{
	fprintf(stderr, "aijri: %s is not built yet\n", what);
	return 1;
}

int cmd_backup(int argc, char **argv) { (void)argc; (void)argv; return todo("backup"); }
int cmd_restore(int argc, char **argv) { (void)argc; (void)argv; return todo("restore"); }
int cmd_export(int argc, char **argv) { (void)argc; (void)argv; return todo("export"); }
int cmd_import(int argc, char **argv) { (void)argc; (void)argv; return todo("import"); }
