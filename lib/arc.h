/*
 * arc.h - the shared library of the arc-reconcile tools.
 *
 * Grouped by source file.  Everything exported carries the arc_ prefix;
 * the record contract these functions implement is described in arc(7).
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
void	 arc_base64_encode(struct arc_buf *, const void *, size_t);
int	 arc_base64_decode(struct arc_buf *, const char *, size_t);

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

/* quote.c: the C-style path quoting of arc(7) */
/* A byte written escaped: below 0x20 (TAB among them), 0x7F, backslash. */
static inline int
arc_needs_quote(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}
void	 arc_quote(struct arc_buf *, const char *, size_t);
int	 arc_unquote(struct arc_buf *, const char *, size_t, const char **);
int	 arc_quoted_check(const char *, size_t, const char **);

/* time.c: RFC 3339 times (seconds since the epoch) and Go durations */
#define ARC_TIME_UNKNOWN	INT64_MIN
#define ARC_TIME_BUFSZ		32
#define ARC_TIME_RECORD		0	/* exactly 2026-04-11T14:00:00Z */
#define ARC_TIME_LENIENT	1	/* 0-9 fraction digits, Z or +hh:mm */
int	 arc_time_parse(const char *, size_t, int, int64_t *);
char	*arc_time_format(int64_t, char *);
int64_t	 arc_time_now(void);
int	 arc_duration_parse(const char *, int64_t *);
int64_t	 arc_duration_const(const char *);
int	 arc_is_young(int64_t, int64_t, int64_t);

/* path.c: the one path validator */
const char *arc_path_manifest_error(const char *, size_t);
const char *arc_path_unsafe(const char *, size_t);
int	 arc_path_is_candidate(const char *, size_t);
int	 arc_path_is_managed(const char *, size_t);

/* record.c: the one record reader and writer */
enum arc_rtype {
	ARC_REC_STORAGE,	/* path mtime size */
	ARC_REC_MANIFEST,	/* path created_at size origin rev */
	ARC_REC_CANDIDATE,	/* kind + storage or manifest record */
	ARC_REC_REJECT		/* reason + candidate record */
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
	const char	*reason;	/* ARC_REC_REJECT only */
	size_t		 reasonlen;
	const char	*body;	/* the record after the kind/reason fields */
	size_t		 bodylen;
	int64_t		 time;	/* mtime or created_at */
	int64_t		 size;	/* -1: unknown */
	const char	*origin;	/* quoted, "-" when empty */
	size_t		 originlen;
	const char	*rev;	/* quoted, "-" when none */
	size_t		 revlen;
};
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
};
void	 arc_reader_init(struct arc_reader *, FILE *, const char *, int, int);
int	 arc_reader_next(struct arc_reader *, struct arc_record *);
void	 arc_reader_free(struct arc_reader *);
int	 arc_record_path(const struct arc_record *, struct arc_buf *);
int	 arc_pathcmp(const char *, size_t, const char *, size_t);
struct arc_entry;
void	 arc_write_storage(FILE *, const char *, size_t, int64_t, int64_t);
void	 arc_entry_record(struct arc_buf *, const struct arc_entry *);
void	 arc_write_candidate(FILE *, int, const char *, size_t);
void	 arc_write_reject(FILE *, const char *, int, const char *, size_t);
void	 arc_write_result(FILE *, const char *, int, const char *, size_t);

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

/* jsonstream.c: bounded-memory reading of Arc manifest bodies and NDJSON */
#define ARC_ENTRY_MAX	(1024 * 1024)	/* largest single FileEntry */
typedef int (*arc_entry_fn)(void *, struct arc_entry *, uintmax_t);
struct arc_json_meta {
	int		 bodies;	/* Arc bodies read */
	int		 have_cursor;	/* the last one had next_cursor */
	struct arc_buf	 next_cursor;
};
int	 arc_json_entries(FILE *, const char *, arc_entry_fn, void *);
int	 arc_json_entries_meta(FILE *, const char *, arc_entry_fn, void *,
	    struct arc_json_meta *);
/*
 * A simple entry, offered before it is parsed: its bytes ('{' to '}')
 * and its path, which is exactly what parsing would decode.
 */
struct arc_json_raw {
	const char	*text;
	size_t		 len;
	const char	*path;
	size_t		 pathlen;
	int		 oneline;	/* no line break: text is an NDJSON line */
};
typedef int (*arc_raw_fn)(void *, const struct arc_json_raw *, uintmax_t);
int	 arc_json_entries_raw(FILE *, const char *, arc_raw_fn, arc_entry_fn,
	    void *);
int	 arc_json_simple(const char *, size_t, struct arc_json_raw *);

/* sortpipe.c: LC_ALL=C sort(1) as a co-process for bounded-memory sorting */
struct arc_sort;
struct arc_sort *arc_sort_open(const char *);
FILE	*arc_sort_input(struct arc_sort *);
FILE	*arc_sort_output(struct arc_sort *);
int	 arc_sort_close(struct arc_sort *);

/* http.c: the one HTTP layer and the one retry policy (libcurl) */
struct curl_slist;
struct arc_http;
struct arc_http_req {
	const char	*method;	/* GET HEAD PUT POST DELETE */
	char		*url;		/* owned */
	struct curl_slist *headers;	/* owned */
	const char	*sigv4;		/* CURLOPT_AWS_SIGV4, or NULL */
	struct arc_awscred *cred;	/* signs with these (sigv4 set) */
	const char	*cainfo;	/* CA bundle, or NULL */
	const char	*cavar;		/* where cainfo came from, for messages */
	const char	*sslcert;	/* client certificate and key, or NULL */
	const char	*sslkey;
	const char	*capath;	/* CA directory (c_rehash), or NULL */
	const char	*body;		/* request body in memory */
	size_t		 bodylen;
	int		 infd;		/* or from this file (-1: none) */
	int64_t		 inlen;
	int		 outfd;		/* response body to this file */
	long		 status;	/* 0: no HTTP answer */
	struct arc_buf	 resp;		/* response body (outfd == -1) */
	struct arc_buf	 rhdr;		/* response headers */
	char		 err[512];	/* why there was no answer */
	int		 attempts;
	int		 cc;		/* CURLcode of the last attempt */
	int		 misconf;	/* it failed on a TLS setting */
	void		*arg;		/* the caller's */
	int64_t		 next_ms;	/* private to http.c */
	int		 slot;
	struct curl_slist *signedhdr;	/* headers with the session token */
};
extern int arc_config_error;	/* TLS or credentials refused: exit 2 */
struct arc_http *arc_http_new(void);
void	 arc_http_limits(struct arc_http *, long, long);
void	 arc_http_free(struct arc_http *);
void	 arc_http_req_init(struct arc_http_req *, const char *, char *);
void	 arc_http_req_free(struct arc_http_req *);
void	 arc_http_add_header(struct arc_http_req *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 arc_http_header(const struct arc_http_req *, const char *,
	    struct arc_buf *);
int	 arc_http_perform(struct arc_http *, struct arc_http_req *);
void	 arc_http_perform_many(struct arc_http *, struct arc_http_req **,
	    size_t, int);
void	 arc_http_describe(const struct arc_http_req *, struct arc_buf *);
int	 arc_http_misconfigured(const struct arc_http_req *);
void	 arc_http_escape(struct arc_buf *, const char *, size_t, int);
int	 arc_http_unescape(struct arc_buf *, const char *, size_t, int);

/* azcred.c: Microsoft Entra ID tokens and TLS trust for Azure Storage */
struct arc_azcred;
struct arc_azcred *arc_azcred_new(struct arc_buf *);
const char *arc_azcred_token(struct arc_azcred *, struct arc_buf *);
const char *arc_azcred_kind(const struct arc_azcred *);
void	 arc_azcred_free(struct arc_azcred *);
void	 arc_azcred_ca(struct arc_http_req *);
void	 arc_azcred_redact(struct arc_buf *, const char *);

/* awscred.c: AWS credentials and settings, found as the AWS CLI does */
struct arc_awscred;
struct arc_awsconf {
	char	*region;	/* never NULL */
	char	*endpoint;	/* the S3 endpoint URL, or NULL */
	char	*style;		/* S3 addressing style, or NULL */
	char	*ca_bundle;	/* or NULL */
};
int	 arc_awscred_open(struct arc_awsconf *, struct arc_awscred **);
void	 arc_awscred_keys(struct arc_awscred *, const char **, const char **,
	    const char **);
void	 arc_awscred_free(struct arc_awscred *);
void	 arc_awsconf_free(struct arc_awsconf *);

/* pager.c: paged object-store listings, many at once */
typedef int (*arc_list_fn)(void *, const char *, size_t, int64_t, int64_t);
struct arc_plister {
	struct arc_buf	 prefix;	/* the key prefix it lists */
	struct arc_buf	 token;		/* continuation, "" at the start */
	struct arc_buf	 after;		/* where to resume (start-after) */
	struct arc_buf	 until;		/* the last key it lists; "" none */
	int		 delimiter;	/* list one level, split by prefix */
	int		 rest;		/* lists around other listers */
	int		 done;
	int		 pages;
	/* progress (pager.c): every key above floor, the page's start */
	struct arc_buf	 pos;		/* the greatest key returned */
	struct arc_buf	 floor;		/* the position the page was asked at */
	struct arc_buf	 asked;		/* the page's token, or its after */
	int		 fresh;		/* keys this page returned above floor */
	int		 stall;		/* pages in a row with no new key */
	struct arc_http_req req;
};
struct arc_pager {
	struct arc_plister **v;
	size_t		 n, cap;
	int		 flags;		/* ARC_LIST_ALL */
	arc_list_fn	 fn;
	void		*arg;
	const char	*name;		/* the store URL, for messages */
	int		 quiet;		/* a listing of hints: no warnings */
};
struct arc_pager_ops {
	void	(*request)(void *, struct arc_plister *, struct arc_http_req *);
	int	(*page)(void *, struct arc_pager *, struct arc_plister *,
		    struct arc_http_req *);
};
struct arc_plister *arc_pager_add(struct arc_pager *, const char *, size_t);
void	 arc_pager_emit(struct arc_pager *, const char *, size_t, int64_t,
	    int64_t);
int	 arc_pager_key(struct arc_plister *, const char *, size_t);
long	 arc_list_max_pages(void);
void	 arc_pager_free(struct arc_pager *);
int	 arc_pager_run(struct arc_pager *, struct arc_http *,
	    const struct arc_pager_ops *, void *, int);

/* xml.c: XML answers through expat */
typedef int (*arc_xml_fn)(void *, const char *, const char *, size_t);
int	 arc_xml_parse(const char *, size_t, const char *const *, arc_xml_fn,
	    void *, struct arc_buf *);

/* store.c: storage backends behind one interface (local.c, ...) */
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
struct arc_store;
struct arc_store_ops {
	const char *scheme;
	int	(*open)(struct arc_store *, const char *);
	int	(*list)(struct arc_store *, char **, size_t, int,
		    arc_list_fn, void *);
	int	(*stat)(struct arc_store *, const char *, size_t,
		    struct arc_stat *, struct arc_buf *);
	int	(*remove)(struct arc_store *, const char *, size_t,
		    struct arc_buf *);
	void	(*stat_many)(struct arc_store *, struct arc_sitem *, size_t,
		    int);
	void	(*remove_many)(struct arc_store *, struct arc_sitem *, size_t,
		    int);
	int	(*get)(struct arc_store *, const char *, size_t, int,
		    struct arc_stat *, struct arc_buf *);
	int	(*put)(struct arc_store *, const char *, size_t, int,
		    int64_t, struct arc_buf *);
	void	(*close)(struct arc_store *);
};
struct arc_store {
	const struct arc_store_ops *ops;
	int	 unordered;	/* list output needs sorting (object stores) */
	int	 jobs;		/* listings in flight (arc-list -j) */
	char	**hints;	/* prefixes to list apart (arc-list -M) */
	size_t	 nhints;
	char	**bounds;	/* paths that split a prefix's range (-M) */
	size_t	 nbounds;
	char	*url;		/* as given, for messages */
	void	*priv;
};
struct arc_store *arc_store_open(const char *);
int	 arc_store_list(struct arc_store *, char **, size_t, int,
	    arc_list_fn, void *);
int	 arc_store_stat(struct arc_store *, const char *, size_t,
	    struct arc_stat *, struct arc_buf *);
int	 arc_store_remove(struct arc_store *, const char *, size_t,
	    struct arc_buf *);
void	 arc_store_stat_many(struct arc_store *, struct arc_sitem *, size_t,
	    int);
void	 arc_store_remove_many(struct arc_store *, struct arc_sitem *, size_t,
	    int);
int	 arc_store_get(struct arc_store *, const char *, size_t, int,
	    struct arc_stat *, struct arc_buf *);
int	 arc_store_put(struct arc_store *, const char *, size_t, int, int64_t,
	    struct arc_buf *);
void	 arc_store_close(struct arc_store *);
extern const struct arc_store_ops arc_store_local;
extern const struct arc_store_ops arc_store_s3;
extern const struct arc_store_ops arc_store_azure;

/*
 * objstore.c: the HTTP object-store engine under s3.c and azure.c.  A
 * service's private state starts with a struct arc_objstore (st->priv
 * points to both); the engine does stat, get, put and deletes through
 * the one HTTP layer, the service builds and authorizes requests and
 * reads its own answers through a table of its functions.
 */
struct arc_objstore;
struct arc_objstore_ops {
	const char *label;	/* "S3": "S3 error CODE: MESSAGE" */
	const char *exists;	/* why a put is refused: "an object ..." */
	long	 put_ok;	/* the status of a put that was done */
	long	 delete_ok;	/* the status of a delete that was done */
	int	 oneline;	/* an error message up to its first line break */
	/* A request on an object: method, path, If-Match, a put's length. */
	void	(*request)(struct arc_objstore *, struct arc_http_req *,
		    const char *, const char *, size_t, const char *, off_t);
	/* 404 that means "no such object" (deleting: a DELETE's answer) */
	int	(*absent)(const struct arc_http_req *, int);
	/* The container can be used; -1 with the reason (NULL: always). */
	int	(*ready)(struct arc_objstore *, struct arc_buf *);
	/* Batched deletes: settle what it can, leave the rest at -1. */
	void	(*batch)(struct arc_objstore *, struct arc_sitem *, size_t);
	/* The error code an answer carries in a header (NULL: none). */
	const char *codehdr;
	/* A transport error, secrets removed (NULL: as it is). */
	void	(*redact)(struct arc_buf *, const char *);
};
struct arc_objstore {
	const struct arc_objstore_ops *ops;
	struct arc_http	*http;
	char		*prefix;	/* "" or ending in '/' */
	size_t		 prefixlen;
	char		*name;		/* s3://bucket/, for messages */
};
int	 arc_os_prefix(struct arc_objstore *, const char *, const char *);
void	 arc_os_free(struct arc_objstore *);
void	 arc_os_describe(struct arc_objstore *, const struct arc_http_req *,
	    const char *, const char *, struct arc_buf *);
int	 arc_os_list_failed(struct arc_objstore *, const struct arc_http_req *,
	    const char *, struct arc_buf *);
void	 arc_os_pager(struct arc_objstore *, struct arc_pager *, int,
	    arc_list_fn, void *);
int	 arc_os_listers(struct arc_objstore *, struct arc_pager *, char **,
	    size_t);
int	 arc_os_code(const struct arc_http_req *, const char *);
int64_t	 arc_os_size(const char *, size_t);
/* A listing page: its objects and prefixes, read by the paths below. */
struct arc_ospage {
	struct arc_buf	 key, mtime, size, token;
	struct arc_buf	 objs;		/* key \0 mtime \0 size \0 ... */
	size_t		 nobjs;
	struct arc_buf	 dirs;		/* prefixes, each ending in \0 */
	size_t		 ndirs;
	int		 truncated;
	int		 urlenc;	/* keys come percent-encoded */
	int		 bad;
};
/* Where a service's listing answer says what, below its root element. */
struct arc_ospaths {
	const char *const *ns;	/* its namespaces, for arc_xml_parse */
	const char *answer;	/* "not a NAME answer" */
	const char *root, *object, *key, *mtime, *size, *dir, *token;
	const char *truncated, *encoding;	/* NULL: not in the answer */
};
int	 arc_os_page_read(struct arc_objstore *, const struct arc_http_req *,
	    const struct arc_ospaths *, const char *, struct arc_ospage *,
	    struct arc_buf *);
void	 arc_os_page_free(struct arc_ospage *);
int64_t	 arc_os_time(const char *);
void	 arc_os_stat_many(struct arc_store *, struct arc_sitem *, size_t, int);
int	 arc_os_stat(struct arc_store *, const char *, size_t,
	    struct arc_stat *, struct arc_buf *);
void	 arc_os_remove_many(struct arc_store *, struct arc_sitem *, size_t,
	    int);
int	 arc_os_remove(struct arc_store *, const char *, size_t,
	    struct arc_buf *);
int	 arc_os_get(struct arc_store *, const char *, size_t, int,
	    struct arc_stat *, struct arc_buf *);
int	 arc_os_put(struct arc_store *, const char *, size_t, int, int64_t,
	    struct arc_buf *);

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
struct arc_manifest;
struct arc_manifest_ops {
	const char *scheme;
	int	(*open)(struct arc_manifest *, const char *);
	int	(*dump)(struct arc_manifest *, arc_entry_fn, void *);
	int	(*lookup)(struct arc_manifest *, struct arc_mitem *, size_t);
	int	(*fetch)(struct arc_manifest *, struct arc_mitem *, size_t);
	int	(*remove)(struct arc_manifest *, struct arc_mitem *, size_t,
		    struct arc_buf *);
	int	(*restore)(struct arc_manifest *, FILE *, struct arc_buf *);
	void	(*close)(struct arc_manifest *);
};
struct arc_manifest {
	const struct arc_manifest_ops *ops;
	char	*spec;
	void	*priv;
	const char *database;	/* dump only this database (or NULL) */
	const char *deferred;	/* where a read-only source writes deletes */
};
struct arc_manifest *arc_manifest_open(const char *);
int	 arc_manifest_dump(struct arc_manifest *, arc_entry_fn, void *);
int	 arc_manifest_lookup(struct arc_manifest *, struct arc_mitem *, size_t);
int	 arc_manifest_fetch(struct arc_manifest *, struct arc_mitem *, size_t);
int	 arc_manifest_remove(struct arc_manifest *, struct arc_mitem *, size_t,
	    struct arc_buf *);
int	 arc_manifest_restore(struct arc_manifest *, FILE *, struct arc_buf *);
void	 arc_manifest_close(struct arc_manifest *);
extern const struct arc_manifest_ops arc_manifest_file;
extern const struct arc_manifest_ops arc_manifest_arcapi;
extern const struct arc_manifest_ops arc_manifest_etcd;

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
 * restore.c: put an archive's quarantined files back into the store and
 * its manifest entries back into the manifest (arc-restore(1)); one
 * result line a file on standard output; returns the exit status.
 */
int	 arc_restore(const char *, struct arc_store *, struct arc_manifest *);

/* progress.c: records handled so far, for arc-reconcile's progress line */
void	 arc_progress_add(uintmax_t);
void	 arc_progress_done(void);

/* audit.c: the NDJSON audit trail, fsync'ed per batch */
struct arc_audit;
struct arc_audit *arc_audit_open(const char *);
void	 arc_audit_event(struct arc_audit *, const char *, const char *, ...);
int	 arc_audit_reserve(struct arc_audit *, size_t);
int	 arc_audit_sync(struct arc_audit *);
void	 arc_audit_close(struct arc_audit *);

#endif /* ARC_H */
