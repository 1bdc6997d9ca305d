/*
 * readers.c: the read connections of the store, one per reading thread (the database layer's
 * read connection of that thread, db_reader), opened on the thread's first read and given up
 * when the thread ends. They are listed, so that store_free can let go of those of threads
 * still alive.
 */
#include <stdlib.h>

#include "store/store_int.h"

/* A reading thread's connection: conn.dc is the layer's, closed by db_readers_close, never
 * here. */
struct reader {
	struct readers *owner;
	struct store_conn conn;
	struct reader *prev, *next;
};

struct readers {
	pthread_key_t key;  /* this thread's struct reader */
	pthread_mutex_t mu; /* guards list */
	struct reader *list;
};

/* The thread key's destructor: the thread ends. */
static void reader_destroy(void *p)
{
	struct reader *r = p;
	struct readers *rs = r->owner;

	pthread_mutex_lock(&rs->mu);
	if (r->prev)
		r->prev->next = r->next;
	else
		rs->list = r->next;
	if (r->next)
		r->next->prev = r->prev;
	pthread_mutex_unlock(&rs->mu);
	free(r);
}

enum rc readers_new(struct readers **out)
{
	struct readers *rs = calloc(1, sizeof(*rs));

	*out = NULL;
	if (!rs)
		return RC_NOMEM;
	if (pthread_key_create(&rs->key, reader_destroy)) {
		free(rs);
		return RC_IO;
	}
	pthread_mutex_init(&rs->mu, NULL);
	*out = rs;
	return RC_OK;
}

void readers_free(struct readers *rs)
{
	struct reader *r, *next;

	if (!rs)
		return;
	/* Deleting the key first means no thread's destructor can run on what we free. */
	pthread_key_delete(rs->key);
	for (r = rs->list; r; r = next) {
		next = r->next;
		free(r);
	}
	pthread_mutex_destroy(&rs->mu);
	free(rs);
}

struct store_conn *store_reader(struct store *s)
{
	struct readers *rs = s->readers;
	struct reader *r;

	r = pthread_getspecific(rs->key);
	if (r)
		return &r->conn;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->owner = rs;
	/* The layer's read connection of this thread (it logs a failure). */
	if (db_reader(s->db, &r->conn.dc)) {
		free(r);
		return NULL;
	}
	if (pthread_setspecific(rs->key, r)) {
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&rs->mu);
	r->next = rs->list;
	if (rs->list)
		rs->list->prev = r;
	rs->list = r;
	pthread_mutex_unlock(&rs->mu);
	return &r->conn;
}
