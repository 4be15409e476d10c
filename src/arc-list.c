/*
 * arc-list - list a store as storage records.
 *
 * Reads the store named by the STORE operand and writes one storage
 * record (path TAB mtime TAB size, arc(7)) per candidate file to standard
 * output, sorted by path, as the walk goes: the tree is never collected
 * in memory.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arc.h"

static void
usage(void)
{
	fprintf(stderr, "usage: arc-list [-a] [-p prefix] store\n");
	exit(ARC_EXIT_ERROR);
}

static int
emit(void *arg, const char *path, size_t n, int64_t mtime, int64_t size)
{
	(void)arg;
	arc_write_storage(stdout, path, n, mtime, size);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct arc_store *st;
	char **prefixes = NULL;
	size_t np = 0;
	int ch, flags = 0, ret;

	while ((ch = getopt(argc, argv, "ap:")) != -1) {
		switch (ch) {
		case 'a':
			flags |= ARC_LIST_ALL;
			break;
		case 'p':
			prefixes = arc_ereallocarray(prefixes, np + 1,
			    sizeof(*prefixes));
			prefixes[np++] = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();

	if ((st = arc_store_open(argv[0])) == NULL)
		return ARC_EXIT_ERROR;
	ret = arc_store_list(st, prefixes, np, flags, emit, NULL);
	arc_store_close(st);
	free(prefixes);
	if (arc_fshut(stdout, "stdout"))
		return ARC_EXIT_ERROR;
	return ret;
}
