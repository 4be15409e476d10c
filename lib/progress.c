/*
 * progress.c - how many records a tool has handled so far, for the
 * progress line arc-reconcile draws on a terminal while a stage runs:
 * the stages that sort before they write (arc-list on an object store,
 * arc-manifest-dump) print nothing until the end, so their output
 * cannot be counted instead.
 *
 * When ARC_PROGRESS_FILE names a file, the count is written to it five
 * times a second while it changes, as one line overwritten in place.
 * The file must exist already, be a regular file of the caller's own and
 * be empty or hold such a count (spaces, digits, a newline; at most 64
 * bytes): the variable can make a tool rewrite a progress file, never
 * create, follow a link to or clobber anything else.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arc.h"

#define PROGRESS_EVERY_MS	200

static int progress_fd = -2;	/* -2: not opened yet; -1: none */
static uintmax_t progress_count;
static int progress_started;

static int
progress_open(void)
{
	const char *p = getenv("ARC_PROGRESS_FILE");
	char buf[65] = { 0 };
	struct stat st;
	ssize_t n;
	int fd;

	if (p == NULL || *p == '\0')
		return -1;
	if ((fd = open(p, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size > 64)
		goto no;
	/* empty, or a count as written here: nothing else is overwritten */
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0 || (size_t)n != strspn(buf, " 0123456789\n") ||
	    n != st.st_size)
		goto no;
	return fd;
no:
	close(fd);
	return -1;
}

static void
progress_write(uintmax_t n)
{
	char buf[32];
	int len;

	len = snprintf(buf, sizeof(buf), "%20ju\n", n);
	/* one small write at offset 0: a reader sees the old or new line */
	(void)pwrite(progress_fd, buf, (size_t)len, 0);
}

/*
 * A thread writes the count out every PROGRESS_EVERY_MS while it
 * changes, so that a burst followed by a long wait (a slow source, a
 * long sort) shows its true count, and the record loop pays for an
 * atomic add only.
 */
static void *
progress_loop(void *arg)
{
	struct timespec ts = { 0, PROGRESS_EVERY_MS * 1000000L };
	uintmax_t last = 0, c;

	(void)arg;
	for (;;) {
		nanosleep(&ts, NULL);
		c = __atomic_load_n(&progress_count, __ATOMIC_RELAXED);
		if (c != last)
			progress_write(last = c);
	}
	return NULL;
}

/* Count n more records. */
void
arc_progress_add(uintmax_t n)
{
	pthread_attr_t attr;
	pthread_t t;

	__atomic_add_fetch(&progress_count, n, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&progress_started, 1, __ATOMIC_ACQ_REL))
		return;
	if ((progress_fd = progress_open()) == -1)
		return;
	progress_write(n);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, progress_loop, NULL) != 0) {
		close(progress_fd);
		progress_fd = -1;
	}
	pthread_attr_destroy(&attr);
}

/* Write the final count out. */
void
arc_progress_done(void)
{
	if (progress_fd >= 0)
		progress_write(__atomic_load_n(&progress_count,
		    __ATOMIC_RELAXED));
}
