/*
 * stage - run one command and append what it cost to a file.
 *
 *	stage file label command [arg ...]
 *
 * Appends one line to file:
 *
 *	label seconds maxrss_kib rchar wchar read_bytes write_bytes tmp exit
 *
 * seconds is wall time; maxrss_kib the peak RSS of the command or of its
 * largest descendant (getrusage); rchar and wchar the bytes it and its
 * descendants passed to read and write calls (copy_file_range(2)
 * included), read_bytes and write_bytes what reached the disk
 * (/proc/PID/io; a descendant's figures as last sampled, every 100 ms,
 * before it ended; the command's own read after it ends, before it is
 * reaped); tmp the peak, over the samples, of the bytes held by the
 * regular files that the command and its descendants have open under
 * $TMPDIR (default /tmp), deleted ones included: the temporary disk the
 * stage used.  exit is the command's exit status (128 + signal).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXPROC	256

struct io {
	unsigned long long rchar, wchar, rbytes, wbytes;
};

static struct {
	pid_t		 pid;
	struct io	 io;
} seen[MAXPROC];
static int nseen;

static const char *tmpdir;
static size_t tmplen;

static int
read_io(pid_t pid, struct io *io)
{
	char path[64], key[32];
	unsigned long long v;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	memset(io, 0, sizeof(*io));
	while (fscanf(fp, "%31[^:]: %llu\n", key, &v) == 2) {
		if (strcmp(key, "rchar") == 0)
			io->rchar = v;
		else if (strcmp(key, "wchar") == 0)
			io->wchar = v;
		else if (strcmp(key, "read_bytes") == 0)
			io->rbytes = v;
		else if (strcmp(key, "write_bytes") == 0)
			io->wbytes = v;
	}
	fclose(fp);
	return 0;
}

/* The bytes of regular files under tmpdir that pid has open. */
static unsigned long long
tmp_bytes(pid_t pid)
{
	char dir[64], fd[320], link[4096];
	unsigned long long sum = 0;
	struct dirent *d;
	struct stat sb;
	ssize_t n;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", dir, d->d_name);
		if ((n = readlink(fd, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, tmpdir, tmplen) != 0 ||
		    stat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
			continue;
		sum += (unsigned long long)sb.st_blocks * 512;
	}
	closedir(dp);
	return sum;
}

/* pid and its descendants, depth first, through /proc's children lists. */
static int
tree(pid_t pid, pid_t *v, int n)
{
	char path[64];
	FILE *fp;
	int c;

	if (n >= MAXPROC)
		return n;
	v[n++] = pid;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
	    (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return n;
	while (fscanf(fp, "%d", &c) == 1)
		n = tree((pid_t)c, v, n);
	fclose(fp);
	return n;
}

/* One sample: descendants' I/O, and the temporary bytes held now. */
static unsigned long long
sample(pid_t top)
{
	pid_t v[MAXPROC];
	unsigned long long tmp = 0;
	struct io io;
	int i, j, n;

	n = tree(top, v, 0);
	for (i = 0; i < n; i++) {
		tmp += tmp_bytes(v[i]);
		if (v[i] == top || read_io(v[i], &io) == -1)
			continue;
		for (j = 0; j < nseen && seen[j].pid != v[i]; j++)
			;
		if (j == nseen) {
			if (nseen == MAXPROC)
				continue;
			seen[nseen++].pid = v[i];
		}
		seen[j].io = io;
	}
	return tmp;
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1, tick = { 0, 100 * 1000 * 1000 };
	unsigned long long tmp, peak = 0;
	struct rusage ru;
	struct io io, sum;
	siginfo_t si;
	FILE *out;
	pid_t pid;
	int i, st, code;

	if (argc < 4) {
		fprintf(stderr, "usage: stage file label command [arg ...]\n");
		return 2;
	}
	if ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	tmplen = strlen(tmpdir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1)
		err(2, "fork");
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		err(127, "cannot run '%s'", argv[3]);
	}
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
			err(2, "waitid");
		if (si.si_pid == pid)
			break;
		if ((tmp = sample(pid)) > peak)
			peak = tmp;
		nanosleep(&tick, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	memset(&sum, 0, sizeof(sum));
	if (read_io(pid, &sum) == -1)
		warn("cannot read /proc/%d/io", (int)pid);
	for (i = 0; i < nseen; i++) {
		io = seen[i].io;
		sum.rchar += io.rchar;
		sum.wchar += io.wchar;
		sum.rbytes += io.rbytes;
		sum.wbytes += io.wbytes;
	}
	if (wait4(pid, &st, 0, &ru) == -1)
		err(2, "wait4");
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if ((out = fopen(argv[1], "a")) == NULL)
		err(2, "cannot open '%s'", argv[1]);
	fprintf(out, "%s %.2f %ld %llu %llu %llu %llu %llu %d\n", argv[2],
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss,
	    sum.rchar, sum.wchar, sum.rbytes, sum.wbytes, peak, code);
	if (fclose(out) == EOF)
		err(2, "cannot write '%s'", argv[1]);
	return code;
}
