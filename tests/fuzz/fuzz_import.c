/*
 * fuzz_import.c: libFuzzer target for the lines of `aijri import` (server/import_lines.c):
 * each input is an import file's bytes, read with import_read as the command reads its file,
 * and what reads cleanly is validated with revise_import_check as the command does before it
 * opens the database (the writes themselves are the API tests' and fuzz_assessment's).
 *
 * Invariants (abort() when broken): import_read answers 0 or 2 (never 1: the input is in
 * memory); on 2 it says why; every record read is a JSON object without the derived members
 * an export adds; revise_import_check answers RC_OK or RC_INVALID, and on RC_INVALID names a
 * record that exists and at least one error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "revise/revise.h"
#include "scoring/scoring.h"
#include "server/import_lines.h"
#include "util/rc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_records r;
	struct scoring_errors errs;
	FILE *f;
	size_t i, bad = 0;
	int ret, rc;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		abort();
	memset(&r, 0, sizeof(r));
	ret = import_read(f, "fuzz", &r);
	fclose(f);
	if (ret != 0 && ret != 2)
		abort();
	if (ret == 2 && !r.why[0])
		abort();
	for (i = 0; i < r.n; i++) {
		if (!json_is_object(r.v[i]) || json_object_get(r.v[i], "score") ||
		    json_object_get(r.v[i], "revision") || json_object_get(r.v[i], "created_at") ||
		    json_object_get(r.v[i], "updated_at") || r.line[i] < 1)
			abort();
		if (i && r.line[i] <= r.line[i - 1])
			abort();
	}
	if (!ret && r.n) {
		rc = revise_import_check(r.v, r.n, &bad, &errs);
		if (rc != RC_OK && rc != RC_INVALID)
			abort();
		if (rc == RC_INVALID && (bad >= r.n || errs.n < 1))
			abort();
	}
	import_records_release(&r);
	return 0;
}
