/*
 * planfile.c - the reviewed plan of arc-reconcile plan and apply
 * (arc-reconcile(1), PLAN FILE).
 *
 * A plan is plain text: one "key value" line per fact (the value quoted
 * as a path is, arc(7)), one "candidate kind CODE path" line per path the
 * dry run would delete, then "seal" and the SHA-256 of every byte before
 * it, then a fixed last line saying how to apply it.  arc_planfile_save
 * seals a body and writes it whole or not at all (0600, never over a
 * link); arc_planfile_read reads one back only when every byte is as
 * sealed.  arc_planfile_version writes the manifest's version (a file's
 * identity, size and SHA-256; etcd's revision), and arc_planfile_check
 * tells whether the manifest moved since in a way other than appends.
 */
#include <sys/stat.h>

#include <errno.h>
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

#define PLAN_FORMAT	"1"
#define PLAN_HEADER	"# arc-reconcile plan: review it, then apply it\n"
#define PLAN_TRAILER	"# apply with: arc-reconcile apply PLAN\n"
#define PLAN_LINE_MAX	(1024 * 1024)

/* Append "key value\n", the value quoted as arc(7) quotes a path. */
void
arc_planfile_field(struct arc_buf *b, const char *key, const char *value)
{
	arc_buf_adds(b, key);
	arc_buf_addc(b, ' ');
	arc_quote(b, value, strlen(value));
	arc_buf_addc(b, '\n');
}

static void
field_int(struct arc_buf *b, const char *key, intmax_t v)
{
	arc_buf_printf(b, "%s %jd\n", key, v);
}

/* The kind of manifest a MANIFEST operand names (arc(7), MANIFEST). */
static const char *
manifest_kind(const char *m)
{
	if (strncmp(m, "etcd://", 7) == 0 || strncmp(m, "etcds://", 8) == 0)
		return "etcd";
	if (strncmp(m, "arc+http://", 11) == 0 ||
	    strncmp(m, "arc+https://", 12) == 0)
		return "arcapi";
	if (arc_url_local_path(m) == NULL)
		return NULL;
	return "file";
}

/*
 * Get key from etcd: the store's revision then, and in *modrev the key's
 * mod_revision (0: no such key).  -1 after a message: an answer that is
 * not one is never taken for "absent".
 */
static int64_t
etcd_get(struct arc_etcd *e, const char *spec, const struct arc_buf *key,
    int64_t *modrev)
{
	struct json_object *req, *res, *hdr, *kvs;
	struct arc_buf eb = { 0 };
	int64_t rev = -1;
	long status;

	req = json_object_new_object();
	arc_etcd_add_bytes(req, "key", key->s, key->len);
	json_object_object_add(req, "keys_only", json_object_new_boolean(1));
	res = arc_etcd_call(e, "/v3/kv/range", req, &status, &eb);
	json_object_put(req);
	*modrev = 0;
	if (res == NULL)
		warnx("'%s': %s", spec, arc_buf_str(&eb));
	else if (!json_object_object_get_ex(res, "header", &hdr) ||
	    (rev = arc_etcd_int(hdr, "revision")) <= 0) {
		warnx("'%s': a range answer without a revision", spec);
		rev = -1;
	} else if (json_object_object_get_ex(res, "kvs", &kvs) &&
	    json_object_array_length(kvs) > 0 &&
	    (*modrev = arc_etcd_int(json_object_array_get_idx(kvs, 0),
	    "mod_revision")) <= 0) {
		warnx("'%s': a key without a mod_revision", spec);
		rev = -1;
	}
	json_object_put(res);
	arc_buf_free(&eb);
	return rev;
}

/*
 * Append the version lines of the manifest m (resolved to the file
 * target by the caller, "" for none): its kind, and for a file its
 * device, inode, size and the SHA-256 of that many bytes, for etcd its
 * revision.  Arc's API has no version; the plan's entry count stands in
 * (arc_planfile_check).  0, or -1 after a message.
 */
int
arc_planfile_version(struct arc_buf *b, const char *m, const char *target)
{
	char hex[ARC_SHA256_HEX];
	struct arc_buf prefix = { 0 };
	struct arc_etcd *e;
	const char *kind;
	struct stat st;
	int64_t rev, modrev;
	int fd;

	if ((kind = manifest_kind(m)) == NULL) {
		warnx("'%s': a plan needs a manifest that can be read again",
		    m);
		return -1;
	}
	arc_planfile_field(b, "manifest_kind", kind);
	if (strcmp(kind, "etcd") == 0) {
		if ((e = arc_etcd_open(m, &prefix)) == NULL)
			return -1;
		rev = etcd_get(e, m, &prefix, &modrev);
		arc_etcd_close(e);
		arc_buf_free(&prefix);
		if (rev == -1)
			return -1;
		field_int(b, "manifest_revision", rev);
	} else if (strcmp(kind, "file") == 0) {
		if (*target == '\0' || (fd = open(target, O_RDONLY |
		    O_CLOEXEC)) == -1) {
			warn("cannot open manifest '%s'", m);
			return -1;
		}
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    arc_sha256_prefix(fd, (uintmax_t)st.st_size, hex) == -1) {
			warn("cannot read manifest '%s'", m);
			close(fd);
			return -1;
		}
		close(fd);
		arc_planfile_field(b, "manifest_target", target);
		field_int(b, "manifest_dev", (intmax_t)st.st_dev);
		field_int(b, "manifest_ino", (intmax_t)st.st_ino);
		field_int(b, "manifest_size", (intmax_t)st.st_size);
		arc_buf_printf(b, "manifest_sha256 %s\n", hex);
	}
	return 0;
}

/*
 * Seal the plan body b (its SHA-256 in the seal line, then the last
 * line) and write it to path whole or not at all, 0600; a link at path
 * is refused (arc_save_file).  0, or -1 after a message.
 */
int
arc_planfile_save(const char *path, struct arc_buf *b)
{
	char hex[ARC_SHA256_HEX];

	arc_sha256_hex(b->s, b->len, hex);
	arc_buf_printf(b, "seal %s\n" PLAN_TRAILER, hex);
	return arc_save_file(path, b->s, b->len, 0600);
}

/*
 * path by the real path of its directory and its own name (a link in
 * the directory resolved, one at the name not), or NULL when the
 * directory does not resolve or the name is none (".", "..", "").
 */
static char *
planfile_canon(const char *path)
{
	struct arc_buf b = { 0 };
	const char *slash, *name;
	char *dir, *r;

	if ((slash = strrchr(path, '/')) == NULL) {
		dir = arc_estrdup(".");
		name = path;
	} else {
		dir = arc_emalloc((size_t)(slash - path) + 2);
		memcpy(dir, path, (size_t)(slash - path));
		strcpy(dir + (slash - path), slash == path ? "/" : "");
		name = slash + 1;
	}
	if (*name == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || (r = realpath(dir, NULL)) == NULL) {
		free(dir);
		return NULL;
	}
	arc_buf_adds(&b, r);
	if (b.len == 0 || b.s[b.len - 1] != '/')
		arc_buf_addc(&b, '/');
	arc_buf_adds(&b, name);
	free(r);
	free(dir);
	return b.s;
}

/*
 * Whether PLAN may be written at out, asked before the run starts (and
 * again just before it is written): what is there must be a regular
 * file whose first line is a plan's header (an earlier plan is replaced,
 * nothing else), and out, by its directory's real path and its name,
 * must be none of files[] (compared likewise) and neither one of dirs[]
 * nor inside one (their real paths); both lists NULL-ended, NULL for
 * none, "" entries skipped.  0, or -1 after one message naming out.
 */
int
arc_planfile_out_ok(const char *out, const char *const files[],
    const char *const dirs[])
{
	char head[sizeof(PLAN_HEADER) - 1], *co, *c;
	struct stat st;
	size_t i, n;
	ssize_t r;
	int fd, bad = 0;

	if ((co = planfile_canon(out)) == NULL) {
		warnx("plan '%s' not written: its directory does not resolve, "
		    "or it names no file", out);
		return -1;
	}
	for (i = 0; files != NULL && files[i] != NULL && !bad; i++) {
		if (*files[i] == '\0' || (c = planfile_canon(files[i])) == NULL)
			continue;
		if (strcmp(c, co) == 0) {
			warnx("plan '%s' not written: it is '%s', which the run "
			    "reads or writes", out, files[i]);
			bad = 1;
		}
		free(c);
	}
	for (i = 0; dirs != NULL && dirs[i] != NULL && !bad; i++) {
		if (*dirs[i] == '\0' || (c = realpath(dirs[i], NULL)) == NULL)
			continue;
		n = strlen(c);
		if (strncmp(co, c, n) == 0 && (co[n] == '\0' || co[n] == '/' ||
		    (n > 0 && c[n - 1] == '/'))) {
			warnx("plan '%s' not written: it is inside '%s', which "
			    "the run reads or writes", out, dirs[i]);
			bad = 1;
		}
		free(c);
	}
	free(co);
	if (bad)
		return -1;
	if (lstat(out, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		warn("plan '%s' not written", out);
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		warnx("plan '%s' not written: it is a symbolic link, and a "
		    "symbolic link is not followed", out);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx("plan '%s' not written: it exists and is not a regular "
		    "file", out);
		return -1;
	}
	if ((fd = open(out, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		warn("plan '%s' not written: cannot read what is there", out);
		return -1;
	}
	for (n = 0; n < sizeof(head); n += (size_t)r) {
		if ((r = read(fd, head + n, sizeof(head) - n)) == -1 &&
		    errno == EINTR)
			r = 0;
		else if (r <= 0)
			break;
	}
	close(fd);
	if (n != sizeof(head) || memcmp(head, PLAN_HEADER, n) != 0) {
		warnx("plan '%s' not written: it exists and is not a plan (only "
		    "an earlier plan is replaced)", out);
		return -1;
	}
	return 0;
}

/* The header of a plan: "format" first, as a person reads it. */
void
arc_planfile_begin(struct arc_buf *b)
{
	arc_buf_adds(b, PLAN_HEADER);
	arc_buf_adds(b, "format " PLAN_FORMAT "\n");
}

void
arc_planfile_free(struct arc_planfile *p)
{
	size_t i;

	free(p->id);
	free(p->store);
	free(p->manifest);
	free(p->target);
	free(p->mkind);
	free(p->aborted);
	for (i = 0; i < p->optc; i++)
		free(p->optv[i]);
	free(p->optv);
	free(p->optln);
	for (i = 0; i < p->ncand; i++)
		free(p->cand[i].qpath);
	free(p->cand);
	memset(p, 0, sizeof(*p));
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct arc_plancand *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return arc_pathcmp(x->qpath, x->qlen, y->qpath, y->qlen);
}

/* "kind CODE qpath": a candidate line's value; -1 when it is not one. */
static int
cand_parse(struct arc_planfile *p, const char *s, size_t n)
{
	struct arc_plancand c = { 0 };
	const char *sp, *sp2, *why, *end = s + n;

	if ((sp = memchr(s, ' ', n)) == NULL ||
	    (sp2 = memchr(sp + 1, ' ', (size_t)(end - sp - 1))) == NULL)
		return -1;
	if ((size_t)(sp - s) == 15 && memcmp(s, "orphan-manifest", 15) == 0)
		c.kind = ARC_KIND_MANIFEST;
	else if ((size_t)(sp - s) == 14 && memcmp(s, "orphan-storage", 14) == 0)
		c.kind = ARC_KIND_STORAGE;
	else
		return -1;
	if ((c.code = arc_reason_parse(sp + 1, (size_t)(sp2 - sp - 1))) == -1)
		return -1;
	c.qlen = (size_t)(end - sp2 - 1);
	if (c.qlen == 0 || arc_quoted_check(sp2 + 1, c.qlen, &why) != 0)
		return -1;
	c.qpath = arc_emalloc(c.qlen + 1);
	memcpy(c.qpath, sp2 + 1, c.qlen);
	c.qpath[c.qlen] = '\0';
	p->cand = arc_ereallocarray(p->cand, p->ncand + 1, sizeof(*p->cand));
	p->cand[p->ncand++] = c;
	return 0;
}

static int
num(const char *s, intmax_t *v)
{
	long long n;

	if (arc_parse_count(s, 0, LLONG_MAX, &n) == -1)
		return -1;
	*v = n;
	return 0;
}

/* One "key value" line of a plan, the value decoded; -1: not one. */
static int
line_parse(struct arc_planfile *p, const char *key, size_t klen,
    const char *raw, size_t rawlen, const char *v, unsigned *seen,
    size_t lineno)
{
	intmax_t n;

#define K(s)	(klen == sizeof(s) - 1 && memcmp(key, s, klen) == 0)
#define ONCE(bit)	do { if (*seen & (bit)) return -1; *seen |= (bit); } \
	while (0)
	if (K("candidate"))
		return cand_parse(p, raw, rawlen);
	if (K("option")) {
		if (strncmp(v, "--", 2) != 0)
			return -1;
		p->optv = arc_ereallocarray(p->optv, p->optc + 1,
		    sizeof(*p->optv));
		p->optln = arc_ereallocarray(p->optln, p->optc + 1,
		    sizeof(*p->optln));
		p->optln[p->optc] = lineno;
		p->optv[p->optc++] = arc_estrdup(v);
		return 0;
	}
	if (K("format")) {
		ONCE(1);
		return strcmp(v, PLAN_FORMAT) == 0 ? 0 : -1;
	} else if (K("id")) {
		ONCE(2);
		p->id = arc_estrdup(v);
	} else if (K("created_ms")) {
		ONCE(4);
		if (num(v, &n) == -1)
			return -1;
		p->created_ms = n;
	} else if (K("store")) {
		ONCE(8);
		p->store = arc_estrdup(v);
	} else if (K("manifest")) {
		ONCE(16);
		p->manifest = arc_estrdup(v);
	} else if (K("manifest_kind")) {
		ONCE(32);
		p->mkind = arc_estrdup(v);
	} else if (K("listing")) {
		ONCE(64);
		if (strcmp(v, "partial") == 0)
			p->partial = 1;
		else if (strcmp(v, "complete") != 0)
			return -1;
	} else if (K("aborted")) {
		ONCE(128);
		if (strcmp(v, "no") != 0)
			p->aborted = arc_estrdup(v);
	} else if (K("candidates")) {
		ONCE(256);
		if (num(v, &n) == -1)
			return -1;
		p->ncand_said = (size_t)n;
	} else if (K("manifest_target")) {
		ONCE(8192);
		p->target = arc_estrdup(v);
	} else if (K("manifest_dev")) {
		ONCE(16384);
		if (num(v, &n) == -1)
			return -1;
		p->dev = (uintmax_t)n;
	} else if (K("manifest_ino")) {
		ONCE(32768);
		if (num(v, &n) == -1)
			return -1;
		p->ino = (uintmax_t)n;
	} else if (K("manifest_size")) {
		ONCE(512);
		if (num(v, &n) == -1)
			return -1;
		p->size = (uintmax_t)n;
	} else if (K("manifest_sha256")) {
		ONCE(1024);
		if (strlen(v) != 64 || strspn(v, "0123456789abcdef") != 64)
			return -1;
		memcpy(p->msha, v, ARC_SHA256_HEX);
	} else if (K("manifest_revision")) {
		ONCE(2048);
		if (num(v, &n) == -1 || n <= 0)
			return -1;
		p->revision = n;
	} else if (K("manifest_entries")) {
		ONCE(4096);
		if (num(v, &n) == -1)
			return -1;
		p->entries = n;
	} else if (K("created")) {
		ONCE(65536);		/* for the person reading it */
	} else if (K("cutoff")) {
		ONCE(131072);		/* likewise */
	} else
		return -1;	/* a key the writer never writes */
	return 0;
#undef K
#undef ONCE
}

/*
 * Read the plan at path (a regular file; a link is not followed) into p:
 * only when it ends in its seal and last line, the seal is the SHA-256
 * of every byte before it, and every line parses.  0, or -1 after one
 * message naming the plan and what is wrong.
 */
int
arc_planfile_read(const char *path, struct arc_planfile *p)
{
	struct arc_buf all = { 0 }, v = { 0 };
	char hex[ARC_SHA256_HEX], *line, *nl, *sp, *end;
	const char *why;
	unsigned seen = 0;
	struct stat st;
	ssize_t r;
	size_t off, lineno = 0, sealat;
	int fd, ret = -1;

	memset(p, 0, sizeof(*p));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		warn("cannot open plan '%s'", path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		warnx("plan '%s': not a regular file", path);
		close(fd);
		return -1;
	}
	for (;;) {
		arc_buf_grow(&all, 65536);
		if ((r = read(fd, all.s + all.len, 65536)) == -1 &&
		    errno == EINTR)
			continue;
		if (r == -1) {
			warn("cannot read plan '%s'", path);
			close(fd);
			goto out;
		}
		if (r == 0)
			break;
		all.len += (size_t)r;
	}
	close(fd);
	/* the seal line and the last line, exactly */
	if (all.len < sizeof(PLAN_TRAILER) - 1 + 70 ||
	    memcmp(all.s + all.len - (sizeof(PLAN_TRAILER) - 1), PLAN_TRAILER,
	    sizeof(PLAN_TRAILER) - 1) != 0) {
		warnx("plan '%s': not a plan, or its last line was changed",
		    path);
		goto out;
	}
	sealat = all.len - (sizeof(PLAN_TRAILER) - 1) - 70;
	if (memcmp(all.s + sealat, "seal ", 5) != 0 ||
	    all.s[sealat + 69] != '\n' ||
	    (sealat > 0 && all.s[sealat - 1] != '\n')) {
		warnx("plan '%s': no seal line before its last line", path);
		goto out;
	}
	arc_sha256_hex(all.s, sealat, hex);
	if (memcmp(hex, all.s + sealat + 5, 64) != 0) {
		warnx("plan '%s': it was changed since it was written (its "
		    "seal does not match its content)", path);
		goto out;
	}
	memcpy(p->seal, hex, ARC_SHA256_HEX);
	for (off = 0; off < sealat; off = (size_t)(nl - all.s) + 1) {
		line = all.s + off;
		nl = memchr(line, '\n', sealat - off);
		lineno++;
		if (*line == '#')
			continue;
		end = nl;
		if ((sp = memchr(line, ' ', (size_t)(end - line))) == NULL)
			goto bad;
		v.len = 0;
		if (arc_unquote(&v, sp + 1, (size_t)(end - sp - 1), &why) != 0)
			goto bad;
		if (memchr(v.s ? v.s : "", '\0', v.len) != NULL)
			goto bad;
		if (line_parse(p, line, (size_t)(sp - line), sp + 1,
		    (size_t)(end - sp - 1), arc_buf_str(&v), &seen, lineno) ==
		    -1)
			goto bad;
	}
	if ((seen & 511) != 511 || p->ncand != p->ncand_said ||
	    (strcmp(p->mkind, "file") == 0 && ((seen & 1536) != 1536 ||
	    p->target == NULL)) ||
	    (strcmp(p->mkind, "etcd") == 0 && !(seen & 2048))) {
		warnx("plan '%s': lines are missing, or its candidates are "
		    "not as many as it says", path);
		goto out;
	}
	if (p->ncand > 0)
		qsort(p->cand, p->ncand, sizeof(*p->cand), cand_cmp);
	ret = 0;
	goto out;
bad:
	warnx("plan '%s': line %zu is not a plan line", path, lineno);
out:
	if (ret == -1)
		arc_planfile_free(p);
	arc_buf_free(&all);
	arc_buf_free(&v);
	return ret;
}

/* The plan's candidate of kind at the quoted path, or NULL. */
struct arc_plancand *
arc_planfile_find(struct arc_planfile *p, int kind, const char *qpath,
    size_t n)
{
	struct arc_plancand key;

	if (p->ncand == 0)
		return NULL;
	key.kind = kind;
	key.qpath = (char *)(uintptr_t)qpath;
	key.qlen = n;
	return bsearch(&key, p->cand, p->ncand, sizeof(*p->cand), cand_cmp);
}

/*
 * Whether the manifest m moved since the plan other than by appends: a
 * file that is another file, shorter, or whose first plan-size bytes no
 * longer hash to the plan's; an etcd key among the candidates written
 * after the plan's revision; Arc's API, which has no version, listing
 * fewer entries (entries, from the run's dump; -1: not known yet) than
 * the plan's dump did.  0 when it did not, -1 after one message.
 */
int
arc_planfile_check(const struct arc_planfile *p, const char *m,
    const char *target, int64_t entries)
{
	struct arc_buf prefix = { 0 }, key = { 0 };
	char hex[ARC_SHA256_HEX];
	struct arc_etcd *e;
	struct stat st;
	const char *why;
	int64_t rev;
	size_t i;
	int fd, ret = 0;

	if (strcmp(m, p->manifest) != 0) {
		warnx("plan not applied: it is for manifest '%s', not '%s'", p->manifest,
		    m);
		return -1;
	}
	if (strcmp(p->mkind, "file") == 0) {
		if (strcmp(target, p->target) != 0) {
			warnx("plan not applied: manifest '%s' names another file than when the "
			    "plan was made ('%s')", m, p->target);
			return -1;
		}
		if ((fd = open(target, O_RDONLY | O_CLOEXEC)) == -1) {
			warn("cannot open manifest '%s'", m);
			return -1;
		}
		if (fstat(fd, &st) == -1)
			ret = -1;
		else if ((uintmax_t)st.st_dev != p->dev ||
		    (uintmax_t)st.st_ino != p->ino) {
			warnx("plan not applied: manifest '%s' was replaced since the plan (another "
			    "file)", m);
			ret = -1;
		} else if ((uintmax_t)st.st_size < p->size) {
			warnx("plan not applied: manifest '%s' is shorter than when the plan was "
			    "made: it was rewritten", m);
			ret = -1;
		} else if (arc_sha256_prefix(fd, p->size, hex) == -1) {
			warn("cannot read manifest '%s'", m);
			ret = -1;
		} else if (memcmp(hex, p->msha, 64) != 0) {
			warnx("plan not applied: manifest '%s' was rewritten since the plan (its "
			    "first %ju bytes changed), not only appended to", m,
			    p->size);
			ret = -1;
		}
		close(fd);
		return ret;
	}
	if (strcmp(p->mkind, "etcd") == 0) {
		if ((e = arc_etcd_open(m, &prefix)) == NULL)
			return -1;
		for (i = 0; i < p->ncand && ret == 0; i++) {
			key.len = 0;
			arc_buf_add(&key, prefix.s, prefix.len);
			if (arc_unquote(&key, p->cand[i].qpath, p->cand[i].qlen,
			    &why) != 0)
				abort();	/* checked when read */
			if (etcd_get(e, m, &key, &rev) == -1)
				ret = -1;
			else if (rev > p->revision) {
				warnx("plan not applied: the etcd key of '%s' was written at revision "
				    "%jd, after the plan's revision %jd",
				    p->cand[i].qpath, (intmax_t)rev,
				    (intmax_t)p->revision);
				ret = -1;
			}
		}
		arc_etcd_close(e);
		arc_buf_free(&prefix);
		arc_buf_free(&key);
		return ret;
	}
	if (strcmp(p->mkind, "arcapi") != 0) {
		warnx("plan not applied: it does not say which manifest version it saw");
		return -1;
	}
	if (entries >= 0 && entries < p->entries) {
		warnx("plan not applied: manifest '%s' lists %jd entries, fewer than the plan's "
		    "%jd: entries were removed since", m, (intmax_t)entries,
		    (intmax_t)p->entries);
		return -1;
	}
	return 0;
}
