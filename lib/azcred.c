/*
 * azcred.c - Azure Storage's settings and credentials, found as the
 * Azure tools find them.
 *
 * The account, its key or a SAS token and the endpoint (arc_azconf_open)
 * come from AZURE_STORAGE_CONNECTION_STRING (AccountName, AccountKey,
 * BlobEndpoint, DefaultEndpointsProtocol, EndpointSuffix,
 * SharedAccessSignature, UseDevelopmentStorage), or AZURE_STORAGE_ACCOUNT
 * with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN;
 * AZURE_STORAGE_BLOB_ENDPOINT overrides the endpoint (emulators).  With
 * neither a key nor a SAS, Microsoft Entra ID tokens authorize requests,
 * found as the Azure SDKs' DefaultAzureCredential finds them, in its
 * order:
 *
 *  1. a client secret: AZURE_TENANT_ID, AZURE_CLIENT_ID and
 *     AZURE_CLIENT_SECRET (client credentials grant);
 *  2. workload identity (AKS): AZURE_FEDERATED_TOKEN_FILE with
 *     AZURE_TENANT_ID and AZURE_CLIENT_ID (a client assertion, the file
 *     read again for every token, since the kubelet rotates it);
 *  3. managed identity: IDENTITY_ENDPOINT and IDENTITY_HEADER (App
 *     Service, Functions, Container Apps), else the instance metadata
 *     service (VMs), whose address AZURE_POD_IDENTITY_AUTHORITY_HOST
 *     overrides; AZURE_CLIENT_ID picks a user-assigned identity.
 *
 * The token endpoint of 1 and 2 is AZURE_AUTHORITY_HOST (default
 * https://login.microsoftonline.com)/TENANT/oauth2/v2.0/token.  A token
 * is used until five minutes before it expires (azure-core's refresh
 * offset), then fetched again; when that fails, the old one serves until
 * it expires.  Secrets and tokens go into request bodies and headers
 * only, never into a message: messages name endpoints without their
 * query strings and quote only the error code and first line of an
 * error answer.
 *
 * Also here, for every Azure request: the CA bundle named by
 * SSL_CERT_FILE or SSL_CERT_DIR, as OpenSSL and the SDKs honour them.
 */
#include <err.h>
#include <errno.h>
#include <strings.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc_priv.h"

#define AUTHORITY	"https://login.microsoftonline.com"
#define IMDS		"http://169.254.169.254"
#define SCOPE		"https://storage.azure.com/.default"
#define RESOURCE	"https://storage.azure.com/"
#define REFRESH_S	300	/* refresh this long before expiry */
#define RETRY_S		30	/* after a failed fetch, wait this long */
#define ASSERTION_MAX	(64 * 1024)
#define JWT_BEARER	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define DEV_ACCOUNT	"devstoreaccount1"
#define DEV_KEY		"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErC" \
			"z4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

enum { SECRET, WORKLOAD, APPSERVICE, IMDSKIND };
static const char *const kinds[] = {
	"client secret", "workload identity", "managed identity (App Service)",
	"managed identity (instance metadata)"
};

struct arc_azcred {
	int		 kind;
	char		*url;		/* token endpoint, without query */
	char		*query;		/* managed identity: its query */
	char		*client;	/* AZURE_CLIENT_ID, or NULL */
	char		*secret;	/* client secret or IDENTITY_HEADER */
	char		*file;		/* AZURE_FEDERATED_TOKEN_FILE */
	char		*token;		/* the current access token */
	int64_t		 expires;	/* its expiry, epoch seconds */
	int64_t		 retry_at;	/* no fetch before, after a failure */
	struct arc_buf	 why;		/* why the last fetch failed */
	struct arc_http	*http;
};

/*
 * Append text with every URL query string left out ('?' up to the next
 * space or quote): a SAS token travels in the query, and libcurl or a
 * server may quote a URL in an error.
 */
void
arc_azcred_redact(struct arc_buf *out, const char *text)
{
	const char *q;

	while ((q = strchr(text, '?')) != NULL) {
		arc_buf_add(out, text, (size_t)(q - text));
		text = q + strcspn(q, " \t\r\n'\"");
	}
	arc_buf_adds(out, text);
}

/* The CA bundle of SSL_CERT_FILE / SSL_CERT_DIR for an Azure request. */
void
arc_azcred_ca(struct arc_http_req *r)
{
	r->cainfo = arc_env("SSL_CERT_FILE");
	r->capath = arc_env("SSL_CERT_DIR");
}

/* A tenant is a GUID or a domain name: nothing that changes the URL. */
static int
tenant_ok(const char *t)
{
	return strlen(t) <= 256 && strspn(t, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == strlen(t);
}

static char *
trimmed(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return arc_estrndup(s, n);
}

/*
 * Which Entra ID credential the environment configures.  NULL with a
 * message in eb when a configuration is incomplete or invalid; the
 * instance metadata service is the last resort and always "configured".
 */
struct arc_azcred *
arc_azcred_new(struct arc_buf *eb)
{
	struct arc_azcred *c;
	struct arc_buf u = { 0 };
	const char *tenant, *client, *secret, *file, *ep, *hdr, *auth;

	eb->len = 0;
	c = arc_ecalloc(1, sizeof(*c));
	tenant = arc_env("AZURE_TENANT_ID");
	client = arc_env("AZURE_CLIENT_ID");
	secret = arc_env("AZURE_CLIENT_SECRET");
	file = arc_env("AZURE_FEDERATED_TOKEN_FILE");
	if (client != NULL)
		c->client = arc_estrdup(client);
	if (tenant != NULL && client != NULL && (secret != NULL ||
	    file != NULL)) {
		if (!tenant_ok(tenant)) {
			arc_buf_printf(eb, "'%s': invalid AZURE_TENANT_ID",
			    tenant);
			goto fail;
		}
		auth = arc_env("AZURE_AUTHORITY_HOST");
		auth = auth != NULL ? auth : AUTHORITY;
		if (strncmp(auth, "https://", 8) != 0 &&
		    strncmp(auth, "http://", 7) != 0) {
			arc_buf_adds(eb, "AZURE_AUTHORITY_HOST needs https://");
			goto fail;
		}
		c->url = trimmed(auth);
		arc_buf_printf(&u, "%s/%s/oauth2/v2.0/token", c->url, tenant);
		free(c->url);
		c->url = arc_estrdup(u.s);
		if (secret != NULL) {
			c->kind = SECRET;
			c->secret = arc_estrdup(secret);
		} else {
			c->kind = WORKLOAD;
			c->file = arc_estrdup(file);
		}
	} else if ((ep = arc_env("IDENTITY_ENDPOINT")) != NULL &&
	    (hdr = arc_env("IDENTITY_HEADER")) != NULL) {
		c->kind = APPSERVICE;
		c->url = arc_estrdup(ep);
		c->url[strcspn(c->url, "?")] = '\0';
		c->secret = arc_estrdup(hdr);
		arc_buf_adds(&u, "api-version=2019-08-01&resource=");
	} else {
		c->kind = IMDSKIND;
		ep = arc_env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
		c->url = trimmed(ep != NULL ? ep : IMDS);
		arc_buf_printf(&u, "%s/metadata/identity/oauth2/token", c->url);
		free(c->url);
		c->url = arc_estrdup(u.s);
		u.len = 0;
		arc_buf_adds(&u, "api-version=2018-02-01&resource=");
	}
	if (c->kind == APPSERVICE || c->kind == IMDSKIND) {
		arc_http_escape(&u, RESOURCE, strlen(RESOURCE), 0);
		if (c->client != NULL) {
			arc_buf_adds(&u, "&client_id=");
			arc_http_escape(&u, c->client, strlen(c->client), 0);
		}
		c->query = arc_estrdup(u.s);
	}
	arc_buf_free(&u);
	c->http = arc_http_new();
	return c;
fail:
	arc_buf_free(&u);
	arc_azcred_free(c);
	return NULL;
}

void
arc_azcred_free(struct arc_azcred *c)
{
	if (c == NULL)
		return;
	free(c->url);
	free(c->query);
	free(c->client);
	arc_zfree(c->secret);
	free(c->file);
	arc_zfree(c->token);
	arc_buf_free(&c->why);
	arc_http_free(c->http);
	free(c);
}

const char *
arc_azcred_kind(const struct arc_azcred *c)
{
	return kinds[c->kind];
}

/* Append name=value, the value form-encoded. */
static void
form(struct arc_buf *b, const char *name, const char *value, size_t n)
{
	if (b->len > 0)
		arc_buf_addc(b, '&');
	arc_buf_adds(b, name);
	arc_buf_addc(b, '=');
	arc_http_escape(b, value, n, 0);
}

/* The federated token (a JWT), read afresh: the kubelet rotates it. */
static int
read_assertion(const char *path, struct arc_buf *out, struct arc_buf *eb)
{
	char buf[4096];
	ssize_t k;
	int fd;

	out->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		arc_buf_printf(eb, "cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	while ((k = read(fd, buf, sizeof(buf))) > 0 && out->len < ASSERTION_MAX)
		arc_buf_add(out, buf, (size_t)k);
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	if (k == -1) {
		arc_buf_printf(eb, "cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	while (out->len > 0 && strchr(" \t\r\n", out->s[out->len - 1]))
		out->len--;
	if (out->len == 0 || out->len >= ASSERTION_MAX) {
		arc_buf_printf(eb, "'%s': %s federated token", path,
		    out->len ? "too large a" : "an empty");
		return -1;
	}
	arc_buf_str(out);
	return 0;
}

/* A number that JSON gives as a number or as a string of digits. */
static int64_t
json_num(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s;
	char *end;
	long long n;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return -1;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && n >= 0 ? n : -1;
}

static const char *
json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* One line of an error answer's own words, bounded. */
static void
error_words(struct arc_buf *eb, struct json_object *o)
{
	const char *code, *desc;

	if (o == NULL)
		return;
	code = json_str(o, "error");
	desc = json_str(o, "error_description");
	if (desc == NULL)
		desc = json_str(o, "message");	/* App Service */
	if (code != NULL)
		arc_buf_printf(eb, " %.64s", code);
	if (desc != NULL)
		arc_buf_printf(eb, ": %.*s", (int)(strcspn(desc, "\r\n") < 200 ?
		    strcspn(desc, "\r\n") : 200), desc);
}

/* Ask the token endpoint for a new token; 0 on success. */
static int
fetch(struct arc_azcred *c, struct arc_buf *eb)
{
	struct arc_http_req r;
	struct arc_buf body = { 0 }, u = { 0 }, assertion = { 0 };
	struct json_object *o = NULL;
	const char *tok;
	int64_t now = arc_time_now(), in, on;
	int ret = -1;

	if (c->query != NULL)
		arc_buf_printf(&u, "%s?%s", c->url, c->query);
	else
		arc_buf_adds(&u, c->url);
	arc_http_req_init(&r, c->query ? "GET" : "POST", arc_estrdup(u.s));
	arc_azcred_ca(&r);
	switch (c->kind) {
	case SECRET:
	case WORKLOAD:
		form(&body, "grant_type", "client_credentials",
		    strlen("client_credentials"));
		form(&body, "client_id", c->client, strlen(c->client));
		form(&body, "scope", SCOPE, strlen(SCOPE));
		if (c->kind == SECRET)
			form(&body, "client_secret", c->secret,
			    strlen(c->secret));
		else {
			if (read_assertion(c->file, &assertion, eb) == -1)
				goto out;
			form(&body, "client_assertion_type", JWT_BEARER,
			    strlen(JWT_BEARER));
			form(&body, "client_assertion", assertion.s,
			    assertion.len);
		}
		arc_http_add_header(&r, "Content-Type: "
		    "application/x-www-form-urlencoded");
		r.body = body.s;
		r.bodylen = body.len;
		break;
	case APPSERVICE:
		arc_http_add_header(&r, "X-IDENTITY-HEADER: %s", c->secret);
		break;
	default:
		arc_http_add_header(&r, "Metadata: true");
		break;
	}
	arc_http_add_header(&r, "Accept: application/json");
	if (arc_http_perform(c->http, &r) == -1) {
		arc_azcred_redact(eb, r.err);
		arc_buf_printf(eb, " (after %d attempts)", r.attempts);
		goto out;
	}
	if (r.resp.len > 0)
		o = json_tokener_parse(arc_buf_str(&r.resp));
	if (r.status != 200) {
		arc_buf_printf(eb, "HTTP %ld", r.status);
		error_words(eb, o);
		goto out;
	}
	tok = o != NULL ? json_str(o, "access_token") : NULL;
	in = o != NULL ? json_num(o, "expires_in") : -1;
	on = o != NULL ? json_num(o, "expires_on") : -1;
	if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n") != NULL ||
	    (in < 0 && on < 0)) {
		arc_buf_adds(eb, "not a token answer");
		goto out;
	}
	arc_zfree(c->token);
	c->token = arc_estrdup(tok);
	c->expires = on >= 0 ? on : now + in;
	ret = 0;
out:
	if (o != NULL)
		json_object_put(o);
	/* the answer held the token */
	if (r.resp.s != NULL)
		explicit_bzero(r.resp.s, r.resp.len);
	if (body.s != NULL)
		explicit_bzero(body.s, body.len);
	if (assertion.s != NULL)
		explicit_bzero(assertion.s, assertion.len);
	arc_http_req_free(&r);
	arc_buf_free(&body);
	arc_buf_free(&assertion);
	arc_buf_free(&u);
	return ret;
}

/*
 * The access token to send now: the cached one while more than five
 * minutes remain, else a new one.  A failed fetch is not tried again for
 * 30 seconds (each try has its retries already): meanwhile the old token
 * serves while it is valid.  NULL with a one-line reason in eb when there
 * is no valid token.
 */
const char *
arc_azcred_token(struct arc_azcred *c, struct arc_buf *eb)
{
	int64_t now = arc_time_now();

	eb->len = 0;
	if (c->token != NULL && now < c->expires - REFRESH_S)
		return c->token;
	if (now >= c->retry_at) {
		c->why.len = 0;
		if (fetch(c, &c->why) == 0)
			return c->token;
		c->retry_at = arc_time_now() + RETRY_S;
	}
	if (c->token != NULL && now < c->expires)
		return c->token;
	arc_buf_printf(eb, "cannot get an Azure token (%s) from '",
	    kinds[c->kind]);
	arc_azcred_redact(eb, c->url);
	arc_buf_printf(eb, "': %s", arc_buf_str(&c->why));
	return NULL;
}

/* What a SAS token grants access to, by its sr/ss/srt parameters. */
static int
sas_scope(const char *sas)
{
	const char *p;
	size_t n;
	int account = 0;

	for (p = sas; *p; p += n + (p[n] == '&')) {
		n = strcspn(p, "&");
		if (n == 4 && strncmp(p, "sr=c", 4) == 0)
			return ARC_SAS_CONTAINER;
		if (strncmp(p, "sr=", 3) == 0)
			return ARC_SAS_OTHER;	/* a blob, version, directory */
		if (strncmp(p, "ss=", 3) == 0 || strncmp(p, "srt=", 4) == 0)
			account = 1;
	}
	return account ? ARC_SAS_ACCOUNT : ARC_SAS_OTHER;
}

static char *
conn_field(const char *cs, const char *key)
{
	const char *p = cs, *end, *eq;
	size_t klen = strlen(key);

	while (*p) {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    strncasecmp(p, key, klen) == 0)
			return arc_estrndup(eq + 1, (size_t)(end - eq - 1));
		p = *end ? end + 1 : end;
	}
	return NULL;
}

/* v replaces *to when set: a later setting overrides an earlier one. */
static void
set(char **to, char *v)
{
	if (v == NULL)
		return;
	arc_zfree(*to);
	*to = v;
}

static char *
env_dup(const char *name)
{
	const char *v = arc_env(name);

	return v != NULL ? arc_estrdup(v) : NULL;
}

/* The settings before they are checked: account, key, endpoint... */
static void
read_settings(struct arc_azconf *c, char **key, char **ep, char **proto,
    char **suffix)
{
	const char *cs;
	char *dev;

	if ((cs = arc_env("AZURE_STORAGE_CONNECTION_STRING")) != NULL) {
		dev = conn_field(cs, "UseDevelopmentStorage");
		if (dev != NULL && strcasecmp(dev, "true") == 0) {
			c->account = arc_estrdup(DEV_ACCOUNT);
			*key = arc_estrdup(DEV_KEY);
			*ep = arc_estrdup("http://127.0.0.1:10000/"
			    DEV_ACCOUNT);
		}
		free(dev);
		set(&c->account, conn_field(cs, "AccountName"));
		set(key, conn_field(cs, "AccountKey"));
		c->sas = conn_field(cs, "SharedAccessSignature");
		set(ep, conn_field(cs, "BlobEndpoint"));
		*proto = conn_field(cs, "DefaultEndpointsProtocol");
		*suffix = conn_field(cs, "EndpointSuffix");
	} else {
		c->account = env_dup("AZURE_STORAGE_ACCOUNT");
		*key = env_dup("AZURE_STORAGE_KEY");
		c->sas = env_dup("AZURE_STORAGE_SAS_TOKEN");
	}
	set(ep, env_dup("AZURE_STORAGE_BLOB_ENDPOINT"));
}

/*
 * The storage account's settings and credential: a key (Shared Key), a
 * SAS token, or else an Entra ID credential that yields a token now.
 * 0, or -1 after a message.
 */
static int
conf_check(struct arc_azconf *c, const char *key, const char *ep,
    const char *proto, const char *suffix, struct arc_buf *b,
    struct arc_buf *eb)
{
	/* Shared Key signs with the account name; a SAS needs none */
	if (c->account == NULL && (key != NULL || ep == NULL)) {
		warnx("no Azure storage account: set "
		    "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT");
		return -1;
	}
	/* neither a key nor a SAS: Entra ID, as DefaultAzureCredential */
	if (key == NULL && c->sas == NULL &&
	    (c->cred = arc_azcred_new(eb)) == NULL) {
		warnx("%s", eb->s);
		return -1;
	}
	if (c->sas != NULL && c->sas[0] == '?')
		memmove(c->sas, c->sas + 1, strlen(c->sas));
	if (c->sas != NULL)
		c->sasscope = sas_scope(c->sas);
	if (key != NULL && (*key == '\0' ||
	    arc_base64_decode(&c->key, key, strlen(key)) == -1)) {
		warnx("the Azure account key is not valid base64");
		return -1;
	}
	if (ep == NULL && (strlen(c->account) < 3 ||
	    strlen(c->account) > 24 || strspn(c->account,
	    "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(c->account))) {
		/* it becomes the host name: never another host */
		warnx("'%s': invalid Azure storage account name (3 to 24 "
		    "lower-case letters and digits)", c->account);
		return -1;
	}
	if (ep != NULL)
		arc_buf_adds(b, ep);
	else
		arc_buf_printf(b, "%s://%s.blob.%s", proto ? proto : "https",
		    c->account, suffix ? suffix : "core.windows.net");
	while (b->len > 0 && b->s[b->len - 1] == '/')
		b->s[--b->len] = '\0';
	if (strncmp(b->s, "http://", 7) != 0 && strncmp(b->s, "https://", 8)) {
		arc_azcred_redact(eb, b->s);
		warnx("'%s': the blob endpoint needs http:// or https://",
		    eb->s);
		return -1;
	}
	c->endpoint = arc_estrdup(b->s);
	/* a credential that yields no token is one clear error, up front */
	if (c->cred != NULL && arc_azcred_token(c->cred, eb) == NULL) {
		warnx("%s", eb->s);
		return -1;
	}
	return 0;
}

int
arc_azconf_open(struct arc_azconf *c)
{
	struct arc_buf b = { 0 }, eb = { 0 };
	char *key = NULL, *ep = NULL, *proto = NULL, *suffix = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	read_settings(c, &key, &ep, &proto, &suffix);
	ret = conf_check(c, key, ep, proto, suffix, &b, &eb);
	arc_zfree(key);
	free(ep);
	free(proto);
	free(suffix);
	arc_buf_free(&b);
	arc_buf_free(&eb);
	if (ret == -1)
		arc_azconf_free(c);
	return ret;
}

void
arc_azconf_free(struct arc_azconf *c)
{
	if (c->key.s != NULL)
		explicit_bzero(c->key.s, c->key.len);
	arc_buf_free(&c->key);
	arc_zfree(c->sas);
	free(c->account);
	free(c->endpoint);
	arc_azcred_free(c->cred);
	memset(c, 0, sizeof(*c));
}
