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
