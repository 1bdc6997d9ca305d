/*
 * db_bridge.h: the SQLite handle behind a connection of the database layer (db.h), for what
 * is SQLite's alone and not yet behind the layer: the WAL checkpointer (checkpoint.c), the
 * writer's WAL hook and WAL size limit (writer.c), the SQL function of the score history
 * (history.c) and the one migration 0007 turns revisions into pieces with (pieces_sql.c). Every row the store reads or writes goes through db.h; tests/structure.sh
 * lists the files allowed to call SQLite, so a new one is a decision.
 */
#ifndef STORE_DB_BRIDGE_H
#define STORE_DB_BRIDGE_H

#include "store/db.h"

/* The sqlite3 * behind c, or NULL when c is not a SQLite connection. */
void *db_sqlite_handle(struct db_conn *c);

#endif
