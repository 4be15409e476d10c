/*
 * sortpipe.c - sort(1) as a co-process, the one place that sorts more
 * than fits in memory.  GNU sort spills to temporary files and merges, so
 * a source larger than memory still sorts in bounded memory.  Lines are
 * compared as bytes (LC_ALL=C); a record line sorts by its path because
 * TAB sorts below every byte a quoted path can hold.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

#include "arc.h"

extern char **environ;

struct arc_sort {
	pid_t	 pid;
	FILE	*in;	/* we write here */
	FILE	*out;	/* we read here */
};

/* Start sort with the given --buffer-size (NULL: sort's own default). */
struct arc_sort *
arc_sort_open(const char *bufsize)
{
	struct arc_sort *s;
	posix_spawn_file_actions_t fa;
	int to[2], from[2], e;
	char *argv[8], sizearg[64];
	int ac = 0;

	if (setenv("LC_ALL", "C", 1) == -1)
		err(arc_errstatus, "setenv");
	/*
	 * sort's buffer comes from malloc; glibc asks for transparent huge
	 * pages for it with this tunable, and first touching the buffer a
	 * 4 KiB page at a time is about a third of sort's CPU time.  Other
	 * C libraries ignore it; a setting of the user's is kept.
	 */
	if (setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 0) == -1)
		err(arc_errstatus, "setenv");
	if (pipe(to) == -1 || pipe(from) == -1)
		err(arc_errstatus, "pipe");
	argv[ac++] = "sort";
	if (bufsize) {
		snprintf(sizearg, sizeof(sizearg), "--buffer-size=%s", bufsize);
		argv[ac++] = sizearg;
	}
	argv[ac++] = "--parallel=2";
	argv[ac] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from[1], 1);
	posix_spawn_file_actions_addclose(&fa, to[0]);
	posix_spawn_file_actions_addclose(&fa, to[1]);
	posix_spawn_file_actions_addclose(&fa, from[0]);
	posix_spawn_file_actions_addclose(&fa, from[1]);
	s = arc_ecalloc(1, sizeof(*s));
	e = posix_spawnp(&s->pid, "sort", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		errno = e;
		err(arc_errstatus, "cannot run 'sort'");
	}
	close(to[0]);
	close(from[1]);
	if ((s->in = fdopen(to[1], "w")) == NULL ||
	    (s->out = fdopen(from[0], "r")) == NULL)
		err(arc_errstatus, "fdopen");
	return s;
}

FILE *
arc_sort_input(struct arc_sort *s)
{
	return s->in;
}

/* Finish the input and return the sorted output stream. */
FILE *
arc_sort_output(struct arc_sort *s)
{
	if (s->in != NULL) {
		if (arc_fshut(s->in, "sort input"))
			exit(arc_errstatus);
		s->in = NULL;
	}
	return s->out;
}

/* Reap sort; 0 when it succeeded.  Safe to call before EOF (kills it). */
int
arc_sort_close(struct arc_sort *s)
{
	int status, ret = 0, early;

	/*
	 * Stopped early, sort is killed before its pipes close: closed first,
	 * it could meet a broken pipe and say so on our standard error, a
	 * second line after the one message that says why we stopped.
	 */
	early = s->in != NULL || (s->out != NULL && !feof(s->out));
	if (early)
		kill(s->pid, SIGTERM);
	if (s->in != NULL)
		fclose(s->in);
	if (s->out != NULL)
		fclose(s->out);
	while (waitpid(s->pid, &status, 0) == -1)
		if (errno != EINTR)
			err(arc_errstatus, "waitpid");
	if (!early && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		warnx("'sort' failed");
		ret = -1;
	}
	free(s);
	return ret;
}
