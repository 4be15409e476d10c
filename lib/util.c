/*
 * util.c - allocation wrappers that exit with the tool's error status,
 * output checks before exit, and number parsing for options.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"

int arc_errstatus = ARC_EXIT_ERROR;

void *
arc_emalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		err(arc_errstatus, "malloc");
	return p;
}

void *
arc_ecalloc(size_t n, size_t m)
{
	void *p;

	if ((p = calloc(n ? n : 1, m ? m : 1)) == NULL)
		err(arc_errstatus, "calloc");
	return p;
}

void *
arc_erealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		err(arc_errstatus, "realloc");
	return p;
}

void *
arc_ereallocarray(void *p, size_t n, size_t m)
{
	if (m && n > SIZE_MAX / m) {
		errno = ENOMEM;
		err(arc_errstatus, "reallocarray");
	}
	return arc_erealloc(p, n * m);
}

char *
arc_estrdup(const char *s)
{
	return arc_estrndup(s, strlen(s));
}

char *
arc_estrndup(const char *s, size_t n)
{
	char *p;

	p = arc_emalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Flush and close an output stream, so that a full disk or a closed pipe
 * is an error and not a silently truncated result (sbase's fshut).
 */
int
arc_fshut(FILE *fp, const char *name)
{
	int ret = 0;

	if (fflush(fp) == EOF || ferror(fp)) {
		warn("write error on '%s'", name);
		ret = 1;
	}
	if (fclose(fp) == EOF && !ret) {
		warn("close error on '%s'", name);
		ret = 1;
	}
	return ret;
}

/* Parse a decimal option argument in [min, max]; 0 on success. */
int
arc_parse_count(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* write(2) until done; -1 on error. */
int
arc_write_full(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
