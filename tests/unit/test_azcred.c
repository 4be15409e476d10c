/*
 * test_azcred.c - lib/azcred.c without the network: which Entra ID
 * credential the environment selects, in DefaultAzureCredential's order,
 * what an incomplete or unsafe configuration says, and that messages
 * lose URL query strings (a SAS token travels in one).
 */
#include <stdlib.h>
#include <string.h>

#include "arc_priv.h"
#include "unit.h"

static const char *const vars[] = {
	"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
	"AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
	"IDENTITY_ENDPOINT", "IDENTITY_HEADER",
};

static void
clear(void)
{
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* The kind arc_azcred_new picks now, or the message it gives. */
static void
kind_is(const char *want, const char *name)
{
	struct arc_buf eb = { 0 };
	struct arc_azcred *c;

	c = arc_azcred_new(&eb);
	CHECK_STR(c != NULL ? arc_azcred_kind(c) : arc_buf_str(&eb), want,
	    "%s", name);
	arc_azcred_free(c);
	arc_buf_free(&eb);
}

static void
redacts(const char *in, const char *want)
{
	struct arc_buf b = { 0 };

	arc_azcred_redact(&b, in);
	CHECK_STR(arc_buf_str(&b), want, "redact %s", unit_esc(in, strlen(in)));
	arc_buf_free(&b);
}

void
test_azcred(void)
{
	char *pod = getenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");

	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9", 1);
	clear();
	kind_is("managed identity (instance metadata)",
	    "nothing set: the metadata service, last");
	setenv("AZURE_CLIENT_ID", "c", 1);
	setenv("AZURE_CLIENT_SECRET", "s", 1);
	kind_is("managed identity (instance metadata)",
	    "a secret without a tenant is not a client secret credential");
	setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token", 1);
	setenv("IDENTITY_HEADER", "h", 1);
	kind_is("managed identity (App Service)",
	    "IDENTITY_ENDPOINT and IDENTITY_HEADER: App Service");
	setenv("AZURE_TENANT_ID", "t", 1);
	setenv("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent", 1);
	kind_is("client secret", "a client secret comes before the rest");
	unsetenv("AZURE_CLIENT_SECRET");
	kind_is("workload identity", "then workload identity");
	setenv("AZURE_TENANT_ID", "t/../evil?x=", 1);
	kind_is("'t/../evil?x=': invalid AZURE_TENANT_ID",
	    "a tenant that would change the URL is refused");
	setenv("AZURE_TENANT_ID", "t", 1);
	setenv("AZURE_AUTHORITY_HOST", "ftp://x", 1);
	kind_is("AZURE_AUTHORITY_HOST needs https://",
	    "an authority that is not HTTP is refused");
	clear();
	if (pod != NULL)
		setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", pod, 1);

	redacts("Failed to connect to 127.0.0.1 port 9", "Failed to connect "
	    "to 127.0.0.1 port 9");
	redacts("bad URL 'https://a/c/b?sv=1&sig=SECRET' here",
	    "bad URL 'https://a/c/b' here");
	redacts("x?sig=1 y?sig=2", "x y");
	redacts("?", "");
	redacts("", "");
}
