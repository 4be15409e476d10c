/*
 * fuzz_quote.c - the path unquoter and the path validators: quoting any
 * bytes and unquoting again gives the bytes back; a quoted field the
 * checker accepts unquotes; the validators never read out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "arc.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *)data, *msg;
	struct arc_buf q = { 0 }, u = { 0 };

	arc_quote(&q, s, size);
	if (arc_quoted_check(q.s ? q.s : "", q.len, &msg) != 0 ||
	    arc_unquote(&u, q.s ? q.s : "", q.len, &msg) != 0 ||
	    u.len != size || (size && memcmp(u.s, data, size) != 0))
		abort();	/* quoting must round-trip every byte string */
	u.len = 0;
	if ((arc_quoted_check(s, size, &msg) == 0) !=
	    (arc_unquote(&u, s, size, &msg) == 0))
		abort();	/* the checker and the decoder disagree */
	(void)arc_path_manifest_error(s, size);
	if (arc_path_unsafe(s, size) == NULL && arc_path_is_managed(s, size) &&
	    memchr(s, '\0', size) != NULL)
		abort();
	(void)arc_path_is_candidate(s, size);
	arc_buf_free(&q);
	arc_buf_free(&u);
	return 0;
}
