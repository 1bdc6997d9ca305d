/*
 * codes.h: a role's codes in the official occupation taxonomies, the join key to O*NET, ESCO
 * and the statistics offices: `codes` = {"soc": [...], "isco": [...]}. SOC 2018 codes
 * ("15-1252") and O*NET-SOC codes ("15-1252.00"); ISCO-08 codes of 1 to 4 digits ("2512",
 * or a group such as "25"). Reading and checking them, and their text form in the store
 * (codes separated by spaces). Pure functions on Jansson values; no I/O.
 */
#ifndef BODY_CODES_H
#define BODY_CODES_H

#include <jansson.h>

#include "scoring/scoring.h"

#define CODES_MAX 20 /* codes of each kind in one role */

/*
 * Reads the body's "codes" (v NULL when absent, or JSON null: none) at field path `field`:
 * an object with optional "soc" and "isco" arrays of distinct codes, nothing else. Reports
 * every broken code by its path ("codes.soc[1]"). Returns the normalized
 * {"soc":[...],"isco":[...]} (a new reference), [] for a kind not given.
 */
json_t *codes_read(json_t *v, const char *field, struct scoring_errors *errs);
/* 1 when s is a SOC 2018 or O*NET-SOC code ("NN-NNNN" or "NN-NNNN.NN"). */
int codes_soc_ok(const char *s);
/* 1 when s is an ISCO-08 code (1 to 4 digits). */
int codes_isco_ok(const char *s);
/* 1 when s (non-empty) is the start of some code of the kind: what ?soc= and ?isco= take. */
int codes_soc_prefix_ok(const char *s);
int codes_isco_prefix_ok(const char *s);
/* The codes of kind ("soc" or "isco") of a normalized role, joined by sep, in *out (malloc'd;
 * NULL when it has none). RC_NOMEM (and *out NULL) when memory fails. */
__attribute__((warn_unused_result)) int codes_join(json_t *role, const char *kind, char sep,
						   char **out);
/* A JSON array of the codes of a space-separated list (NULL: []). New reference. */
json_t *codes_split(const char *list);
/* Gives a stored role that predates codes its normalized empty "codes" (before "assessment"
 * keeps the body's member order). */
void codes_fill_default(json_t *role);

#endif
