/*
 * recency.h: how recent an assessment's evidence is. Each evidence dimension carries `as_of`
 * ("YYYY-MM-DD", not in the future), part of the role body: given by the client, or else the
 * date of the revision that last changed the dimension. A dimension is stale when its as_of
 * is more than the server's stale-after days before today (UTC); stale is computed for read
 * views only and never stored.
 *
 * Pure functions on Jansson values (role bodies with their "assessment"); no I/O.
 */
#ifndef BODY_RECENCY_H
#define BODY_RECENCY_H

#include <stdint.h>

#include <jansson.h>

#include "scoring/scoring.h"

/*
 * Reads an as_of value at `field`: "YYYY-MM-DD", a real date from year 1000, not after today
 * (a day number, clock_day()). Returns a new reference to the string, or NULL after adding
 * an error to errs.
 */
json_t *recency_read_as_of(json_t *v, const char *field, int64_t today,
			   struct scoring_errors *errs);

/*
 * Gives each evidence dimension of new_role that has no as_of one: the previous one's
 * (prev_role's same dimension, NULL for a new role) when the dimension is unchanged, else
 * today: the revision's date ("YYYY-MM-DD", or a timestamp that starts with it). Members that new_role shares with other values are replaced by
 * copies, never changed in place; new_role's "assessment" object itself must be its own.
 * Returns 0 or RC_NOMEM.
 */
int recency_fill(json_t *new_role, json_t *prev_role, const char *today);

/*
 * For a role as stored before dimensions carried as_of: fills the missing ones, in place,
 * from as_of_map (the store's JSON object dimension -> date; NULL: nothing to fill from).
 * Call it only on a value of one's own (one just parsed).
 */
void recency_fill_stored(json_t *role, const char *as_of_map);

/* The as_of of each dimension of a filled role as a JSON object text (malloc'd), and the
 * oldest of them into oldest (CLOCK_DAY_LEN bytes, "" when none). NULL when out of memory. */
char *recency_map(json_t *role, char *oldest, size_t oldest_len);

/* The first day that is not stale: today - stale_after_days. A date before it is stale. */
int64_t recency_cutoff(int64_t today, int stale_after_days);

/*
 * The read view of a role's evidence recency, from its as_of map (the object recency_map()
 * writes; NULL: nothing known): {"<dimension>":{"as_of","stale"}, ...} in the method's order
 * (a new reference), and *mask, bit i set when dimension i is stale: its as_of is before
 * cutoff (recency_cutoff()).
 */
json_t *recency_view(json_t *as_of_map, int64_t cutoff, unsigned *mask);

#endif
