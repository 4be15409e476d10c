/*
 * main.c - run the library's unit tests, one group per lib/ concern, as
 * TAP on stdout.  Exit 0 when every check passed, 1 otherwise.
 *
 * Built with AddressSanitizer and UBSan by "make build/unit/run"; run
 * with LC_ALL=C TZ=UTC like everything else (the library must not care).
 */
#include <stdio.h>

#define UNIT_MAIN
#include "unit.h"

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{ "quote", test_quote },
	{ "time", test_time },
	{ "path", test_path },
	{ "record", test_record },
	{ "json", test_json },
	{ "azcred", test_azcred },
	{ "shard", test_shard },
	{ "url", test_url },
	{ "url_local", test_url_local },
	{ "sort", test_sort },
	{ "xml", test_xml },
};

int
main(void)
{
	size_t i;

	/* Checks and library messages interleave in the order they happen. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		printf("# %s\n", groups[i].name);
		groups[i].fn();
	}
	return unit_done();
}
