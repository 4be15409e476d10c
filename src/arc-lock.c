/*
 * arc-lock - run a command while holding a lease-backed lock in etcd.
 *
 * Grants a lease with a TTL, creates the lock key with that lease only if
 * no one holds it, runs the command, and keeps the lease alive while the
 * command runs (flock(1)'s shape, across hosts).  A held lock means exit
 * 75 and the command never runs.  When the lease cannot be kept alive
 * (etcd unreachable, the lease expired), the loss is recorded in the -f
 * file and the command gets SIGTERM, so it stops before its next batch.
 * At the end the lease is revoked, which deletes the key; a crashed
 * holder's key goes when its lease expires.  Reads nothing; writes the
 * -f file and messages on standard error.
 *
 * With -e the lost-file lives in a directory of arc-lock's own, made
 * with mkdtemp(3) and named to the command in the variable given: the
 * directory and the one file in it are the only things arc-lock ever
 * removes, and their names never come from outside this process.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

#define EXIT_HELD	75

static volatile sig_atomic_t forward_sig;
static char *lease_dir;		/* made here by mkdtemp, or NULL */
static char *lease_file;	/* lease_dir/lost */
static pid_t lease_owner;	/* the process that made them */

/* exactly the SYNOPSIS of arc-lock(1) */
static const char usage_text[] =
    "usage: arc-lock [-e name | -f lost-file] [-t ttl] etcd-url "
    "command [arg ...]\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

static void
on_signal(int sig)
{
	forward_sig = sig;
}

/* Remove the private directory and its lost-file, if this process made them. */
static void
lease_dir_remove(void)
{
	if (lease_dir == NULL || getpid() != lease_owner)
		return;
	if (unlink(lease_file) == -1 && errno != ENOENT)
		warn("cannot remove '%s'", lease_file);
	if (rmdir(lease_dir) == -1)
		warn("cannot remove '%s'", lease_dir);
}

/*
 * -e: a private directory for the lost-file, $TMPDIR/arc-lease.XXXXXX,
 * whose file name the command finds in the variable name, and the pid of
 * this arc-lock in ARC_LOCK_PID, so that the command can tell that its
 * parent set them.
 */
static void
lease_dir_make(const char *name)
{
	const char *t = getenv("TMPDIR");
	char pid[32];

	if (*name == '\0' || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name) ||
	    (*name >= '0' && *name <= '9'))
		errx(ARC_EXIT_ERROR, "'%s': not a variable name", name);
	if (t == NULL || *t == '\0')
		t = "/tmp";
	lease_dir = arc_emalloc(strlen(t) + sizeof("/arc-lease.XXXXXX"));
	sprintf(lease_dir, "%s/arc-lease.XXXXXX", t);
	if (mkdtemp(lease_dir) == NULL)
		err(ARC_EXIT_ERROR, "cannot create a directory in '%s'", t);
	lease_owner = getpid();
	lease_file = arc_emalloc(strlen(lease_dir) + sizeof("/lost"));
	sprintf(lease_file, "%s/lost", lease_dir);
	atexit(lease_dir_remove);
	snprintf(pid, sizeof(pid), "%ld", (long)lease_owner);
	if (setenv(name, lease_file, 1) == -1 ||
	    setenv("ARC_LOCK_PID", pid, 1) == -1)
		err(ARC_EXIT_ERROR, "setenv");
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
grant(struct arc_etcd *e, long long ttl, struct arc_buf *eb)
{
	struct json_object *req, *res;
	long status;
	int64_t id = 0;

	req = json_object_new_object();
	json_object_object_add(req, "TTL", json_object_new_int64(ttl));
	if ((res = arc_etcd_call(e, "/v3/lease/grant", req, &status, eb))) {
		id = arc_etcd_int(res, "ID");
		json_object_put(res);
	}
	json_object_put(req);
	return id;
}

/* 1: the lease lives on; 0: it has expired; -1: no answer (eb says). */
static int
keepalive(struct arc_etcd *e, int64_t id, struct arc_buf *eb)
{
	struct json_object *req, *res, *r;
	long status;
	int ok = -1;

	req = json_object_new_object();
	json_object_object_add(req, "ID", json_object_new_int64(id));
	if ((res = arc_etcd_call(e, "/v3/lease/keepalive", req, &status,
	    eb))) {
		/* an expired lease answers with no TTL */
		ok = json_object_object_get_ex(res, "result", &r) &&
		    arc_etcd_int(r, "TTL") > 0;
		if (!ok) {
			eb->len = 0;
			arc_buf_adds(eb, "the lease has expired");
		}
		json_object_put(res);
	}
	json_object_put(req);
	return ok;
}

static void
lease_revoke(struct arc_etcd *e, int64_t id)
{
	struct json_object *req, *res;
	struct arc_buf eb = { 0 };
	long status;

	req = json_object_new_object();
	json_object_object_add(req, "ID", json_object_new_int64(id));
	res = arc_etcd_call(e, "/v3/lease/revoke", req, &status, &eb);
	json_object_put(res);
	json_object_put(req);
	arc_buf_free(&eb);
}

/* Create key with the lease if nobody has it; 1 taken, 0 held, -1 error. */
static int
take(struct arc_etcd *e, struct arc_buf *key, int64_t id, struct arc_buf *holder,
    struct arc_buf *eb)
{
	struct json_object *req, *arr, *c, *op, *inner, *res, *v, *rr, *kvs;
	char me[300], host[256];
	long status;
	int r = -1;

	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "-");
	host[sizeof(host) - 1] = '\0';
	snprintf(me, sizeof(me), "%s pid %ld", host, (long)getpid());
	req = json_object_new_object();
	arr = json_object_new_array();
	c = json_object_new_object();
	arc_etcd_add_bytes(c, "key", key->s, key->len);
	json_object_object_add(c, "target", json_object_new_string("CREATE"));
	json_object_object_add(c, "result", json_object_new_string("EQUAL"));
	json_object_object_add(c, "create_revision", json_object_new_string("0"));
	json_object_array_add(arr, c);
	json_object_object_add(req, "compare", arr);
	arr = json_object_new_array();
	op = json_object_new_object();
	inner = json_object_new_object();
	arc_etcd_add_bytes(inner, "key", key->s, key->len);
	arc_etcd_add_bytes(inner, "value", me, strlen(me));
	json_object_object_add(inner, "lease", json_object_new_int64(id));
	json_object_object_add(op, "request_put", inner);
	json_object_array_add(arr, op);
	json_object_object_add(req, "success", arr);
	arr = json_object_new_array();
	op = json_object_new_object();
	inner = json_object_new_object();
	arc_etcd_add_bytes(inner, "key", key->s, key->len);
	json_object_object_add(op, "request_range", inner);
	json_object_array_add(arr, op);
	json_object_object_add(req, "failure", arr);
	if ((res = arc_etcd_call(e, "/v3/kv/txn", req, &status, eb))) {
		if (json_object_object_get_ex(res, "succeeded", &v) &&
		    json_object_get_boolean(v))
			r = 1;
		else {
			r = 0;
			if (json_object_object_get_ex(res, "responses", &v) &&
			    (rr = json_object_array_get_idx(v, 0)) != NULL &&
			    json_object_object_get_ex(rr, "response_range",
			    &inner) &&
			    json_object_object_get_ex(inner, "kvs", &kvs))
				arc_etcd_bytes(json_object_array_get_idx(kvs, 0),
				    "value", holder);
		}
		json_object_put(res);
	}
	json_object_put(req);
	return r;
}

/*
 * An etcd client for url, its key in key.  Short single attempts: a
 * keepalive must not outlast the lease (a third of the TTL apart, so two
 * may fail before it is too late).  Set for the client only, not for the
 * command.
 */
static struct arc_etcd *
client(const char *url, long long ttl, struct arc_buf *key)
{
	struct arc_etcd *e;
	char t[32], *ot = getenv("ARC_HTTP_TIMEOUT");
	char *oa = getenv("ARC_HTTP_ATTEMPTS");

	ot = ot ? arc_estrdup(ot) : NULL;
	oa = oa ? arc_estrdup(oa) : NULL;
	snprintf(t, sizeof(t), "%lld", ttl / 3 > 1 ? ttl / 3 : 1);
	setenv("ARC_HTTP_TIMEOUT", t, 1);
	setenv("ARC_HTTP_ATTEMPTS", "1", 1);
	e = arc_etcd_open(url, key);
	if (ot)
		setenv("ARC_HTTP_TIMEOUT", ot, 1);
	else
		unsetenv("ARC_HTTP_TIMEOUT");
	if (oa)
		setenv("ARC_HTTP_ATTEMPTS", oa, 1);
	else
		unsetenv("ARC_HTTP_ATTEMPTS");
	free(ot);
	free(oa);
	return e;
}

/* The lease holding key, or an exit: 75 when another holds it, else 2. */
static int64_t
acquire(struct arc_etcd *e, struct arc_buf *key, long long ttl)
{
	struct arc_buf eb = { 0 }, holder = { 0 };
	int64_t id;
	int r;

	if ((id = grant(e, ttl, &eb)) <= 0)
		errx(ARC_EXIT_ERROR, "cannot grant a lease: %s",
		    arc_buf_str(&eb));
	if ((r = take(e, key, id, &holder, &eb)) != 1) {
		lease_revoke(e, id);
		if (r == 0)
			errx(EXIT_HELD, "already running: '%s' is held by %s",
			    key->s, holder.len ? holder.s : "another process");
		errx(ARC_EXIT_ERROR, "cannot take '%s': %s", key->s,
		    arc_buf_str(&eb));
	}
	arc_buf_free(&eb);
	arc_buf_free(&holder);
	return id;
}

/* Run the command; SIGTERM and SIGINT are passed on to it. */
static pid_t
spawn(char *argv[], struct arc_etcd *e, int64_t id)
{
	struct sigaction sa;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((pid = fork()) == -1) {
		lease_revoke(e, id);
		err(ARC_EXIT_ERROR, "fork");
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		warn("cannot run '%s'", argv[0]);
		_exit(127);
	}
	return pid;
}

/* A lost lease: said, written to the lost-file, the command stopped. */
static void
lease_lost(const struct arc_buf *key, struct arc_buf *eb, pid_t pid,
    const char *lostfile, int oflags)
{
	int fd;

	warnx("lease on '%s' lost: %s; stopping the run", key->s,
	    arc_buf_str(eb));
	if (lostfile != NULL && (fd = open(lostfile, oflags, 0600)) != -1) {
		arc_write_full(fd, "lease_lost\n", 11);
		close(fd);
	}
	kill(pid, SIGTERM);
}

/*
 * Keep the lease alive until the command ends; its wait status.  The
 * lease is lost when it expired, or when it went unrenewed so long that
 * it may expire before the next try.
 */
static int
supervise(struct arc_etcd *e, int64_t id, long long ttl, pid_t pid,
    const struct arc_buf *key, const char *lostfile, int oflags)
{
	struct arc_buf eb = { 0 };
	int64_t last_ok, next;
	int r, status, lost = 0;

	last_ok = now_ms();
	next = last_ok + ttl * 1000 / 3;
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if ((r = waitpid(pid, &status, WNOHANG)) == pid)
			break;
		if (r == -1 && errno != EINTR)
			err(ARC_EXIT_ERROR, "waitpid");
		if (forward_sig) {
			kill(pid, forward_sig);
			forward_sig = 0;
		}
		if (!lost && now_ms() >= next) {
			eb.len = 0;
			r = keepalive(e, id, &eb);
			if (r == 1)
				last_ok = now_ms();
			if (r == 0 || (r == -1 &&
			    now_ms() - last_ok >= ttl * 1000 * 2 / 3)) {
				lost = 1;
				lease_lost(key, &eb, pid, lostfile, oflags);
			}
			next = now_ms() + ttl * 1000 / 3;
		}
		nanosleep(&ts, NULL);
	}
	arc_buf_free(&eb);
	return status;
}

int
main(int argc, char *argv[])
{
	struct arc_etcd *e;
	struct arc_buf key = { 0 };
	const char *lostfile = NULL, *envname = NULL;
	long long ttl = 15;
	int64_t id;
	pid_t pid;
	int ch, status, oflags;

	while ((ch = arc_getopt(argc, argv, "+e:f:t:", NULL,
	    usage_text)) != -1) {
		switch (ch) {
		case 'e':
			envname = optarg;
			break;
		case 'f':
			lostfile = optarg;
			break;
		case 't':
			if (arc_parse_count(optarg, 2, 3600, &ttl) == -1)
				errx(ARC_EXIT_ERROR, "'%s': ttl must be 2 to 3600 "
				    "seconds", optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || (envname != NULL && lostfile != NULL))
		usage();
	oflags = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;
	if (envname != NULL) {
		lease_dir_make(envname);
		lostfile = lease_file;
		oflags |= O_EXCL;	/* in our own directory: never there */
	}
	if ((e = client(argv[0], ttl, &key)) == NULL)
		return ARC_EXIT_ERROR;
	id = acquire(e, &key, ttl);
	pid = spawn(argv + 1, e, id);
	status = supervise(e, id, ttl, pid, &key, lostfile, oflags);
	lease_revoke(e, id);
	arc_etcd_close(e);
	arc_buf_free(&key);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
