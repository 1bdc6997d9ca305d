/*
 * db_bridge.h: for the move of the store onto the database layer (db.h), file by file. The
 * store opens every connection through db.h; the store files not yet written on db.h reach
 * the SQLite handle behind a connection with this. It goes when the last of them is ported:
 * only store/ includes it, and each includer is one more file to port.
 */
#ifndef STORE_DB_BRIDGE_H
#define STORE_DB_BRIDGE_H

#include "store/db.h"

/* The sqlite3 * behind c, or NULL when c is not a SQLite connection. */
void *db_sqlite_handle(struct db_conn *c);

#endif
