/*
 * test_url.c - URLs as messages and records show them (lib/url.c): the
 * userinfo of every scheme://userinfo@host in a text becomes ***, the
 * value of a signing query parameter becomes ***, and everything else,
 * local paths and URLs without credentials among it, is left as it is.
 */
#include <string.h>

#include "arc.h"
#include "unit.h"

static const struct {
	const char *in, *want;
} cases[] = {
	/* credentials, hidden */
	{ "etcd://alice:S3cretPW@127.0.0.1:9/arc/files/",
	  "etcd://***@127.0.0.1:9/arc/files/" },
	{ "arc+http://u:ArcPW@127.0.0.1:9", "arc+http://***@127.0.0.1:9" },
	{ "file://u:MfPW@/tmp/m.ndjson", "file://***@/tmp/m.ndjson" },
	{ "s3://u:S3PW@bucket/x", "s3://***@bucket/x" },
	{ "https://TOKEN@host/p", "https://***@host/p" },
	{ "s3://u:p@ss@bucket/x", "s3://***@bucket/x" },
	{ "az://c/x?sv=2021&sig=AzPW&sp=rl", "az://c/x?sv=2021&sig=***&sp=rl" },
	{ "https://h/o?X-Amz-Signature=ab&X-Amz-Security-Token=cd",
	  "https://h/o?X-Amz-Signature=***&X-Amz-Security-Token=***" },
	/* in a message, each URL of it */
	{ "arc-list: 's3://u:S3PW@bucket/x': invalid bucket name",
	  "arc-list: 's3://***@bucket/x': invalid bucket name" },
	{ "from 'etcd://a:b@h/p' to 'az://c/?sig=z'",
	  "from 'etcd://***@h/p' to 'az://c/?sig=***'" },
	/* nothing to hide: unchanged */
	{ "s3://bucket/x", "s3://bucket/x" },
	{ "/data/u:p@x/store", "/data/u:p@x/store" },
	{ "file:///tmp/a@b/store", "file:///tmp/a@b/store" },
	{ "http://127.0.0.1:9: Couldn't connect, mail me@x",
	  "http://127.0.0.1:9: Couldn't connect, mail me@x" },
	{ "az://c/x?sv=2021&sp=rl", "az://c/x?sv=2021&sp=rl" },
	{ "no URL at all", "no URL at all" },
	{ "", "" },
};

void
test_url(void)
{
	struct arc_buf b = { 0 };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_STR(arc_url_redact(&b, cases[i].in), cases[i].want,
		    "redact %s", ESC(cases[i].in));
		CHECK_INT(arc_url_has_secret(cases[i].in),
		    strcmp(cases[i].in, cases[i].want) != 0,
		    "has_secret %s", ESC(cases[i].in));
	}
	arc_buf_free(&b);
}

/*
 * Which locations name a local file or directory (lib/url.c,
 * arc_url_local_path): a path as it is, a file:// URL without its
 * scheme, and nothing for standard input or any other scheme.
 */
static const struct {
	const char *loc, *want;	/* want NULL: not a local location */
} locals[] = {
	{ "/data/store", "/data/store" },
	{ "store", "store" },
	{ "./m.ndjson", "./m.ndjson" },
	{ "", "" },
	{ "file:///data/store", "/data/store" },
	{ "file://relative/dir", "relative/dir" },	/* refused later */
	{ "file://", "" },
	{ "s3://bucket/prefix", NULL },
	{ "az://container/prefix", NULL },
	{ "etcd://127.0.0.1:2379/arc/files/", NULL },
	{ "etcds://127.0.0.1:2379/arc/files/", NULL },
	{ "http://127.0.0.1:9/files", NULL },
	{ "https://host/files", NULL },
	{ "arc+http://127.0.0.1:9", NULL },
	{ "-", NULL },
	/* odd spellings: only the exact lower-case "file://" prefix */
	{ "FILE:///data/store", NULL },
	{ "file:/data/store", "file:/data/store" },
	{ "file:data", "file:data" },
	{ "/data/x://y", NULL },
	{ "--", "--" },
	{ "-/x", "-/x" },
	{ "./-", "./-" },
};

void
test_url_local(void)
{
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		got = arc_url_local_path(locals[i].loc);
		if (locals[i].want == NULL)
			CHECK(got == NULL, "local_path %s: not local",
			    ESC(locals[i].loc));
		else
			CHECK_STR(got != NULL ? got : "(null)", locals[i].want,
			    "local_path %s", ESC(locals[i].loc));
	}
	/* the file URL's path is the operand's own bytes, not a copy */
	got = arc_url_local_path(locals[4].loc);
	CHECK(got == locals[4].loc + 7, "file URL path points into it");
}
