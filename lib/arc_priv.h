/*
 * arc_priv.h - what the library's modules share and the tools do not:
 * the one HTTP layer and its credentials, paged listings, XML answers,
 * the JSON stream reader, the object-store engine under s3.c and
 * azure.c, and the backends' operation tables behind store.c and
 * manifest.c.  Only the library's own files include it (and the unit
 * and fuzz tests of those modules); the tools include arc.h alone.
 */
#ifndef ARC_PRIV_H
#define ARC_PRIV_H

#include "arc.h"

/* base64.c */
void	 arc_base64_encode(struct arc_buf *, const void *, size_t);
int	 arc_base64_decode(struct arc_buf *, const char *, size_t);

/* jsonstream.c: bounded-memory reading of Arc manifest bodies and NDJSON */
#define ARC_ENTRY_MAX	(1024 * 1024)	/* largest single FileEntry */
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
struct arc_json_span {
	const char	*s;		/* NULL: absent or null */
	size_t		 len;		/* a string's bytes between its quotes */
	int		 esc;		/* it holds a two-byte escape */
};
struct arc_json_raw {
	const char	*text;
	size_t		 len;
	const char	*path;
	size_t		 pathlen;
	int		 oneline;	/* no line break: text is an NDJSON line */
	/* the other members arc_entry_from_json reads */
	struct arc_json_span created, size, lsn, origin, database, measurement;
};
typedef int (*arc_raw_fn)(void *, const struct arc_json_raw *, uintmax_t);
int	 arc_json_entries_raw(FILE *, const char *, arc_raw_fn, arc_entry_fn,
	    void *);
int	 arc_json_simple(const char *, size_t, struct arc_json_raw *);
int	 arc_json_lite(void *, const struct arc_json_raw *, uintmax_t);
void	 arc_json_raw_entry(const struct arc_json_raw *, struct arc_entry *,
	    struct arc_buf *);

/* http.c: the one HTTP layer and the one retry policy (libcurl) */
struct curl_slist;
struct arc_http;
struct arc_http_req {
	const char	*method;	/* GET HEAD PUT POST DELETE */
	char		*url;		/* owned */
	struct curl_slist *headers;	/* owned */
	const char	*sigv4;		/* CURLOPT_AWS_SIGV4, or NULL */
	void		*cred;		/* signs with the keys that keys */
	void		(*keys)(void *, const char **, const char **,
			    const char **);	/* gives of it now */
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
	int		 klass;		/* ARC_REQ_*: from the method; the */
					/* backend says LIST, BATCH, ... */
};
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
int	 arc_http_misconfigured(const struct arc_http_req *);
void	 arc_http_escape(struct arc_buf *, const char *, size_t, int);
int	 arc_http_unescape(struct arc_buf *, const char *, size_t, int);

/* azcred.c: Azure Storage's settings, Entra ID tokens and TLS trust */
struct arc_azcred;
enum { ARC_SAS_OTHER, ARC_SAS_ACCOUNT, ARC_SAS_CONTAINER };
struct arc_azconf {
	char		*account;
	struct arc_buf	 key;		/* the account key, decoded; or none */
	char		*sas;		/* without a leading '?', or NULL */
	int		 sasscope;	/* what the SAS grants: ARC_SAS_... */
	struct arc_azcred *cred;	/* Entra ID, with neither key nor SAS */
	char		*endpoint;	/* https://acct.blob.core.windows.net */
};
int	 arc_azconf_open(struct arc_azconf *);
void	 arc_azconf_free(struct arc_azconf *);
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
void	 arc_awscred_sign(struct arc_http_req *, struct arc_awscred *,
	    const char *);
void	 arc_awscred_free(struct arc_awscred *);
void	 arc_awsconf_free(struct arc_awsconf *);

/* pager.c: paged object-store listings, many at once */
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
	const struct arc_shard *shard;	/* list only its prefixes */
	int64_t		 deadline;	/* ms: ask no page after it (0: none) */
	int		*cut;		/* set when the deadline stopped it */
	const int64_t	*accepted;	/* keys taken: the deadline waits for one */
};
struct arc_pager_ops {
	void	(*request)(void *, struct arc_plister *, struct arc_http_req *);
	int	(*page)(void *, struct arc_pager *, struct arc_plister *,
		    struct arc_http_req *);
};
struct arc_plister *arc_pager_add(struct arc_pager *, const char *, size_t);
struct arc_plister *arc_pager_prefix(struct arc_pager *, const char *, size_t,
	    size_t);
int	 arc_pager_found(struct arc_pager *, struct arc_plister *,
	    const char *, size_t, size_t, struct arc_plister **);
void	 arc_pager_emit(struct arc_pager *, const char *, size_t, int64_t,
	    int64_t);
int	 arc_list_keep(const char *, size_t, int);
int	 arc_pager_key(struct arc_plister *, const char *, size_t);
long	 arc_list_max_pages(void);
int	 arc_list_page_keys(int);
void	 arc_pager_free(struct arc_pager *);
int	 arc_pager_run(struct arc_pager *, struct arc_http *,
	    const struct arc_pager_ops *, void *, int);

/* xml.c: XML answers through expat, or its scanner for plain pages */
typedef int (*arc_xml_fn)(void *, const char *, const char *, size_t);
int	 arc_xml_parse(const char *, size_t, const char *const *, arc_xml_fn,
	    void *, struct arc_buf *);
int	 arc_xml_scan(const char *, size_t, const char *const *, arc_xml_fn,
	    void *, struct arc_buf *);
extern int arc_xml_noscan;	/* tests: arc_xml_scan reads with expat only */

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
	/* what an act run's call would send (NULL: no request) */
	void	(*cost)(struct arc_store *, int, const struct arc_sitem *,
		    size_t);
};
extern const struct arc_store_ops arc_store_local;
extern const struct arc_store_ops arc_store_s3;
extern const struct arc_store_ops arc_store_azure;

/*
 * objstore.c: the HTTP object-store engine under s3.c and azure.c.  A
 * service's private state starts with a struct arc_objstore (st->priv
 * points to both); the engine opens, lists, stats, gets, puts and
 * deletes through the one HTTP layer, and asks the service, through a
 * table of its own, only what is its own: how a request is built and
 * authorized, which answers mean what, and how a batch of deletes is
 * sent and read.
 */
struct arc_objstore;
struct arc_oslisting;
/* Where a service's listing answer says what, below its root element. */
struct arc_ospaths {
	const char *const *ns;	/* its namespaces, for arc_xml_parse */
	const char *answer;	/* "not a NAME answer" */
	const char *root, *object, *key, *mtime, *size, *dir, *token;
	const char *truncated, *encoding;	/* NULL: not in the answer */
	const char *marker;	/* "the MARKER repeats" */
	const char *stuck;	/* a key that does not advance */
};
struct arc_objstore_ops {
	const char *scheme;	/* "s3": s3://NAME/ in messages */
	const char *container;	/* "bucket": "invalid bucket name" */
	const char *chars;	/* the bytes a container's name may hold */
	const char *label;	/* "S3": "S3 error CODE: MESSAGE" */
	const char *exists;	/* why a put is refused: "an object ..." */
	const char *nokey;	/* the error code of "no such object" */
	const char *unreported;	/* a key a batch answer left out */
	long	 put_ok;	/* the status of a put that was done */
	long	 delete_ok;	/* the status of a delete that was done */
	int	 oneline;	/* an error message up to its first line break */
	size_t	 batch_max;	/* keys in one batched delete */
	/* A request on an object: method, path, If-Match, a put's length. */
	void	(*request)(struct arc_objstore *, struct arc_http_req *,
		    const char *, const char *, size_t, const char *, off_t);
	/* The container can be used; -1 with the reason (NULL: always). */
	int	(*ready)(struct arc_objstore *, struct arc_buf *);
	/*
	 * One batch of deletes: send the items it can carry, marked
	 * ARC_OS_PENDING, and set each one the answer reports.  0 when the
	 * answer was read, -1 when the batch failed as a whole, 1 when no
	 * batch can be sent (the rest goes key by key).  NULL: none.
	 */
	int	(*batch)(struct arc_objstore *, struct arc_sitem *, size_t);
	/* The error code an answer carries in a header (NULL: none). */
	const char *codehdr;
	/* A transport error, secrets removed (NULL: as it is). */
	void	(*redact)(struct arc_buf *, const char *);
	/*
	 * For the estimate: whether ready would send its probe now, and
	 * how many of these items batch would carry (-1: it would send no
	 * batch, the rest going key by key).  NULL: none, no batch.
	 */
	int	(*ready_cost)(struct arc_objstore *);
	long	(*batch_keys)(struct arc_objstore *, const struct arc_sitem *,
		    size_t);
};
struct arc_objstore {
	const struct arc_objstore_ops *ops;
	const struct arc_oslisting *listing;	/* the one running */
	struct arc_http	*http;
	char		*prefix;	/* "" or ending in '/' */
	size_t		 prefixlen;
	char		*name;		/* s3://bucket/, for messages */
	int		 ready_costed;	/* the estimate has its probe */
};
#define ARC_OS_PENDING	(-2)	/* removal: in a batch not read yet */
/* What a listing does with a key (arc_oslisting's key). */
enum { ARC_OS_EMIT, ARC_OS_SKIP, ARC_OS_RESUME, ARC_OS_END };
/*
 * A kind of listing: its page requests, and what the engine's page
 * reader does with what a page holds.  key says what becomes of a key
 * under the store's prefix (NULL: emitted): skipped, or the rest of the
 * page is another lister's, the lister resuming at its after (RESUME)
 * or done (END).  dir is given each prefix a delimiter listing returns:
 * 0, or -1 after a warning (the listing is partial); arc_os_dir gives it
 * a lister as the pager's shard wants.  Every key is checked for
 * progress (arc_pager_key), whatever becomes of it.
 */
struct arc_oslisting {
	const struct arc_ospaths *paths;
	void	(*request)(struct arc_objstore *, struct arc_plister *,
		    struct arc_http_req *);
	int	(*key)(struct arc_objstore *, struct arc_plister *,
		    const char *, size_t);
	int	(*dir)(struct arc_objstore *, struct arc_pager *,
		    struct arc_plister *, const char *, size_t);
	int64_t	(*mtime)(const char *, size_t);	/* NULL: an HTTP date */
	int	 prefixes_only;	/* no key is emitted */
};
int	 arc_os_open(struct arc_objstore *, const struct arc_objstore_ops *,
	    struct arc_store *, const char *);
void	 arc_os_opened(struct arc_objstore *, struct arc_store *);
void	 arc_os_free(struct arc_objstore *);
void	 arc_os_path(struct arc_objstore *, struct arc_buf *, const char *,
	    size_t);
void	 arc_os_describe(struct arc_objstore *, const struct arc_http_req *,
	    const char *, const char *, struct arc_buf *);
int	 arc_os_code(const struct arc_http_req *, const char *);
int	 arc_os_list_page(void *, struct arc_pager *, struct arc_plister *,
	    struct arc_http_req *);
int	 arc_os_list_start(struct arc_store *, struct arc_pager *, char **,
	    size_t, int, arc_list_fn, void *);
int	 arc_os_list_run(struct arc_objstore *, struct arc_pager *,
	    const struct arc_oslisting *, int);
int	 arc_os_dir(struct arc_objstore *, struct arc_pager *,
	    struct arc_plister *, const char *, size_t);
int64_t	 arc_os_size(const char *, size_t);
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
void	 arc_os_cost(struct arc_store *, int, const struct arc_sitem *, size_t);
/* A service's store operations: its own open, list and close. */
#define ARC_OS_STORE(sch, op, ls, cl) { .scheme = (sch), .open = (op), \
	.list = (ls), .stat = arc_os_stat, .remove = arc_os_remove, \
	.stat_many = arc_os_stat_many, .remove_many = arc_os_remove_many, \
	.get = arc_os_get, .put = arc_os_put, .close = (cl), \
	.cost = arc_os_cost }

struct arc_manifest;
struct arc_manifest_ops {
	const char *scheme;
	int	(*open)(struct arc_manifest *, const char *);
	int	(*dump)(struct arc_manifest *, arc_entry_fn, void *);
	int	(*plan)(struct arc_manifest *, const struct arc_mitem *, size_t);
	int	(*lookup)(struct arc_manifest *, struct arc_mitem *, size_t);
	int	(*fetch)(struct arc_manifest *, struct arc_mitem *, size_t);
	int	(*remove)(struct arc_manifest *, struct arc_mitem *, size_t,
		    struct arc_buf *);
	int	(*restore)(struct arc_manifest *, FILE *, struct arc_buf *);
	void	(*close)(struct arc_manifest *);
	/*
	 * What an act run's call would send (ARC_COST_LOOKUP, _MREMOVE);
	 * for _MREMOVE, how many entries it would remove (NULL: no
	 * request, all removed).
	 */
	size_t	(*cost)(struct arc_manifest *, int, size_t);
};
extern const struct arc_manifest_ops arc_manifest_file;
extern const struct arc_manifest_ops arc_manifest_arcapi;
extern const struct arc_manifest_ops arc_manifest_etcd;

/* runarchive.c: whether a member is the run's run.json (for archive.c) */
int	 arc_runarchive_is_run(const char *);

#endif /* ARC_PRIV_H */
