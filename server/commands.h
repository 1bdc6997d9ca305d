/*
 * commands.h: the sub-commands of bin/aijri, one file each (server/cmd_*.c). Each takes the
 * arguments after its name and returns the process exit code: 0 success, 1 failure,
 * 2 bad usage or bad input.
 */
#ifndef SERVER_COMMANDS_H
#define SERVER_COMMANDS_H

int cmd_serve(int argc, char **argv);   /* server/cmd_serve.c */
int cmd_score(int argc, char **argv);   /* server/cmd_score.c */
int cmd_token(int argc, char **argv);   /* server/cmd_token.c */
int cmd_migrate(int argc, char **argv); /* server/cmd_migrate.c */
int cmd_backup(int argc, char **argv);  /* server/cmd_ops.c */
int cmd_restore(int argc, char **argv); /* server/cmd_ops.c */
int cmd_export(int argc, char **argv);  /* server/cmd_ops.c */
int cmd_import(int argc, char **argv);  /* server/cmd_ops.c */

#endif
