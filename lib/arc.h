/*
 * arc.h - the shared library of the arc-reconcile tools.
 *
 * Grouped by source file.  Everything exported carries the arc_ prefix;
 * the record contract these functions implement is described in arc(7).
 * This is what the tools use: records, paths, times, the store and
 * manifest interfaces, archives, the audit trail and the run.  What only
 * the library's modules share (HTTP, paging, XML, the JSON stream, the
 * object-store engine, credentials, the backends' tables) is in
 * arc_priv.h, which no tool includes.
 */
#ifndef ARC_H
#define ARC_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses shared by every tool (see each man page). */
#define ARC_EXIT_OK		0	/* done, nothing to report */
#define ARC_EXIT_SOME		1	/* done, with candidates/rejections/partial */
#define ARC_EXIT_ERROR		2	/* usage or fatal error */
extern int arc_config_error;	/* http.c: TLS or credentials refused: exit 2 */

/*
 * Defaults shared by the tools and arc-run's knobs, which give them to
 * arc-reconcile; a duration in Go's syntax, read by arc_duration_parse.
 */
#define ARC_DEFAULT_GRACE	"24h"	/* -g, --grace */
#define ARC_DEFAULT_SKEW	"5m"	/* -k, --skew */
#define ARC_DEFAULT_MAX_DELETES	10000	/* -n, --max-deletes */
#define ARC_DEFAULT_BATCH	1000	/* -b, --batch */
#define ARC_DEFAULT_SAMPLE	10	/* -s, --sample */
#define ARC_DEFAULT_JOBS	8	/* -j, --jobs */
#define ARC_DEFAULT_MAX_INVENTORY_AGE "48h"	/* --max-inventory-age */
#define ARC_JOBS_MAX		64
#define ARC_STR(x)		ARC_STR1(x)	/* a number's spelling */
#define ARC_STR1(x)		#x

/* util.c: allocation that cannot fail, output checks, messages */
extern int arc_errstatus;		/* exit status of the e* wrappers */
void	*arc_emalloc(size_t);
void	*arc_ecalloc(size_t, size_t);
void	*arc_erealloc(void *, size_t);
void	*arc_ereallocarray(void *, size_t, size_t);
char	*arc_estrdup(const char *);
char	*arc_estrndup(const char *, size_t);
int	 arc_fshut(FILE *, const char *);
void	 arc_bigbuf(FILE *);
int	 arc_parse_count(const char *, long long, long long, long long *);
int	 arc_write_full(int, const void *, size_t);
char	*arc_read_small(const char *, size_t, size_t *);
const char *arc_file_kind(mode_t);
char	*arc_run_id(void);
int	 arc_fsync_dir(const char *);
int	 arc_open_tmp(const char *, char **);
const char *arc_env(const char *);
void	 arc_zfree(char *);
FILE	*arc_tmpstream(void);
int	 arc_put_tmp(const char *, const char *, int);
struct arc_out {
	FILE	*fp;		/* write here */
	char	*path;		/* the final name */
	char	*tmp;		/* the temporary file beside it */
	int	 mode;
	int	 excl;		/* never replace anything at path */
};
struct arc_out *arc_out_open(const char *, int, int);
int	 arc_out_commit(struct arc_out *);
void	 arc_out_abort(struct arc_out *);
struct arc_buf;
/* sha256.c: SHA-256 as hex (the audit chain, archive seals) */
#define ARC_SHA256_HEX	65	/* 64 hex digits and a NUL */
void	 arc_sha256_hex(const void *, size_t, char [ARC_SHA256_HEX]);
int	 arc_sha256_file(const char *, char [ARC_SHA256_HEX]);
int	 arc_sha256_prefix(int, uintmax_t, char [ARC_SHA256_HEX]);

/*
 * usage.c: what every tool's options do alike.  arc_getopt is
 * getopt_long(3) with --help (the usage on standard output, exit 0) and
 * --version ("TOOL VERSION", exit 0) added to the tool's long options;
 * arc_usage prints the usage, on standard output with status 0, on
 * standard error otherwise, and exits with status.
 */
struct option;
int	 arc_getopt(int, char *const [], const char *, const struct option *,
	    const char *);
void	 arc_usage(const char *, int) __attribute__((noreturn));

/* jsonout.c: paths and text as strict JSON; whole-or-nothing saves */
struct json_object;
size_t	 arc_utf8_len(const unsigned char *, size_t);
int	 arc_utf8_valid(const char *, size_t);
void	 arc_json_path_text(struct arc_buf *, const char *, size_t);
struct json_object *arc_json_path(const char *, size_t);
struct json_object *arc_json_text(const char *);
int	 arc_json_path_decode(struct arc_buf *, const char *, size_t);
struct json_object *arc_json_parse_strict(const char *, size_t,
	    const char **);
int	 arc_json_save(const char *, struct json_object *, int);
int	 arc_json_save_line(const char *, struct json_object *, int);
int	 arc_json_spell_strings(struct arc_buf *, const char *, size_t, int);
int	 arc_save_file(const char *, const char *, size_t, int);

/* buf.c: growable byte buffers */
struct arc_buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};
void	 arc_buf_grow(struct arc_buf *, size_t);
void	 arc_buf_add(struct arc_buf *, const void *, size_t);
void	 arc_buf_addc(struct arc_buf *, int);
void	 arc_buf_adds(struct arc_buf *, const char *);
void	 arc_buf_printf(struct arc_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *arc_buf_str(struct arc_buf *);	/* NUL-terminated view */
void	 arc_buf_free(struct arc_buf *);

/* url.c: a URL or a text holding URLs without user, password, signature */
const char *arc_url_redact(struct arc_buf *, const char *);
int	 arc_url_has_secret(const char *);
int	 arc_refuse_secret(const char *, const char *);
const char *arc_url_local_path(const char *);	/* NULL: not a local one */

/* quote.c: the C-style path quoting of arc(7) */
/* A byte written escaped: below 0x20 (TAB among them), 0x7F, backslash. */
static inline int
arc_needs_quote(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}
const char *arc_plain_span(const char *, const char *);
void	 arc_quote(struct arc_buf *, const char *, size_t);
int	 arc_unquote(struct arc_buf *, const char *, size_t, const char **);
int	 arc_quoted_check(const char *, size_t, const char **);

/* time.c: RFC 3339 times (seconds since the epoch) and Go durations */
#define ARC_TIME_UNKNOWN	INT64_MIN
#define ARC_TIME_BUFSZ		32
#define ARC_TIME_RECORD		0	/* exactly 2026-04-11T14:00:00Z */
#define ARC_TIME_LENIENT	1	/* 0-9 fraction digits, Z or +hh:mm */
int	 arc_time_parse(const char *, size_t, int, int64_t *);
int	 arc_time_parse_ceil(const char *, size_t, int64_t *);
char	*arc_time_format(int64_t, char *);
int64_t	 arc_time_now(void);
int64_t	 arc_time_now_ms(void);
int	 arc_duration_parse(const char *, int64_t *);
int64_t	 arc_duration_const(const char *);
int	 arc_is_young(int64_t, int64_t, int64_t);
/* The age an orphan must have: the -g grace window plus the -k skew. */
struct arc_window {
	int64_t	 grace, skew;
};
void	 arc_window_init(struct arc_window *);
void	 arc_window_opt(struct arc_window *, int, const char *);
int64_t	 arc_window_ns(const struct arc_window *);

/* path.c: the one path validator */
const char *arc_path_manifest_error(const char *, size_t);
const char *arc_path_unsafe(const char *, size_t);
int	 arc_path_is_candidate(const char *, size_t);
int	 arc_path_is_managed(const char *, size_t);
int	 arc_path_canonical(const char *, size_t, struct arc_buf *);
const char *arc_path_odd_span(const char *, const char *);

/*
 * shard.c: shard i of n of the paths (--shard), by the FNV-1a hash of a
 * path's first two segments (arc(7), SHARDS); count 0 is the whole store.
 */
#define ARC_SHARD_MAX		1024	/* the most shards, n */
struct arc_shard {
	unsigned	 index;
	unsigned	 count;
};
uint64_t arc_shard_hash(const char *, size_t);
unsigned arc_shard_of(const char *, size_t, unsigned);
int	 arc_shard_parse(const char *, struct arc_shard *);
void	 arc_shard_opt(const char *, struct arc_shard *);
int	 arc_shard_has(const struct arc_shard *, const char *, size_t);
int	 arc_shard_below(const struct arc_shard *, const char *, size_t);

/*
 * reason.c: the reason codes of arc(7), one per path a run did not leave
 * alone, in reject records and result lines.  ARC_R_NONE: a record
 * written before the codes (no code field).
 */
/* why a stage stopped, for the run's abort_reason (arc(7) ENVIRONMENT) */
void	 arc_stop_reason(const char *);
enum arc_reason {
	ARC_R_NONE,
	ARC_R_ORPHAN_MANIFEST,
	ARC_R_ORPHAN_STORAGE,
	ARC_R_TOO_YOUNG,
	ARC_R_UNKNOWN_MTIME,
	ARC_R_NOT_A_CANDIDATE,
	ARC_R_LAYOUT_MISMATCH,
	ARC_R_FOREIGN_ORIGIN,
	ARC_R_RECHECK_PRESENT,
	ARC_R_RECHECK_REGISTERED,
	ARC_R_RECHECK_ERROR,
	ARC_R_CHANGED_SINCE_LISTING,
	ARC_R_GONE,
	ARC_R_LISTING_PARTIAL,
	ARC_R_CAP_DEFERRED,
	ARC_R_BREAKER,
	ARC_R_DELETED,
	ARC_R_DELETE_FAILED,
	ARC_R_UNVERIFIED,
	ARC_R_DEFERRED,
	ARC_R_RESTORED,
	ARC_R_RESTORE_REFUSED,
	ARC_R_RESTORE_FAILED,
	ARC_R_COUNT
};
const char *arc_reason_name(int);
const char *arc_reason_text(int);
int	 arc_reason_parse(const char *, size_t);
int	 arc_reason_orphan(int);

/* record.c: the one record reader and writer */
enum arc_rtype {
	ARC_REC_STORAGE,	/* path mtime size */
	ARC_REC_MANIFEST,	/* path created_at size origin rev */
	ARC_REC_CANDIDATE,	/* kind + storage or manifest record */
	ARC_REC_REJECT,		/* reason + candidate record [+ code age] */
	ARC_REC_RESULT		/* result kind path [code] */
};
enum arc_kind {
	ARC_KIND_NONE,
	ARC_KIND_MANIFEST,	/* orphan-manifest */
	ARC_KIND_STORAGE	/* orphan-storage */
};
#define ARC_KIND_NAME(k) ((k) == ARC_KIND_MANIFEST ? "orphan-manifest" : \
	    (k) == ARC_KIND_STORAGE ? "orphan-storage" : "none")
struct arc_record {
	const char	*line;	/* the whole line, without its newline */
	size_t		 linelen;
	const char	*qpath;	/* the path as written (quoted) */
	size_t		 qpathlen;
	int		 kind;	/* ARC_REC_CANDIDATE/REJECT only */
	const char	*reason;	/* ARC_REC_REJECT, the result word */
	size_t		 reasonlen;	/* of ARC_REC_RESULT */
	int		 code;		/* enum arc_reason; ARC_R_NONE: none */
	int64_t		 age;		/* the time a TOO_YOUNG was judged by */
	const char	*body;	/* the record after the kind/reason fields */
	size_t		 bodylen;
	int64_t		 time;	/* mtime or created_at */
	int64_t		 size;	/* -1: unknown */
	const char	*origin;	/* quoted, "-" when empty */
	size_t		 originlen;
	const char	*rev;	/* quoted, "-" when none */
	size_t		 revlen;
};
/*
 * cursor.c: the key range of a time-boxed run, (after, end] in the byte
 * order of the unquoted paths (after "": from the start; not bounded: to
 * the end), and the cursor that keeps it in the state directory.
 */
struct arc_range {
	int		 on;
	struct arc_buf	 after;
	int		 bounded;
	struct arc_buf	 end;
};
int	 arc_range_has(const struct arc_range *, const char *, size_t);
int	 arc_range_load(struct arc_range *, const char *);
void	 arc_range_free(struct arc_range *);
struct arc_cursor {
	char			*file;		/* STATE/cursors/NAME.json */
	struct json_object	*id;		/* what it is kept for */
	struct arc_buf		 after;		/* "": from the start */
	const char		*dropped;	/* why a kept one was not used */
};
int	 arc_cursor_open(struct arc_cursor *, const char *, const char *,
	    const char *, const char *);
int	 arc_cursor_save(const struct arc_cursor *, const char *, size_t);
void	 arc_cursor_free(struct arc_cursor *);

struct arc_reader {
	FILE		*fp;
	const char	*name;	/* operand name for messages */
	int		 type;
	int		 sorted;	/* require ascending, unique paths */
	uintmax_t	 lineno;
	char		*line;
	size_t		 cap;
	struct arc_buf	 prev[3];	/* last quoted path, per kind */
	int		 haveprev[3];
	const struct arc_shard *shard;	/* only its records (NULL: all) */
	struct arc_buf	 path;		/* a decoded path, for the shard */
	const struct arc_range *range;	/* only its records (NULL: all) */
	uintmax_t	 outside;	/* records passed over as outside it */
};
void	 arc_reader_init(struct arc_reader *, FILE *, const char *, int, int);
int	 arc_reader_next(struct arc_reader *, struct arc_record *);
void	 arc_reader_free(struct arc_reader *);
int	 arc_record_path(const struct arc_record *, struct arc_buf *);
int	 arc_pathcmp(const char *, size_t, const char *, size_t);
struct arc_entry;
void	 arc_storage_record(struct arc_buf *, const char *, size_t, int64_t,
	    int64_t);
void	 arc_write_storage(FILE *, const char *, size_t, int64_t, int64_t);
void	 arc_entry_record(struct arc_buf *, const struct arc_entry *);
void	 arc_write_candidate(FILE *, int, const char *, size_t);
void	 arc_write_reject(FILE *, const char *, int, const char *, size_t,
	    int, int64_t);
void	 arc_write_result(FILE *, const char *, int, const char *, size_t,
	    int);

/* entry.c: manifest entries (Arc's FileEntry) */
struct json_object;
struct arc_entry {
	char	*path;
	size_t	 pathlen;
	int64_t	 created_at;
	int64_t	 size;		/* -1: unknown */
	char	*origin;	/* "" when none */
	char	*database;
	char	*measurement;
	char	*rev;		/* opaque; "" when none */
	struct json_object *json;	/* the source object, during callbacks */
};
int	 arc_entry_from_json(struct json_object *, struct arc_entry *,
	    struct arc_buf *);
void	 arc_entry_free(struct arc_entry *);

typedef int (*arc_entry_fn)(void *, struct arc_entry *, uintmax_t);
/* sortpipe.c: the one sorter, LC_ALL=C order in bounded memory */
struct arc_sort;
struct arc_sort *arc_sort_open(const char *);
FILE	*arc_sort_input(struct arc_sort *);
FILE	*arc_sort_output(struct arc_sort *);
int	 arc_sort_close(struct arc_sort *);
int	 arc_sort_size(const char *, size_t *);
void	 arc_sort_add(struct arc_sort *, const char *, size_t);
int	 arc_sort_next(struct arc_sort *, const char **, size_t *);
void	 arc_sort_rewind(struct arc_sort *);

typedef int (*arc_list_fn)(void *, const char *, size_t, int64_t, int64_t);
/* store.c: storage backends behind one interface (local.c, ...) */
typedef int (*arc_list_fn)(void *, const char *, size_t, int64_t, int64_t);
#define ARC_LIST_ALL	0x1	/* every regular file, not only candidates */
enum arc_presence {
	ARC_PRESENT,
	ARC_ABSENT,		/* definitely not there (ENOENT, HTTP 404) */
	ARC_UNKNOWN		/* anything else: never treat as absent */
};
struct arc_stat {
	int64_t	 mtime;
	int64_t	 size;
	int	 regular;	/* a plain file (not a link, directory, ...) */
};
enum arc_removal {
	ARC_REMOVED,		/* deleted now */
	ARC_GONE,		/* already absent: counts as success */
	ARC_REMOVE_FAILED,	/* not deleted; reason in the error buffer */
	ARC_REMOVE_CHANGED	/* not deleted: not the object checked (412) */
};
/* One object of a batch: stat_many fills presence, st and etag;
 * remove_many fills removal (enum arc_removal), sending if_match when set. */
struct arc_sitem {
	const char	*path;
	size_t		 pathlen;
	int		 presence;
	struct arc_stat	 st;
	struct arc_buf	 etag;
	const char	*if_match;
	int		 removal;
	struct arc_buf	 err;
};
struct arc_store {
	const struct arc_store_ops *ops;
	int	 unordered;	/* list output needs sorting (object stores) */
	int	 jobs;		/* listings in flight (arc-list -j) */
	char	**hints;	/* prefixes to list apart (arc-list -M) */
	size_t	 nhints;
	char	**bounds;	/* paths that split a prefix's range (-M) */
	size_t	 nbounds;
	struct arc_shard shard;	/* list only its paths (arc-list --shard) */
	/* a time-boxed listing (arc-list --after, --deadline) */
	const char *after;	/* list after this path (decoded; NULL: all) */
	int64_t	 deadline;	/* ms since the epoch: no page after (0: none) */
	int	 cut;		/* set: the deadline stopped the listing */
	int64_t	 accepted;	/* keys the caller took: none, no stop */
	int	 raworder;	/* local: unquoted byte order, not quoted */
	char	*url;		/* as given, for messages */
	void	*priv;
};
struct arc_store *arc_store_open(const char *);
int	 arc_store_list(struct arc_store *, char **, size_t, int,
	    arc_list_fn, void *);
void	 arc_store_stat_many(struct arc_store *, struct arc_sitem *, size_t,
	    int);
void	 arc_store_remove_many(struct arc_store *, struct arc_sitem *, size_t,
	    int);
int	 arc_store_get(struct arc_store *, const char *, size_t, int,
	    struct arc_stat *, struct arc_buf *);
int	 arc_store_put(struct arc_store *, const char *, size_t, int, int64_t,
	    struct arc_buf *);
void	 arc_store_close(struct arc_store *);
/*
 * inventory.c: an S3 or Azure inventory report (arc-list --inventory) as
 * the listing of a store: the records arc_store_list would give, through
 * fn, unsorted; ARC_EXIT_OK, or ARC_EXIT_ERROR after one message (a
 * missing, truncated or corrupt file, another bucket, a report older
 * than maxage seconds before now).  created and age are set on success.
 */
struct arc_inventory {
	const char	*location;	/* a store URL or a directory */
	int64_t		 now;		/* seconds */
	int64_t		 maxage;	/* seconds */
	int64_t		 created;	/* when the report's scan began */
	int64_t		 age;		/* now - created, at least 0 */
};
int	 arc_inventory_list(struct arc_inventory *, struct arc_store *,
	    char **, size_t, int, arc_list_fn, void *);
/* manifest.c: manifest sources behind one interface (mfile.c, ...) */
/*
 * One path in a batch looked up in, fetched from or deleted from a
 * manifest.  path is the decoded path; rev the quoted rev field of the
 * manifest record ("-": match the path alone).  result is set by the
 * source: ARC_PRESENT/ARC_ABSENT/ARC_UNKNOWN for lookups, an enum
 * arc_mresult for deletes; json receives the entry's JSON for fetches.
 */
struct arc_mitem {
	const char	*path;
	size_t		 pathlen;
	const char	*rev;
	size_t		 revlen;
	int64_t		 created_at;	/* with rev "-", the entry's identity */
	int64_t		 size;		/* as the candidate record had it */
	int		 result;
	char		*json;
};
enum arc_mresult {
	ARC_M_DELETED,		/* removed now */
	ARC_M_GONE,		/* no entry with that path any more */
	ARC_M_CHANGED,		/* the entry's rev differs: kept */
	ARC_M_FAILED,		/* not removed */
	ARC_M_DEFERRED		/* written out for an operator to apply */
};
/*
 * What a source read of its manifest (a file's, in mfile.c): whole
 * passes, tails read after an append, bytes read (parsed or hashed),
 * bytes copied unparsed from one rewrite into the next, and the rewrites
 * and the bytes they wrote.
 */
struct arc_manifest_io {
	uintmax_t	 passes;
	uintmax_t	 tails;
	uintmax_t	 bytes_read;
	uintmax_t	 bytes_copied;
	uintmax_t	 rewrites;
	uintmax_t	 bytes_written;
};
struct arc_manifest {
	const struct arc_manifest_ops *ops;
	char	*spec;
	void	*priv;
	const char *database;	/* dump only this database (or NULL) */
	const char *deferred;	/* where a read-only source writes deletes */
	struct arc_manifest_io io;
	int	 nojson;	/* dump: the callback never reads e->json */
	int	 whole;		/* a removal rewrites the whole manifest */
};
struct arc_manifest *arc_manifest_open(const char *);
int	 arc_manifest_plan(struct arc_manifest *, const struct arc_mitem *,
	    size_t);
int	 arc_manifest_dump(struct arc_manifest *, arc_entry_fn, void *);
int	 arc_manifest_lookup(struct arc_manifest *, struct arc_mitem *, size_t);
int	 arc_manifest_fetch(struct arc_manifest *, struct arc_mitem *, size_t);
int	 arc_manifest_remove(struct arc_manifest *, struct arc_mitem *, size_t,
	    struct arc_buf *);
int	 arc_manifest_restore(struct arc_manifest *, FILE *, struct arc_buf *);
void	 arc_manifest_close(struct arc_manifest *);
/* etcd.c: etcd's v3 JSON gateway (client and manifest source) */
struct arc_etcd;
struct arc_etcd *arc_etcd_open(const char *, struct arc_buf *);
void	 arc_etcd_close(struct arc_etcd *);
struct json_object *arc_etcd_call(struct arc_etcd *, const char *,
	    struct json_object *, long *, struct arc_buf *);
int	 arc_etcd_bytes(struct json_object *, const char *, struct arc_buf *);
int64_t	 arc_etcd_int(struct json_object *, const char *);
void	 arc_etcd_add_bytes(struct json_object *, const char *, const char *,
	    size_t);
int	 arc_etcd_put(struct arc_etcd *, const char *, size_t,
	    struct arc_entry **, size_t, int, struct arc_buf *);

/* archive.c: run archives (.tar.gz through libarchive) */
struct arc_archive;
struct arc_archive *arc_archive_create(const char *, const char *);
int	 arc_archive_add_mem(struct arc_archive *, const char *, const void *,
	    size_t);
int	 arc_archive_add_fd(struct arc_archive *, const char *, int, int64_t);
int	 arc_archive_commit(struct arc_archive *);
void	 arc_archive_abort(struct arc_archive *);
struct archive;
/* arg, name, NULL or what a member that is not a plain file is, size, mtime */
typedef int (*arc_member_fn)(void *, const char *, const char *, int64_t,
    int64_t, struct archive *);
int	 arc_archive_each(const char *, arc_member_fn, void *);
/*
 * Reading a member in fn: as a stream, never whole in memory nor in a
 * temporary file unless the caller makes one; no member is read past
 * ARC_MEMBER_MAX bytes, and a member of lines (records, manifest
 * entries) has no line past ARC_MEMBER_LINE_MAX bytes, the records' own
 * limit.  why says what stopped a read that failed.
 */
#define ARC_MEMBER_MAX		(64ULL << 30)	/* 64 GiB */
#define ARC_MEMBER_LINE_MAX	(256 * 1024)
struct arc_member {
	struct archive	*in;
	uint64_t	 total;		/* bytes read so far */
	size_t		 maxline;	/* 0: not read as lines */
	size_t		 linelen;	/* of the line being read */
	char		 why[128];	/* why a read failed */
};
const char *arc_member_too_big(int64_t);
FILE	*arc_member_open(struct arc_member *, struct archive *, int);
int	 arc_member_copy(struct arc_member *, struct archive *, FILE *, int);

/*
 * explain.c: the run's records in its archive (explain/) and, read back,
 * what the run decided about one path (arc-reconcile explain).
 */
struct arc_explain_member {
	const char	*name;	/* STAGE.rej or STAGE.res */
	const char	*file;
};
int	 arc_explain_name_ok(const char *);
int	 arc_explain_archive(const char *, const char *, const char *,
	    const char *, const char *, const struct arc_explain_member *,
	    size_t, int);
int	 arc_explain(FILE *, const char *, const char *, const char *,
	    size_t);

/*
 * plan.c: arc-delete's plan: every candidate read, kept verbatim for the
 * archive, and per kind in path order the ones refused or planned within
 * the cap; and going through one kind a batch at a time, its results
 * printed as result records on standard output batch by batch.
 */
enum arc_plan_state {
	ARC_PLAN_PLANNED,
	ARC_PLAN_REFUSED,	/* not safe to touch: why says why */
	ARC_PLAN_FAILED		/* could not be archived: not deleted */
};
struct arc_cand {
	char		*line;		/* the candidate record */
	char		*qpath;		/* points into line */
	size_t		 qpathlen;
	char		*path;		/* decoded */
	size_t		 pathlen;
	char		*rev;		/* manifest rev field, quoted */
	size_t		 revlen;
	int64_t		 time, size;
	int		 plan;		/* enum arc_plan_state */
	const char	*why;		/* reason refused */
	char		*json;		/* full manifest entry, for the archive */
	char		*etag;		/* seen by --if-unchanged */
	const char	*res;		/* the result word, once known */
	int		 code;		/* its reason code (enum arc_reason) */
};
struct arc_cands {
	struct arc_cand	*v;
	size_t		 n, cap;
	int		 kind;		/* ARC_KIND_MANIFEST or _STORAGE */
};
struct arc_plan {
	struct arc_cands m, s;		/* orphan-manifest, orphan-storage */
	FILE		*all;		/* every input record, verbatim */
	uintmax_t	 input, manifest_in, storage_in;
	uintmax_t	 leftover;	/* left untouched by the cap */
	int		 cap_hit;
	int		 cap_kind;	/* the kind the cap stopped */
};
int	 arc_plan_read(struct arc_plan *, FILE *, long long, int, FILE *);
void	 arc_cand_result(struct arc_cand *, const char *, int);
size_t	 arc_plan_count(const struct arc_cands *, int);
int	 arc_plan_fetch(struct arc_plan *, struct arc_manifest *);
void	 arc_plan_announce(struct arc_manifest *, const struct arc_cands *);
void	 arc_plan_free(struct arc_plan *);
struct arc_batch {
	struct arc_cands *l;
	struct arc_cand	**v;		/* the batch: planned candidates */
	size_t		 n, max;
	size_t		 i, start;	/* next to look at, first unprinted */
	uintmax_t	 refused, failed;	/* reported on the way */
};
void	 arc_batch_init(struct arc_batch *, struct arc_cands *, size_t);
int	 arc_batch_next(struct arc_batch *, int);
int	 arc_batch_last(const struct arc_batch *);
void	 arc_batch_end(struct arc_batch *);

/*
 * runarchive.c: the run archive's layout (arc-delete(1) FILES), the one
 * place that knows its members: written before the first change from
 * the plan and the run's options, and read back by arc_restore, which
 * puts its quarantined files back into the store and its manifest
 * entries back into the manifest (arc-restore(1)), one result line a
 * file on standard output, and returns the exit status.
 */
struct arc_runopts {			/* arc-delete's options */
	int		 act;
	int		 archive_files;
	int		 pre_manifest;
	int		 if_unchanged;
	const char	*archive;	/* -A */
	const char	*audit;		/* -a */
	const char	*prefix;	/* -P: before every member's name */
	const char	*stats;		/* -S */
	const char	*run_id;	/* -r */
	const char	*deferred;
	const char	*rejects;	/* -R: the candidates left by the cap */
	int		 partial;	/* --listing-partial: report only */
	long long	 max, batch, sample;
	long long	 done_before;	/* -N: deletes earlier in the run */
	char		**includes;	/* -I name=file */
	size_t		 nincludes;
};
enum arc_xmember {			/* explain/ members (explain.c) */
	ARC_XM_MANIFEST, ARC_XM_STORAGE, ARC_XM_CANDIDATES, ARC_XM_BREAKER,
	ARC_XM_STAGE			/* a stage's NAME.rej or NAME.res */
};
const char *arc_runarchive_explain_member(struct arc_buf *, int,
	    const char *);
int	 arc_runarchive_explain_type(const char *, const char **);
int	 arc_runarchive_write(const struct arc_runopts *, struct arc_plan *,
	    struct arc_store *);
int	 arc_restore(const char *, struct arc_store *, struct arc_manifest *);

/* progress.c: records handled so far, for arc-reconcile's progress line */
void	 arc_progress_add(uintmax_t);
void	 arc_progress_done(void);

/* audit.c: the NDJSON audit trail, a hash chain, fsync'ed per batch */
#define ARC_AUDIT_CHAIN_BYTES	81	/* what prev_sha256 adds to a line */
struct arc_audit;
struct arc_audit *arc_audit_open(const char *);
void	 arc_audit_event(struct arc_audit *, const char *, const char *, ...);
int	 arc_audit_reserve(struct arc_audit *, size_t);
int	 arc_audit_sync(struct arc_audit *);
int	 arc_audit_head(const struct arc_audit *, char [ARC_SHA256_HEX],
	    uintmax_t *);
void	 arc_audit_close(struct arc_audit *);
struct arc_audit_check {
	uintmax_t	lines;		/* lines read */
	uintmax_t	end;		/* the offset after the line's newline */
	char		hash[ARC_SHA256_HEX];	/* that line's SHA-256 */
	uintmax_t	first;		/* the first with prev_sha256, or 0 */
	uintmax_t	bad;		/* the first that breaks the chain */
	char		why[512];
	char		last[ARC_SHA256_HEX];	/* the last line's SHA-256 */
};
int	 arc_audit_verify(const char *, int (*)(void *, struct json_object *,
	    struct arc_audit_check *), void *, struct arc_audit_check *);

/* requests.c: requests by class, and a dry run's estimate (arc(7)) */
enum arc_req_class {
	ARC_REQ_LIST, ARC_REQ_HEAD, ARC_REQ_GET, ARC_REQ_PUT, ARC_REQ_DELETE,
	ARC_REQ_BATCH, ARC_REQ_RANGE, ARC_REQ_TXN, ARC_REQ_OTHER,
	ARC_REQ_NCLASSES
};
extern const char *const arc_req_names[ARC_REQ_NCLASSES];
struct arc_prices {
	const char	*name;		/* a built-in table's, or the file */
	double		 p[ARC_REQ_NCLASSES];	/* USD per request */
};
void	 arc_requests_made(int, int, double);
void	 arc_requests_would(int, uintmax_t);
int	 arc_prices_load(struct arc_prices *, const char *, const char *);
void	 arc_requests_record(struct json_object *, const char *, int,
	    const struct arc_prices *);
void	 arc_requests_summary(struct json_object *, struct arc_buf *);
/* What an act run's calls would send (ARC_COST_*), for the estimate. */
enum { ARC_COST_STAT, ARC_COST_REMOVE, ARC_COST_LOOKUP, ARC_COST_MREMOVE };
void	 arc_store_cost(struct arc_store *, int, const struct arc_sitem *,
	    size_t);
size_t	 arc_manifest_cost(struct arc_manifest *, int, size_t);
/*
 * planfile.c: the reviewed plan of arc-reconcile plan and apply
 * (arc-reconcile(1), PLAN FILE), sealed by the SHA-256 of its content.
 */
struct arc_plancand {
	int		 kind;		/* ARC_KIND_* */
	int		 code;		/* enum arc_reason */
	char		*qpath;		/* quoted, as records hold it */
	size_t		 qlen;
	int		 seen;		/* apply: a live candidate still */
};
struct arc_planfile {
	char		*id, *store, *manifest, *target, *mkind;
	char		*aborted;	/* the abort reason, or NULL */
	int64_t		 created_ms;
	uintmax_t	 dev, ino, size;	/* a manifest file's */
	char		 msha[ARC_SHA256_HEX];
	int64_t		 revision;	/* etcd's */
	int64_t		 entries;	/* what the plan's dump read */
	int		 partial;	/* the listing was partial */
	char		**optv;		/* "--flag" or "--flag value" */
	size_t		*optln;		/* the line of each */
	size_t		 optc;
	struct arc_plancand *cand;	/* by kind, then path */
	size_t		 ncand, ncand_said;
	char		 seal[ARC_SHA256_HEX];
};
void	 arc_planfile_begin(struct arc_buf *);
void	 arc_planfile_field(struct arc_buf *, const char *, const char *);
int	 arc_planfile_version(struct arc_buf *, const char *, const char *);
int	 arc_planfile_save(const char *, struct arc_buf *);
int	 arc_planfile_out_ok(const char *, const char *const *,
	    const char *const *);
int	 arc_planfile_read(const char *, struct arc_planfile *);
struct arc_plancand *arc_planfile_find(struct arc_planfile *, int,
	    const char *, size_t);
int	 arc_planfile_check(const struct arc_planfile *, const char *,
	    const char *, int64_t);
void	 arc_planfile_free(struct arc_planfile *);

#endif /* ARC_H */
