/*
 * arc-restore - undo a run of arc-delete(1) from its archive.
 *
 * Reads the ARCHIVE operand (an arc-delete -A archive) and puts its
 * quarantined files back into the STORE operand, never over a file that
 * exists, and its manifest entries back into the MANIFEST operand.
 * Writes one line a file to standard output, "restored", "failed" or
 * "refused" TAB orphan-storage TAB path, and messages to standard error.
 * arc-delete --restore is an alias: both call arc_restore().
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

/* exactly the SYNOPSIS of arc-restore(1) */
static const char usage_text[] =
    "usage: arc-restore archive store manifest\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

int
main(int argc, char *argv[])
{
	struct arc_store *st;
	struct arc_manifest *man;
	int ch, ret;

	while ((ch = arc_getopt(argc, argv, "", NULL, usage_text)) != -1) {
		switch (ch) {
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		usage();
	if (strcmp(argv[2], "-") == 0)
		errx(ARC_EXIT_ERROR, "the manifest cannot be '-'");
	if ((st = arc_store_open(argv[1])) == NULL ||
	    (man = arc_manifest_open(argv[2])) == NULL)
		return ARC_EXIT_ERROR;
	ret = arc_restore(argv[0], st, man);
	arc_store_close(st);
	arc_manifest_close(man);
	if (arc_fshut(stdout, "stdout"))
		return ARC_EXIT_ERROR;
	return ret;
}
