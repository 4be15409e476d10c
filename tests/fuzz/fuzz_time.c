/*
 * fuzz_time.c - the RFC 3339 and duration parsers: a record time that
 * parses formats back to the same text; nothing overflows (UBSan).
 */
#include <stdlib.h>
#include <string.h>

#include "arc.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char buf[ARC_TIME_BUFSZ], *s;
	int64_t t, ns;

	if (arc_time_parse((const char *)data, size, ARC_TIME_RECORD, &t) == 0) {
		arc_time_format(t, buf);
		if (strlen(buf) != size || memcmp(buf, data, size) != 0)
			abort();	/* a record time has one spelling */
	}
	if (arc_time_parse((const char *)data, size, ARC_TIME_LENIENT, &t) == 0)
		arc_time_format(t, buf);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (arc_duration_parse(s, &ns) == 0 && ns < 0)
		abort();
	free(s);
	return 0;
}
