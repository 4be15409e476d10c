/*
 * awscred.c - AWS credentials and settings, found where the AWS CLI
 * finds them, and kept fresh.
 *
 * Credentials: the first of these that yields any wins (arc-list(1),
 * CREDENTIALS, says the same for operators):
 *   1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, exchanged at STS
 *      (AssumeRoleWithWebIdentity);
 *   3. the profile (AWS_PROFILE, default "default") of the shared files
 *      (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): role_arn with
 *      web_identity_token_file, source_profile or credential_source;
 *      static keys of the credentials file; credential_process; static
 *      keys of the config file;
 *   4. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
 *      _FULL_URI, the latter on loopback or the ECS/EKS addresses only);
 *   5. EC2 instance metadata, IMDSv2 only.
 * Region, S3 endpoint, addressing style and CA bundle come from the
 * environment, else from the profile.
 *
 * Temporary credentials are fetched again before they expire: a request
 * arc_awscred_sign() set up asks for the current ones (http.c does, for
 * every attempt of every request, through r->keys), which costs a
 * comparison unless they are due.  The tools run their requests on one thread, so
 * no lock.  Secrets, session tokens, web identity tokens and the output
 * of credential_process go to libcurl and to nothing else (no message,
 * no argv, no file) and are zeroed when freed.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "arc_priv.h"

#define STSNS		"https://sts.amazonaws.com/doc/2011-06-15/"
#define MARGIN_MAX	300		/* refresh this long before expiry */
#define RETRY_WAIT	5		/* after a failed refresh */
#define CHAIN_MAX	5		/* source_profile hops */
#define FILE_MAX	(1024 * 1024)	/* token files, process output */
#define CONTAINER_HOST	"http://169.254.170.2"
#define IMDS_HOST	"http://169.254.169.254"
#define IMDS_HOST6	"http://[fd00:ec2::254]"

static const char *const stsns[] = { STSNS, NULL };

enum kind {
	K_STATIC,	/* environment or profile keys */
	K_WEBID,	/* AssumeRoleWithWebIdentity */
	K_ASSUME,	/* AssumeRole, signed with a source */
	K_PROCESS,	/* credential_process */
	K_CONTAINER,	/* ECS/EKS container endpoint */
	K_IMDS		/* EC2 instance metadata */
};

struct keys {
	char	*id;
	char	*secret;
	char	*token;		/* or NULL */
	int64_t	 expiry;	/* ARC_TIME_UNKNOWN: they do not expire */
};

struct arc_awscred {
	int		 kind;
	char		*what;		/* where they come from, for messages */
	struct keys	 k;
	int64_t		 refresh_at;
	/* how to get them again */
	char		*role_arn;
	char		*session_name;
	char		*token_file;
	char		*external_id;
	char		*duration;
	char		*sts;		/* STS endpoint URL */
	char		*sts_sigv4;	/* aws:amz:REGION:sts */
	char		*command;	/* credential_process */
	char		*url;		/* container */
	char		*auth;
	char		*auth_file;
	char		*imds;		/* instance metadata endpoint */
	char		*cainfo;
	struct arc_awscred *source;
	struct arc_http	*http;
	int		 absent;	/* IMDS: not there (no answer, no role) */
	struct arc_buf	 why;		/* IMDS: why it yielded nothing */
};

/* ---- small helpers ---------------------------------------------------- */

static void
zbuf_free(struct arc_buf *b)
{
	if (b->s != NULL)
		explicit_bzero(b->s, b->cap);
	arc_buf_free(b);
}

static void
keys_free(struct keys *k)
{
	arc_zfree(k->id);
	arc_zfree(k->secret);
	arc_zfree(k->token);
	memset(k, 0, sizeof(*k));
}

static char *
dupnull(const char *s)
{
	return s != NULL ? arc_estrdup(s) : NULL;
}

/* An "Expiration" in RFC 3339; -1 when it is not one. */
static int
parse_expiry(const char *s, int64_t *t)
{
	if (s == NULL) {
		*t = ARC_TIME_UNKNOWN;
		return 0;
	}
	return arc_time_parse(s, strlen(s), ARC_TIME_LENIENT, t);
}

/* A whole small file (a token), trailing white space removed. */
static int
read_small(const char *path, struct arc_buf *out, const char *what)
{
	char chunk[4096];
	ssize_t n;
	int fd;

	out->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		warn("cannot open %s '%s'", what, path);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || out->len + (size_t)n > FILE_MAX) {
			if (n == -1)
				warn("cannot read %s '%s'", what, path);
			else
				warnx("%s '%s': larger than %d bytes", what,
				    path, FILE_MAX);
			explicit_bzero(chunk, sizeof(chunk));
			close(fd);
			return -1;
		}
		arc_buf_add(out, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	while (out->len > 0 && isspace((unsigned char)out->s[out->len - 1]))
		out->len--;
	arc_buf_str(out);
	if (out->len == 0) {
		warnx("%s '%s' is empty", what, path);
		return -1;
	}
	return 0;
}

static struct arc_http *
http_of(struct arc_awscred *c)
{
	if (c->http == NULL)
		c->http = arc_http_new();
	return c->http;
}

/*
 * A request whose headers (an authorization or IMDS token) and answer
 * may hold secrets: zeroed, then freed.
 */
static void
req_free(struct arc_http_req *r)
{
	struct curl_slist *l;

	for (l = r->headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	zbuf_free(&r->resp);
	arc_http_req_free(r);
}

/* ---- the shared files ------------------------------------------------- */

struct kv {
	char	*sec;	/* profile name */
	char	*key;	/* lower case; "s3.endpoint_url" when nested */
	char	*val;
};

struct ini {
	char		*path;
	int		 exists;
	struct kv	*v;
	size_t		 n;
};

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void
ini_add(struct ini *f, const char *sec, const char *key, const char *val)
{
	char *k;

	f->v = arc_ereallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n].sec = arc_estrdup(sec);
	f->v[f->n].key = k = arc_estrdup(key);
	for (; *k; k++)
		*k = (char)tolower((unsigned char)*k);
	f->v[f->n].val = arc_estrdup(val);
	f->n++;
}

/*
 * Read an INI file as botocore does: "[section]", "key = value" (or
 * "key: value"), whole-line comments with '#' or ';', and a key with an
 * empty value followed by indented "sub = value" lines (the "s3 ="
 * sub-section) read as "key.sub".  In the config file, profiles are
 * "[profile NAME]" and "[default]"; other sections are not profiles.
 * A file that is not there is empty; one that cannot be read is an error.
 */
static int
ini_load(struct ini *f, const char *path, int config)
{
	FILE *fp;
	char *line = NULL, *p, *sep, *k, *sec = NULL, *parent = NULL;
	size_t cap = 0;
	ssize_t len;
	struct arc_buf nk = { 0 };

	memset(f, 0, sizeof(*f));
	f->path = arc_estrdup(path);
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		warn("cannot open '%s'", path);
		return -1;
	}
	f->exists = 1;
	while ((len = getline(&line, &cap, fp)) != -1) {
		int indented = line[0] == ' ' || line[0] == '\t';

		p = trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[' && !indented) {
			free(sec);
			free(parent);
			sec = parent = NULL;
			if ((sep = strchr(p, ']')) == NULL)
				continue;
			*sep = '\0';
			p = trim(p + 1);
			if (!config || strcmp(p, "default") == 0)
				sec = arc_estrdup(p);
			else if (strncmp(p, "profile", 7) == 0 &&
			    (p[7] == ' ' || p[7] == '\t'))
				sec = arc_estrdup(trim(p + 8));
			continue;
		}
		sep = p + strcspn(p, "=:");
		if (sec == NULL || *sep == '\0')
			continue;
		*sep = '\0';
		k = trim(p);
		p = trim(sep + 1);
		if (indented && parent != NULL) {
			nk.len = 0;
			arc_buf_printf(&nk, "%s.%s", parent, k);
			ini_add(f, sec, nk.s, p);
		} else if (!indented) {
			free(parent);
			parent = *p == '\0' ? arc_estrdup(k) : NULL;
			ini_add(f, sec, k, p);
		}
	}
	if (ferror(fp)) {
		warn("cannot read '%s'", path);
		fclose(fp);
		free(line);
		free(sec);
		free(parent);
		arc_buf_free(&nk);
		return -1;
	}
	fclose(fp);
	if (line != NULL)
		explicit_bzero(line, cap);
	free(line);
	free(sec);
	free(parent);
	arc_buf_free(&nk);
	return 0;
}

static void
ini_free(struct ini *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].sec);
		free(f->v[i].key);
		arc_zfree(f->v[i].val);
	}
	free(f->v);
	free(f->path);
}

static const char *
ini_get(const struct ini *f, const char *sec, const char *key)
{
	size_t i;

	for (i = f->n; i-- > 0; )	/* the last one, as configparser */
		if (strcmp(f->v[i].sec, sec) == 0 &&
		    strcmp(f->v[i].key, key) == 0)
			return *f->v[i].val ? f->v[i].val : NULL;
	return NULL;
}

static int
ini_has(const struct ini *f, const char *sec)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].sec, sec) == 0)
			return 1;
	return 0;
}

struct files {
	struct ini	 cred;		/* ~/.aws/credentials */
	struct ini	 conf;		/* ~/.aws/config */
	const char	*profile;
};

/* A setting of a profile: the credentials file first, as botocore. */
static const char *
pget(const struct files *fs, const char *profile, const char *key)
{
	const char *v;

	if ((v = ini_get(&fs->cred, profile, key)) != NULL)
		return v;
	return ini_get(&fs->conf, profile, key);
}

/* ~/x, or the value of an environment variable with ~ expanded. */
static char *
home_path(const char *var, const char *def)
{
	const char *v = arc_env(var), *home;
	struct passwd *pw;
	char *s;

	if (v == NULL)
		v = def;
	if (v[0] != '~' || (v[1] != '/' && v[1] != '\0'))
		return arc_estrdup(v);
	if ((home = arc_env("HOME")) == NULL)
		home = (pw = getpwuid(getuid())) != NULL ? pw->pw_dir : "/";
	if (asprintf(&s, "%s%s", home, v + 1) == -1)
		err(arc_errstatus, "asprintf");
	return s;
}

/* ---- STS ------------------------------------------------------------ */

struct stsans {
	const char	*prefix;	/* "AssumeRoleResponse/AssumeRoleResult" */
	struct keys	 k;
	struct arc_buf	 exp, code, msg;
};

static int
sts_field(void *arg, const char *path, const char *text, size_t n)
{
	struct stsans *a = arg;
	size_t pl = strlen(a->prefix);
	char **to = NULL;

	if (strcmp(path, "ErrorResponse/Error/Code") == 0)
		arc_buf_add(&a->code, text, n);
	else if (strcmp(path, "ErrorResponse/Error/Message") == 0)
		arc_buf_add(&a->msg, text, n);
	if (strncmp(path, a->prefix, pl) != 0 ||
	    strncmp(path + pl, "/Credentials/", 13) != 0)
		return 0;
	path += pl + 13;
	if (strcmp(path, "AccessKeyId") == 0)
		to = &a->k.id;
	else if (strcmp(path, "SecretAccessKey") == 0)
		to = &a->k.secret;
	else if (strcmp(path, "SessionToken") == 0)
		to = &a->k.token;
	else if (strcmp(path, "Expiration") == 0) {
		a->exp.len = 0;
		arc_buf_add(&a->exp, text, n);
	}
	if (to != NULL) {
		arc_zfree(*to);
		*to = arc_estrndup(text, n);
	}
	return 0;
}

static void
form_add(struct arc_buf *b, const char *name, const char *val)
{
	if (val == NULL)
		return;
	arc_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
	arc_http_escape(b, val, strlen(val), 0);
}

/* AssumeRoleWithWebIdentity (unsigned) or AssumeRole (signed). */
static int
sts_fetch(struct arc_awscred *c, struct keys *out)
{
	struct arc_http_req r;
	struct arc_buf body = { 0 }, tok = { 0 }, xe = { 0 }, d = { 0 };
	struct stsans a;
	const char *action = c->kind == K_WEBID ?
	    "AssumeRoleWithWebIdentity" : "AssumeRole";
	char prefix[128];
	int ret = -1;

	memset(&a, 0, sizeof(a));
	snprintf(prefix, sizeof(prefix), "%sResponse/%sResult", action, action);
	a.prefix = prefix;
	if (c->kind == K_WEBID && read_small(c->token_file, &tok,
	    "web identity token file") == -1)
		return -1;
	form_add(&body, "Action", action);
	form_add(&body, "Version", "2011-06-15");
	form_add(&body, "DurationSeconds", c->duration);
	form_add(&body, "ExternalId", c->external_id);
	form_add(&body, "RoleArn", c->role_arn);
	form_add(&body, "RoleSessionName", c->session_name);
	if (c->kind == K_WEBID)
		form_add(&body, "WebIdentityToken", tok.s);
	zbuf_free(&tok);
	arc_http_req_init(&r, "POST", arc_estrdup(c->sts));
	arc_http_add_header(&r, "Content-Type: application/x-www-form-urlencoded; "
	    "charset=utf-8");
	arc_http_add_header(&r, "Accept: text/xml");
	r.body = body.s;
	r.bodylen = body.len;
	r.cainfo = c->cainfo;
	if (c->kind == K_ASSUME)
		arc_awscred_sign(&r, c->source, c->sts_sigv4);
	arc_http_perform(http_of(c), &r);
	if (r.status == 0)
		warnx("%s: STS %s at '%s': %s (after %d attempts)", c->what,
		    action, c->sts, r.err, r.attempts);
	else if (arc_xml_parse(r.resp.s, r.resp.len, r.status == 200 ?
	    stsns : NULL, sts_field, &a, &xe) == -1 || r.status != 200) {
		if (a.code.len > 0)
			arc_buf_printf(&d, "STS error %s: %s (HTTP %ld)",
			    arc_buf_str(&a.code), arc_buf_str(&a.msg),
			    r.status);
		else if (r.status != 200)
			arc_buf_printf(&d, "HTTP %ld", r.status);
		else
			arc_buf_printf(&d, "not an answer: %s",
			    arc_buf_str(&xe));
		warnx("%s: STS %s at '%s': %s", c->what, action, c->sts,
		    arc_buf_str(&d));
	} else if (a.k.id == NULL || a.k.secret == NULL || a.k.token == NULL ||
	    parse_expiry(a.exp.len ? arc_buf_str(&a.exp) : NULL,
	    &a.k.expiry) == -1)
		warnx("%s: STS %s at '%s': the answer lacks the credentials "
		    "or their expiration", c->what, action, c->sts);
	else {
		*out = a.k;
		memset(&a.k, 0, sizeof(a.k));
		ret = 0;
	}
	keys_free(&a.k);
	arc_buf_free(&a.exp);
	arc_buf_free(&a.code);
	arc_buf_free(&a.msg);
	arc_buf_free(&xe);
	arc_buf_free(&d);
	req_free(&r);
	zbuf_free(&body);
	return ret;
}

/* ---- JSON credentials (process, container, instance metadata) -------- */

static char *
json_str(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return NULL;
	return arc_estrdup(json_object_get_string(v));
}

/* Zero the strings of a parsed answer before json-c frees them. */
static void
json_zero(struct json_object *o)
{
	json_object_object_foreach(o, key, v) {
		(void)key;
		if (json_object_is_type(v, json_type_string))
			explicit_bzero((char *)json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
	}
}

/*
 * {AccessKeyId, SecretAccessKey, token_name, Expiration}; with version,
 * "Version": 1 is required too (credential_process).  Nothing of the
 * text goes into a message.
 */
static int
json_keys(const char *text, size_t n, const char *token_name, int version,
    struct keys *out, const char **why)
{
	struct json_tokener *tk;
	struct json_object *o, *v;
	char *exp;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if ((tk = json_tokener_new()) == NULL)
		errx(arc_errstatus, "json_tokener_new failed");
	o = json_tokener_parse_ex(tk, text, (int)n);
	json_tokener_free(tk);
	*why = "not a JSON object";
	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	*why = "no \"Version\": 1";
	if (version && (!json_object_object_get_ex(o, "Version", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) != 1))
		goto out;
	out->id = json_str(o, "AccessKeyId");
	out->secret = json_str(o, "SecretAccessKey");
	out->token = json_str(o, token_name);
	exp = json_str(o, "Expiration");
	*why = "no AccessKeyId or SecretAccessKey";
	if (out->id == NULL || out->secret == NULL) {
		free(exp);
		goto out;
	}
	*why = "an Expiration that is not an RFC 3339 time";
	if (parse_expiry(exp, &out->expiry) == -1) {
		free(exp);
		goto out;
	}
	free(exp);
	ret = 0;
out:
	if (o != NULL) {
		if (json_object_is_type(o, json_type_object))
			json_zero(o);
		json_object_put(o);
	}
	if (ret == -1)
		keys_free(out);
	return ret;
}

/* ---- credential_process --------------------------------------------- */

/*
 * Split a command line as the CLI does (Python's shlex.split): blanks
 * separate words; '...' is literal; "..." keeps all but \" and \\;
 * outside quotes a backslash escapes the next character.
 */
static char **
split_command(const char *s, size_t *argc)
{
	struct arc_buf w = { 0 };
	char **v = NULL;
	size_t n = 0;
	int inword = 0, q = 0;

	for (;; s++) {
		if (*s == '\0' || (!q && (*s == ' ' || *s == '\t' ||
		    *s == '\n'))) {
			if (q) {
				arc_buf_free(&w);
				for (; n > 0; n--)
					free(v[n - 1]);
				free(v);
				return NULL;	/* an unclosed quote */
			}
			if (inword) {
				v = arc_ereallocarray(v, n + 2, sizeof(*v));
				v[n++] = arc_estrndup(w.s ? w.s : "", w.len);
				w.len = 0;
				inword = 0;
			}
			if (*s == '\0')
				break;
			continue;
		}
		inword = 1;
		if (q == '\'') {
			if (*s == '\'')
				q = 0;
			else
				arc_buf_addc(&w, *s);
		} else if (q == '"') {
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				arc_buf_addc(&w, *++s);
			else
				arc_buf_addc(&w, *s);
		} else if (*s == '\'' || *s == '"')
			q = *s;
		else if (*s == '\\' && s[1] != '\0')
			arc_buf_addc(&w, *++s);
		else
			arc_buf_addc(&w, *s);
	}
	arc_buf_free(&w);
	if (n == 0) {
		free(v);
		return NULL;
	}
	v[n] = NULL;
	*argc = n;
	return v;
}

/*
 * Run credential_process without a shell: its standard error is ours,
 * its standard input /dev/null (ours carries records), its standard
 * output is read and never shown.
 */
static int
process_fetch(struct arc_awscred *c, struct keys *out)
{
	struct arc_buf o = { 0 };
	char **argv, chunk[4096];
	const char *why;
	size_t argc = 0, i;
	ssize_t n;
	pid_t pid;
	int pfd[2], st, dn, ret = -1, big = 0;

	if ((argv = split_command(c->command, &argc)) == NULL) {
		warnx("%s: the command is empty or has an unclosed quote",
		    c->what);
		return -1;
	}
	fflush(NULL);
	if (pipe2(pfd, O_CLOEXEC) == -1)
		err(arc_errstatus, "pipe");
	if ((pid = fork()) == -1)
		err(arc_errstatus, "fork");
	if (pid == 0) {
		if ((dn = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(dn, 0) == -1 || dup2(pfd[1], 1) == -1)
			_exit(127);
		execvp(argv[0], argv);
		warn("%s: cannot run '%s'", c->what, argv[0]);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		if (o.len + (size_t)n > FILE_MAX)
			big = 1;	/* read on, so that it can finish */
		else
			arc_buf_add(&o, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(pfd[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			err(arc_errstatus, "waitpid");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		;	/* the child said why */
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			warnx("%s: '%s' was killed by signal %d", c->what,
			    argv[0], WTERMSIG(st));
		else
			warnx("%s: '%s' exited with status %d", c->what,
			    argv[0], WEXITSTATUS(st));
	} else if (big)
		warnx("%s: '%s' wrote more than %d bytes", c->what, argv[0],
		    FILE_MAX);
	else if (json_keys(o.s ? o.s : "", o.len, "SessionToken", 1, out,
	    &why) == -1)
		warnx("%s: the output of '%s' is not credentials: %s",
		    c->what, argv[0], why);
	else
		ret = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && ret == -1)
		warnx("%s: '%s' exited with status 127", c->what, argv[0]);
	zbuf_free(&o);
	for (i = 0; i < argc; i++)
		arc_zfree(argv[i]);
	free(argv);
	return ret;
}

/* ---- container credentials ------------------------------------------ */

/* FULL_URI: only loopback, the ECS and the EKS addresses (as the SDKs). */
static int
container_host_ok(const char *url)
{
	CURLU *u;
	char *host = NULL, *scheme = NULL;
	unsigned char a[16], b[16];
	int ok = 0;
	size_t n;

	if ((u = curl_url()) == NULL)
		errx(arc_errstatus, "curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)) {
		n = strlen(host);
		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			if (inet_pton(AF_INET6, host + 1, a) == 1) {
				inet_pton(AF_INET6, "::1", b);
				ok = memcmp(a, b, 16) == 0;
				inet_pton(AF_INET6, "fd00:ec2::23", b);
				ok = ok || memcmp(a, b, 16) == 0;
			}
		} else if (inet_pton(AF_INET, host, a) == 1)
			ok = a[0] == 127 || strcmp(host, "169.254.170.2") == 0 ||
			    strcmp(host, "169.254.170.23") == 0;
		else
			ok = strcasecmp(host, "localhost") == 0;
	}
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

static int
container_fetch(struct arc_awscred *c, struct keys *out)
{
	struct arc_http_req r;
	struct arc_buf tok = { 0 }, shown = { 0 };
	const char *why;
	int ret = -1;

	if (c->auth_file != NULL) {
		if (read_small(c->auth_file, &tok,
		    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") == -1)
			return -1;
	} else if (c->auth != NULL)
		arc_buf_adds(&tok, c->auth);
	if (tok.len > 0 && strpbrk(tok.s, "\r\n") != NULL) {
		warnx("%s: the authorization token holds a line break",
		    c->what);
		zbuf_free(&tok);
		return -1;
	}
	arc_http_req_init(&r, "GET", arc_estrdup(c->url));
	if (tok.len > 0)
		arc_http_add_header(&r, "Authorization: %s", tok.s);
	zbuf_free(&tok);
	arc_http_perform(http_of(c), &r);
	arc_url_redact(&shown, c->url);
	if (r.status == 0)
		warnx("%s: '%s': %s (after %d attempts)", c->what, shown.s,
		    r.err, r.attempts);
	else if (r.status != 200)
		warnx("%s: '%s': HTTP %ld", c->what, shown.s, r.status);
	else if (json_keys(r.resp.s, r.resp.len, "Token", 0, out, &why) == -1)
		warnx("%s: '%s': not credentials: %s", c->what, shown.s, why);
	else
		ret = 0;
	arc_buf_free(&shown);
	req_free(&r);
	return ret;
}

/* ---- EC2 instance metadata (IMDSv2) --------------------------------- */

static int
imds_get(struct arc_awscred *c, const char *method, const char *path,
    const char *token, struct arc_http_req *r)
{
	struct arc_buf u = { 0 };

	arc_buf_printf(&u, "%s%s", c->imds, path);
	arc_http_req_init(r, method, arc_estrdup(u.s));
	arc_buf_free(&u);
	if (token == NULL) {
		arc_http_add_header(r,
		    "X-aws-ec2-metadata-token-ttl-seconds: 21600");
		r->body = "";
	} else
		arc_http_add_header(r, "X-aws-ec2-metadata-token: %s", token);
	return arc_http_perform(http_of(c), r);
}

static int
imds_fetch(struct arc_awscred *c, struct keys *out)
{
	struct arc_http_req r;
	struct arc_buf tok = { 0 }, role = { 0 }, path = { 0 };
	const char *why;
	int ret = -1;

	c->absent = 0;
	c->why.len = 0;
	if (c->http == NULL) {
		/* the SDKs' patience: one second, one retry */
		c->http = arc_http_new();
		arc_http_limits(c->http, 2, 1000);
	}
	imds_get(c, "PUT", "/latest/api/token", NULL, &r);
	if (r.status != 200 || r.resp.len == 0) {
		/* no answer, or no IMDSv2: not an instance we can ask */
		c->absent = 1;
		if (r.status == 0)
			arc_buf_printf(&c->why, "%s", r.err);
		else
			arc_buf_printf(&c->why, "the token request got HTTP %ld",
			    r.status);
		req_free(&r);
		return -1;
	}
	arc_buf_add(&tok, r.resp.s, r.resp.len);
	req_free(&r);
	imds_get(c, "GET", "/latest/meta-data/iam/security-credentials/",
	    tok.s, &r);
	if (r.status == 200 && r.resp.len > 0)
		arc_buf_add(&role, r.resp.s, strcspn(r.resp.s, "\r\n"));
	if (role.len == 0 || strchr(arc_buf_str(&role), '/') != NULL) {
		c->absent = r.status == 404 || r.status == 200;
		if (c->absent)
			arc_buf_adds(&c->why, "no IAM role is attached");
		else if (r.status != 0)
			arc_buf_printf(&c->why, "the role request got HTTP %ld",
			    r.status);
		else
			arc_buf_adds(&c->why, r.err);
		req_free(&r);
		goto out;
	}
	req_free(&r);
	arc_buf_adds(&path, "/latest/meta-data/iam/security-credentials/");
	arc_http_escape(&path, role.s, role.len, 0);
	imds_get(c, "GET", path.s, tok.s, &r);
	if (r.status != 200)
		arc_buf_printf(&c->why, "the credentials of role '%s': %s",
		    role.s, r.status ? "an error answer" : r.err);
	else if (json_keys(r.resp.s, r.resp.len, "Token", 0, out, &why) == -1)
		arc_buf_printf(&c->why, "the credentials of role '%s': %s",
		    role.s, why);
	else
		ret = 0;
	req_free(&r);
out:
	zbuf_free(&tok);
	arc_buf_free(&role);
	arc_buf_free(&path);
	return ret;
}

/* ---- fetching and refreshing ---------------------------------------- */

static int
fetch(struct arc_awscred *c)
{
	struct keys k;
	int64_t now, margin;
	int ret;

	memset(&k, 0, sizeof(k));
	switch (c->kind) {
	case K_WEBID:
	case K_ASSUME:
		ret = sts_fetch(c, &k);
		break;
	case K_PROCESS:
		ret = process_fetch(c, &k);
		break;
	case K_CONTAINER:
		ret = container_fetch(c, &k);
		break;
	case K_IMDS:
		ret = imds_fetch(c, &k);
		break;
	default:
		return 0;
	}
	if (ret == -1)
		return -1;
	keys_free(&c->k);
	c->k = k;
	/*
	 * Due a quarter of their lifetime before they expire, at most five
	 * minutes before (the SDKs' margin), so that a request signed with
	 * them reaches the server while they hold; never again within a
	 * second, whatever the server hands out.
	 */
	now = arc_time_now();
	if (k.expiry != ARC_TIME_UNKNOWN) {
		margin = (k.expiry - now) / 4;
		if (margin > MARGIN_MAX)
			margin = MARGIN_MAX;
		c->refresh_at = k.expiry - margin;
		if (c->refresh_at < now + 1)
			c->refresh_at = now + 1;
	}
	return 0;
}

/*
 * The current credentials, fetched again when due.  When that fails, the
 * ones held are used (the server refuses them once they expire, which
 * the request's caller reports) and another try waits a few seconds.
 */
static void
keys(void *arg, const char **id, const char **secret, const char **token)
{
	struct arc_awscred *c = arg;
	int64_t now;

	if (c->k.expiry != ARC_TIME_UNKNOWN &&
	    (now = arc_time_now()) >= c->refresh_at) {
		if (fetch(c) == -1) {
			if (c->kind == K_IMDS)
				warnx("%s at '%s': %s", c->what, c->imds,
				    arc_buf_str(&c->why));
			warnx("%s: could not refresh the credentials, which "
			    "%s at %s", c->what, now >= c->k.expiry ?
			    "expired" : "expire",
			    arc_time_format(c->k.expiry,
			    (char[ARC_TIME_BUFSZ]){ 0 }));
			c->refresh_at = now + RETRY_WAIT;
		}
	}
	*id = c->k.id;
	*secret = c->k.secret;
	*token = c->k.token;
}

/* r is signed (SigV4 scope sigv4) with c's keys of the moment. */
void
arc_awscred_sign(struct arc_http_req *r, struct arc_awscred *c,
    const char *sigv4)
{
	r->sigv4 = sigv4;
	r->cred = c;
	r->keys = keys;
}

void
arc_awscred_free(struct arc_awscred *c)
{
	if (c == NULL)
		return;
	keys_free(&c->k);
	free(c->what);
	free(c->role_arn);
	free(c->session_name);
	free(c->token_file);
	free(c->external_id);
	free(c->duration);
	free(c->sts);
	free(c->sts_sigv4);
	arc_zfree(c->command);
	free(c->url);
	arc_zfree(c->auth);
	free(c->auth_file);
	free(c->imds);
	arc_buf_free(&c->why);
	free(c->cainfo);
	arc_awscred_free(c->source);
	arc_http_free(c->http);
	free(c);
}

static struct arc_awscred *
cred_new(int kind, const struct arc_awsconf *conf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct arc_awscred *
cred_new(int kind, const struct arc_awsconf *conf, const char *fmt, ...)
{
	struct arc_awscred *c = arc_ecalloc(1, sizeof(*c));
	va_list ap;

	c->kind = kind;
	c->k.expiry = ARC_TIME_UNKNOWN;
	va_start(ap, fmt);
	if (vasprintf(&c->what, fmt, ap) == -1)
		err(arc_errstatus, "vasprintf");
	va_end(ap);
	c->cainfo = dupnull(conf->ca_bundle);
	return c;
}

/* Static keys: both or neither; -1 (said why) on only one. */
static int
static_keys(const char *id, const char *secret, const char *token,
    const char *what, const struct arc_awsconf *conf,
    struct arc_awscred **out)
{
	if (id == NULL && secret == NULL)
		return 0;
	if (id == NULL || secret == NULL) {
		warnx("%s: an access key id without a secret access key, or "
		    "the other way round", what);
		return -1;
	}
	*out = cred_new(K_STATIC, conf, "%s", what);
	(*out)->k.id = arc_estrdup(id);
	(*out)->k.secret = arc_estrdup(secret);
	(*out)->k.token = dupnull(token);
	return 1;
}

/* STS's endpoint: service-specific before global, environment first. */
static void
sts_setup(struct arc_awscred *c, const struct files *fs,
    const struct arc_awsconf *conf, const char *profile)
{
	const char *e;

	if ((e = arc_env("AWS_ENDPOINT_URL_STS")) == NULL &&
	    (e = pget(fs, profile, "sts.endpoint_url")) == NULL &&
	    (e = arc_env("AWS_ENDPOINT_URL")) == NULL)
		e = pget(fs, profile, "endpoint_url");
	if (e != NULL)
		c->sts = arc_estrdup(e);
	else if (asprintf(&c->sts, "https://sts.%s.amazonaws.com",
	    conf->region) == -1)
		err(arc_errstatus, "asprintf");
	if (asprintf(&c->sts_sigv4, "aws:amz:%s:sts", conf->region) == -1)
		err(arc_errstatus, "asprintf");
	if (asprintf(&c->session_name, "arc-%lld",
	    (long long)arc_time_now()) == -1)
		err(arc_errstatus, "asprintf");
}

static int	 from_container(const struct arc_awsconf *, struct arc_awscred **,
		    struct arc_buf *);
static int	 from_imds(const struct arc_awsconf *, struct arc_awscred **,
		    struct arc_buf *);

/*
 * The credentials of a profile, 0 when it has none.  depth counts the
 * source_profile hops (a role's source may be a role).
 */
static int
from_profile(const struct files *fs, const char *profile,
    const struct arc_awsconf *conf, int depth, struct arc_awscred **out)
{
	const struct ini *f;
	const char *role, *v;
	struct arc_awscred *c, *src = NULL;
	struct arc_buf what = { 0 };
	int i, ret;

	if (depth > CHAIN_MAX) {
		warnx("profile '%s': more than %d source_profile hops (a loop?)",
		    profile, CHAIN_MAX);
		return -1;
	}
	if ((role = pget(fs, profile, "role_arn")) != NULL) {
		if ((v = pget(fs, profile, "web_identity_token_file")) != NULL) {
			c = cred_new(K_WEBID, conf, "profile '%s' "
			    "(web_identity_token_file)", profile);
			c->token_file = arc_estrdup(v);
		} else {
			if ((v = pget(fs, profile, "source_profile")) != NULL) {
				if (strcmp(v, profile) == 0)
					ret = static_keys(
					    pget(fs, v, "aws_access_key_id"),
					    pget(fs, v, "aws_secret_access_key"),
					    pget(fs, v, "aws_session_token"),
					    v, conf, &src);
				else
					ret = from_profile(fs, v, conf,
					    depth + 1, &src);
				if (ret == 0)
					warnx("profile '%s': its source_profile "
					    "'%s' has no credentials", profile, v);
			} else if ((v = pget(fs, profile,
			    "credential_source")) != NULL) {
				if (strcmp(v, "Environment") == 0)
					ret = static_keys(
					    arc_env("AWS_ACCESS_KEY_ID"),
					    arc_env("AWS_SECRET_ACCESS_KEY"),
					    arc_env("AWS_SESSION_TOKEN"),
					    "the environment", conf, &src);
				else if (strcmp(v, "EcsContainer") == 0)
					ret = from_container(conf, &src, &what);
				else if (strcmp(v, "Ec2InstanceMetadata") == 0)
					ret = from_imds(conf, &src, &what);
				else {
					warnx("profile '%s': credential_source "
					    "'%s' is not Environment, "
					    "EcsContainer or Ec2InstanceMetadata",
					    profile, v);
					ret = -1;
				}
				if (ret == 0)
					warnx("profile '%s': its credential_source "
					    "'%s' has no credentials", profile, v);
			} else {
				warnx("profile '%s': role_arn needs source_profile, "
				    "credential_source or web_identity_token_file",
				    profile);
				ret = -1;
			}
			arc_buf_free(&what);
			if (ret != 1)
				return -1;
			c = cred_new(K_ASSUME, conf, "profile '%s' (role_arn)",
			    profile);
			c->source = src;
			c->external_id = dupnull(pget(fs, profile,
			    "external_id"));
			c->duration = dupnull(pget(fs, profile,
			    "duration_seconds"));
		}
		c->role_arn = arc_estrdup(role);
		sts_setup(c, fs, conf, profile);
		if ((v = pget(fs, profile, "role_session_name")) != NULL) {
			free(c->session_name);
			c->session_name = arc_estrdup(v);
		}
		goto fetched;
	}
	/* static keys in the credentials file, the process, the config's */
	for (i = 0; i < 2; i++) {
		f = i == 0 ? &fs->cred : &fs->conf;
		what.len = 0;
		arc_buf_printf(&what, "profile '%s' in '%s'", profile, f->path);
		ret = static_keys(ini_get(f, profile, "aws_access_key_id"),
		    ini_get(f, profile, "aws_secret_access_key"),
		    ini_get(f, profile, "aws_session_token"), what.s, conf,
		    out);
		if (ret != 0) {
			arc_buf_free(&what);
			return ret;
		}
		if (i == 0 && (v = pget(fs, profile, "credential_process"))) {
			c = cred_new(K_PROCESS, conf,
			    "credential_process of profile '%s'", profile);
			c->command = arc_estrdup(v);
			arc_buf_free(&what);
			goto fetched;
		}
	}
	arc_buf_free(&what);
	return 0;
fetched:
	if (fetch(c) == -1) {
		arc_awscred_free(c);
		return -1;
	}
	*out = c;
	return 1;
}

static int
from_container(const struct arc_awsconf *conf, struct arc_awscred **out,
    struct arc_buf *searched)
{
	const char *rel = arc_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = arc_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	struct arc_awscred *c;

	arc_buf_adds(searched, ", AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
	    "_FULL_URI (unset)");
	if (rel == NULL && full == NULL)
		return 0;
	if (rel == NULL && !container_host_ok(full)) {
		warnx("AWS_CONTAINER_CREDENTIALS_FULL_URI '%s': not a loopback, "
		    "169.254.170.2, 169.254.170.23 or fd00:ec2::23 address",
		    full);
		return -1;
	}
	c = cred_new(K_CONTAINER, conf, "container credentials");
	if (rel != NULL) {
		if (asprintf(&c->url, "%s%s%s", CONTAINER_HOST,
		    rel[0] == '/' ? "" : "/", rel) == -1)
			err(arc_errstatus, "asprintf");
	} else
		c->url = arc_estrdup(full);
	c->auth_file = dupnull(arc_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
	c->auth = dupnull(arc_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	if (fetch(c) == -1) {
		arc_awscred_free(c);
		return -1;
	}
	*out = c;
	return 1;
}

static int
from_imds(const struct arc_awsconf *conf, struct arc_awscred **out,
    struct arc_buf *searched)
{
	const char *v = arc_env("AWS_EC2_METADATA_DISABLED"), *mode;
	struct arc_awscred *c;
	size_t n;

	if (v != NULL && strcasecmp(v, "true") == 0) {
		arc_buf_adds(searched, ", EC2 instance metadata "
		    "(AWS_EC2_METADATA_DISABLED=true)");
		return 0;
	}
	c = cred_new(K_IMDS, conf, "EC2 instance metadata");
	mode = arc_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if ((v = arc_env("AWS_EC2_METADATA_SERVICE_ENDPOINT")) == NULL)
		v = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
		    IMDS_HOST6 : IMDS_HOST;
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	c->imds = arc_estrndup(v, n);
	if (fetch(c) == -1) {
		arc_buf_printf(searched, ", EC2 instance metadata at '%s' (%s)",
		    c->imds, arc_buf_str(&c->why));
		if (!c->absent)
			warnx("%s at '%s': %s", c->what, c->imds,
			    arc_buf_str(&c->why));
		v = c->absent ? "" : NULL;
		arc_awscred_free(c);
		return v != NULL ? 0 : -1;
	}
	*out = c;
	return 1;
}

/* ---- settings and the chain ----------------------------------------- */

void
arc_awsconf_free(struct arc_awsconf *conf)
{
	free(conf->region);
	free(conf->endpoint);
	free(conf->style);
	free(conf->ca_bundle);
	memset(conf, 0, sizeof(*conf));
}

static char *
setting(const char *e1, const char *e2, const struct files *fs,
    const char *k1, const char *k2)
{
	const char *v;

	if ((v = arc_env(e1)) == NULL && (e2 == NULL || (v = arc_env(e2)) == NULL) &&
	    (v = pget(fs, fs->profile, k1)) == NULL && k2 != NULL)
		v = pget(fs, fs->profile, k2);
	return dupnull(v);
}

/*
 * A region name as the AWS CLI accepts it: one host name label, so that
 * https://s3.REGION.amazonaws.com is always a host under amazonaws.com.
 */
static int
region_valid(const char *r)
{
	size_t n = strlen(r);

	return n > 0 && n <= 63 && strspn(r, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n && r[0] != '-' &&
	    r[n - 1] != '-';
}

/*
 * The settings and the credentials for S3, as the AWS CLI finds them;
 * *credp is NULL only for the anonymous access asked for with
 * AWS_S3_NO_SIGN_REQUEST=true.  -1 (the reason said) when there are no
 * credentials or they cannot be had: never a silently unsigned request.
 */
int
arc_awscred_open(struct arc_awsconf *conf, struct arc_awscred **credp)
{
	struct files fs;
	struct arc_buf searched = { 0 };
	const char *v, *role, *tokfile;
	char *credpath, *confpath;
	struct arc_awscred *c = NULL;
	int ret = -1, explicit;

	memset(conf, 0, sizeof(*conf));
	*credp = NULL;
	credpath = home_path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
	confpath = home_path("AWS_CONFIG_FILE", "~/.aws/config");
	memset(&fs, 0, sizeof(fs));
	if (ini_load(&fs.cred, credpath, 0) == -1 ||
	    ini_load(&fs.conf, confpath, 1) == -1)
		goto out;
	explicit = 1;
	if ((fs.profile = arc_env("AWS_PROFILE")) == NULL &&
	    (fs.profile = arc_env("AWS_DEFAULT_PROFILE")) == NULL) {
		fs.profile = "default";
		explicit = 0;
	}
	if (explicit && !ini_has(&fs.cred, fs.profile) &&
	    !ini_has(&fs.conf, fs.profile)) {
		warnx("AWS_PROFILE '%s': no such profile in '%s' or '%s'",
		    fs.profile, credpath, confpath);
		goto out;
	}
	conf->region = setting("AWS_REGION", "AWS_DEFAULT_REGION", &fs,
	    "region", NULL);
	if (conf->region == NULL)
		conf->region = arc_estrdup("us-east-1");
	if (!region_valid(conf->region)) {
		/* it becomes part of a host name: never another host */
		warnx("'%s': invalid AWS region (letters, digits and '-')",
		    conf->region);
		goto out;
	}
	conf->endpoint = setting("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
	    &fs, "s3.endpoint_url", "endpoint_url");
	conf->style = setting("AWS_S3_ADDRESSING_STYLE", NULL, &fs,
	    "s3.addressing_style", NULL);
	conf->ca_bundle = setting("AWS_CA_BUNDLE", NULL, &fs, "ca_bundle",
	    NULL);

	if ((v = arc_env("AWS_S3_NO_SIGN_REQUEST")) != NULL &&
	    strcasecmp(v, "true") == 0) {
		ret = 0;	/* anonymous, as asked */
		goto out;
	}
	/* 1. the environment */
	if ((ret = static_keys(arc_env("AWS_ACCESS_KEY_ID"),
	    arc_env("AWS_SECRET_ACCESS_KEY"), arc_env("AWS_SESSION_TOKEN"),
	    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", conf, &c)) != 0)
		goto out;
	arc_buf_adds(&searched, "AWS_ACCESS_KEY_ID (unset)");
	/* 2. web identity */
	tokfile = arc_env("AWS_WEB_IDENTITY_TOKEN_FILE");
	role = arc_env("AWS_ROLE_ARN");
	if ((tokfile == NULL) != (role == NULL)) {
		warnx("set both AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, "
		    "or neither");
		goto out;
	}
	if (tokfile != NULL) {
		c = cred_new(K_WEBID, conf, "AWS_WEB_IDENTITY_TOKEN_FILE");
		c->token_file = arc_estrdup(tokfile);
		c->role_arn = arc_estrdup(role);
		sts_setup(c, &fs, conf, fs.profile);
		if ((v = arc_env("AWS_ROLE_SESSION_NAME")) != NULL) {
			free(c->session_name);
			c->session_name = arc_estrdup(v);
		}
		ret = fetch(c) == -1 ? -1 : 1;
		goto out;
	}
	arc_buf_adds(&searched, ", AWS_WEB_IDENTITY_TOKEN_FILE (unset)");
	/* 3. the profile of the shared files */
	if ((ret = from_profile(&fs, fs.profile, conf, 0, &c)) != 0)
		goto out;
	arc_buf_printf(&searched, ", profile '%s' in '%s' (%s) and '%s' (%s)",
	    fs.profile, credpath, fs.cred.exists ? "no keys" : "no file",
	    confpath, fs.conf.exists ? "no keys" : "no file");
	/* 4. the container, 5. the instance */
	if ((ret = from_container(conf, &c, &searched)) != 0 ||
	    (ret = from_imds(conf, &c, &searched)) != 0)
		goto out;
	warnx("no AWS credentials found: searched %s; see CREDENTIALS in "
	    "arc-list(1)", arc_buf_str(&searched));
	ret = -1;
out:
	ini_free(&fs.cred);
	ini_free(&fs.conf);
	free(credpath);
	free(confpath);
	arc_buf_free(&searched);
	if (ret == -1) {
		arc_awscred_free(c);
		arc_awsconf_free(conf);
		return -1;
	}
	*credp = c;
	return 0;
}
