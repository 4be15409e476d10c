/*
 * usage.c - the options every tool takes alike, written once: --help
 * prints the tool's usage (its man page's SYNOPSIS) to standard output
 * and exits 0, as a person asking for it expects; --version prints the
 * tool's name and the one version of the suite, the Makefile's VERSION;
 * a usage error prints the same usage to standard error, exit 2.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

#ifndef ARC_VERSION
#error "ARC_VERSION is the Makefile's VERSION, passed in CPPFLAGS"
#endif

/* getopt_long values no short option can take */
#define OPT_HELP	0x10000
#define OPT_VERSION	0x10001
#define MAXLONG		32

void
arc_usage(const char *text, int status)
{
	if (status != ARC_EXIT_OK) {
		fputs(text, stderr);
		exit(status);
	}
	fputs(text, stdout);
	/* --help >/dev/full is an error, not a silent success */
	exit(arc_fshut(stdout, "stdout") ? ARC_EXIT_ERROR : ARC_EXIT_OK);
}

/*
 * getopt_long(3) over the tool's long options (NULL: none) and --help
 * and --version, which are handled here and never returned.  The tool's
 * options are copied once into a fixed table: no allocation to free.
 */
int
arc_getopt(int argc, char *const argv[], const char *optstring,
    const struct option *longopts, const char *usage)
{
	static struct option all[MAXLONG];
	static const struct option *from;
	static int built;
	size_t n;
	int ch;

	if (!built || from != longopts) {
		for (n = 0; longopts != NULL && longopts[n].name != NULL; n++)
			continue;
		if (n + 3 > MAXLONG)
			errx(ARC_EXIT_ERROR, "too many long options");
		if (n > 0)
			memcpy(all, longopts, n * sizeof(*all));
		all[n] = (struct option){ "help", no_argument, NULL, OPT_HELP };
		all[n + 1] = (struct option){ "version", no_argument, NULL,
		    OPT_VERSION };
		all[n + 2] = (struct option){ NULL, 0, NULL, 0 };
		from = longopts;
		built = 1;
	}
	ch = getopt_long(argc, argv, optstring, all, NULL);
	switch (ch) {
	case OPT_HELP:
		arc_usage(usage, ARC_EXIT_OK);
	case OPT_VERSION:
		printf("%s %s\n", program_invocation_short_name, ARC_VERSION);
		exit(arc_fshut(stdout, "stdout") ? ARC_EXIT_ERROR :
		    ARC_EXIT_OK);
	}
	return ch;
}
