/*
 * arc-run - the state of arc-reconcile runs: the driver's plumbing for
 * everything it reads or writes as JSON, and for what is not sequencing.
 *
 * config checks the driver's command line and knobs (flags over
 * ARC_RECONCILIATION_* over defaults) and prints them as shell
 * assignments of checked values; usage prints the driver's usage;
 * state-init makes the state directory; get prints counts from a stage's
 * -S statistics; breaker is the circuit breaker; progress is the
 * progress line; audit appends one audit event; record builds a run
 * record from the stages' files, saves it whole or not at all, prunes the
 * history, ends the run in the audit log and writes the metrics file,
 * after adding the run's records to its archive (explain/);
 * summary prints the run's last line and chooses its exit status;
 * window reads a time-boxed run's cursor and record moves it;
 * metrics, status and show read saved records; audit-verify checks the
 * audit log's hash chain and the archives it names; explain reads an
 * archive's records back for one path; plan-version, plan-write and
 * plan-filter write a sealed plan and keep only its candidates
 * (lib/planfile.c), for arc-reconcile plan and apply.
 * Every run record read is parsed strictly (valid UTF-8 JSON, the fields
 * a record has); one that is not is reported as such, never printed.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

#define RECORD_MAX	(16 * 1024 * 1024)	/* far above any run record */
#define ERRORS_MAX	32			/* error lines kept per record */

/* exactly the SYNOPSIS of arc-run(1) */
static const char usage_text[] =
    "usage: arc-run [-n name] config [option ...] store manifest\n"
    "       arc-run [-n name] get file key ...\n"
    "       arc-run [-n name] audit state-dir run-id event "
    "[key value ...]\n"
    "       arc-run [-n name] record --state-dir dir --id id "
    "[option ...]\n"
    "       arc-run [-n name] metrics file record\n"
    "       arc-run [-n name] status [-j] state-dir\n"
    "       arc-run [-n name] show state-dir id\n"
    "       arc-run [-n name] explain state-dir id path\n"
    "       arc-run [-n name] audit-verify [-a hash] state-dir\n"
    "       arc-run [-n name] state-init state-dir\n"
    "       arc-run [-n name] breaker ratio diff-stats\n"
    "       arc-run [-n name] window state-dir started-ms ms shard "
    "store\n"
    "               manifest file\n"
    "       arc-run [-n name] summary --id id [option ...]\n"
    "       arc-run [-n name] progress label file count-file\n"
    "       arc-run [-n name] usage\n"
    "       arc-run [-n name] id\n"
    "       arc-run [-n name] now\n"
    "       arc-run [-n name] plan-version manifest target\n"
    "       arc-run [-n name] plan-write --out plan --id id [option ...]\n"
    "       arc-run [-n name] plan-filter plan sha256 manifest target "
    "records stats\n";

/* exactly the SYNOPSIS of arc-reconcile(1), whose options config parses */
static const char driver_usage[] =
    "usage: arc-reconcile [--act] [--archive-files] [--batch n]\n"
    "                     [--delete-pre-manifest-orphans] [--detailed-exit]\n"
    "                     [--grace duration] [--history n] [--if-unchanged]\n"
    "                     [--inventory location] [--jobs n]\n"
    "                     [--max-deletes n] [--max-inventory-age duration]\n"
    "                     [--max-duration duration] [--max-manifest n]\n"
    "                     [--max-orphan-ratio r] [--metrics file]\n"
    "                     [--lock etcd-url] [--mode local|shared] [--node id]\n"
    "                     [--now time] [--price-table file]\n"
    "                     [--sample n] [--shard i/n] [--skew duration]\n"
    "                     [--state-dir dir] store manifest\n"
    "       arc-reconcile plan -o plan [option ...] store manifest\n"
    "       arc-reconcile apply [--detailed-exit] [--max-plan-age duration]\n"
    "                     [--metrics file] [--state-dir dir] plan\n"
    "       arc-reconcile status [--json] [--state-dir dir]\n"
    "       arc-reconcile show [--state-dir dir] id\n"
    "       arc-reconcile explain [--state-dir dir] id path\n"
    "       arc-reconcile audit-verify [--anchor hash] [--state-dir dir]\n";

static void
usage(void)
{
	arc_usage(usage_text, ARC_EXIT_ERROR);
}

/* ---- small helpers ---------------------------------------------------- */

/*
 * s for a message on a terminal: bytes below 0x20 and 0x7f as \ooo, so
 * that a hostile value cannot move the cursor or rewrite the screen.
 */
static const char *
printable(struct arc_buf *b, const char *s)
{
	const unsigned char *p;

	b->len = 0;
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			arc_buf_printf(b, "\\%03o", *p);
		else
			arc_buf_addc(b, *p);
	}
	return arc_buf_str(b);
}

/* s in single quotes for sh, every ' as '\'' */
static void
shquote(struct arc_buf *b, const char *s)
{
	arc_buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			arc_buf_adds(b, "'\\''");
		else
			arc_buf_addc(b, *s);
	}
	arc_buf_addc(b, '\'');
}


/* ---- config: the knobs, checked --------------------------------------- */

struct knob {
	const char	*name;		/* shell variable */
	const char	*flag;		/* driver option */
	const char	*env;		/* Arc's variable */
	const char	*env2;		/* its _SECONDS spelling */
	const char	*def;
	int		 kind;		/* K_* */
	long long	 min, max;
	const char	*range;		/* the message when out of range */
	const char	*value;		/* as given */
	const char	*source;	/* flag or variable that gave it */
	char		*norm;		/* normalised */
	int64_t		 secs;		/* durations, rounded up */
};
enum { K_COUNT, K_DURATION, K_RATIO, K_BOOL };

static struct knob knobs[] = {
	{ "grace", "--grace", "ARC_RECONCILIATION_GRACE_WINDOW",
	    "ARC_RECONCILIATION_GRACE_WINDOW_SECONDS", ARC_DEFAULT_GRACE,
	    K_DURATION, 0, 0, NULL, NULL, NULL, NULL, 0 },
	{ "skew", "--skew", "ARC_RECONCILIATION_CLOCK_SKEW_ALLOWANCE",
	    "ARC_RECONCILIATION_CLOCK_SKEW_ALLOWANCE_SECONDS", ARC_DEFAULT_SKEW,
	    K_DURATION, 0, 0, NULL, NULL, NULL, NULL, 0 },
	{ "max_deletes", "--max-deletes",
	    "ARC_RECONCILIATION_MAX_DELETES_PER_RUN", NULL,
	    ARC_STR(ARC_DEFAULT_MAX_DELETES), K_COUNT,
	    0, LLONG_MAX, NULL, NULL, NULL, NULL, 0 },
	{ "max_manifest", "--max-manifest",
	    "ARC_RECONCILIATION_MAX_MANIFEST_SIZE", NULL, "200000", K_COUNT,
	    0, LLONG_MAX, NULL, NULL, NULL, NULL, 0 },
	{ "batch", "--batch", "ARC_RECONCILIATION_BATCH_SIZE", NULL,
	    ARC_STR(ARC_DEFAULT_BATCH),
	    K_COUNT, 1, LLONG_MAX, "batch size must be at least 1", NULL, NULL,
	    NULL, 0 },
	{ "jobs", "--jobs", "ARC_RECONCILIATION_RECHECK_CONCURRENCY", NULL,
	    ARC_STR(ARC_DEFAULT_JOBS), K_COUNT, 1, ARC_JOBS_MAX,
	    "jobs must be 1 to " ARC_STR(ARC_JOBS_MAX), NULL, NULL, NULL, 0 },
	{ "sample", "--sample", "ARC_RECONCILIATION_SAMPLE_PATHS_CAP", NULL,
	    ARC_STR(ARC_DEFAULT_SAMPLE), K_COUNT, 0, LLONG_MAX, NULL, NULL,
	    NULL, NULL, 0 },
	{ "history", "--history", NULL, NULL, "10", K_COUNT, 1, LLONG_MAX,
	    "history must be at least 1", NULL, NULL, NULL, 0 },
	{ "ratio", "--max-orphan-ratio", NULL, NULL, "0.10", K_RATIO, 0, 0,
	    NULL, NULL, NULL, NULL, 0 },
	{ "max_inventory_age", "--max-inventory-age", NULL, NULL,
	    ARC_DEFAULT_MAX_INVENTORY_AGE, K_DURATION, 0, 0, NULL, NULL, NULL,
	    NULL, 0 },
	{ "pre_manifest", "--delete-pre-manifest-orphans",
	    "ARC_RECONCILIATION_DELETE_PRE_MANIFEST_ORPHANS", NULL, "false",
	    K_BOOL, 0, 0, NULL, NULL, NULL, NULL, 0 },
	{ "max_duration", "--max-duration",
	    "ARC_RECONCILIATION_MAX_RUN_DURATION",
	    "ARC_RECONCILIATION_MAX_RUN_DURATION_SECONDS", "0", K_DURATION,
	    0, 0, NULL, NULL, NULL, NULL, 0 },
};
#define NKNOBS	(sizeof(knobs) / sizeof(knobs[0]))

/* apply: every knob comes from the plan, none from the environment */
static int knobs_noenv;

static struct knob *
knob(const char *name)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++)
		if (strcmp(knobs[i].name, name) == 0)
			return &knobs[i];
	abort();
}

/* Exit 2 with one line naming where a bad value came from. */
static void
knob_bad(const struct knob *k, const char *what)
{
	struct arc_buf b = { 0 };

	if (k->source[0] == '-')
		errx(ARC_EXIT_ERROR, "%s '%s': %s", k->source,
		    printable(&b, k->value), what);
	errx(ARC_EXIT_ERROR, "%s='%s': %s", k->source, printable(&b, k->value),
	    what);
}

static int
is_true(const char *s)
{
	return strcmp(s, "1") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "TRUE") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "yes") == 0 || strcmp(s, "on") == 0;
}

/* [0-9]*\.?[0-9]+, at most 1 */
static int
ratio_ok(const char *s)
{
	const char *p = s;
	int digits = 0, dot = 0;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !dot) {
			dot = 1;
			digits = 0;
		} else
			return 0;
	}
	return digits > 0 && strtod(s, NULL) <= 1;
}

/*
 * Settle every knob: the flag's value when given, else the variable's
 * (an empty one counts as unset), else the default; then check it.
 */
static void
knobs_settle(void)
{
	struct knob *k;
	const char *v;
	int64_t ns;
	long long n;
	size_t i;

	for (i = 0; i < NKNOBS; i++) {
		k = &knobs[i];
		if (!knobs_noenv && k->value == NULL && k->env &&
		    (v = getenv(k->env)) && *v) {
			k->value = v;
			k->source = k->env;
		}
		if (!knobs_noenv && k->value == NULL && k->env2 &&
		    (v = getenv(k->env2)) && *v) {
			k->value = v;
			k->source = k->env2;
		}
		if (k->value == NULL) {
			k->value = k->def;
			k->source = "default";
		}
		switch (k->kind) {
		case K_COUNT:
			if (arc_parse_count(k->value, 0, LLONG_MAX, &n) == -1)
				knob_bad(k, "not a whole number");
			if (n < k->min || n > k->max)
				knob_bad(k, k->range);
			k->norm = arc_estrdup(k->value);
			break;
		case K_DURATION:
			/* Arc's knobs are integer seconds; ours durations */
			if (k->value[strspn(k->value, "0123456789")] == '\0') {
				k->norm = arc_emalloc(strlen(k->value) + 2);
				sprintf(k->norm, "%ss", k->value);
			} else
				k->norm = arc_estrdup(k->value);
			if (arc_duration_parse(k->norm, &ns) == -1)
				knob_bad(k, "invalid duration");
			k->secs = ns / 1000000000 + (ns % 1000000000 != 0);
			break;
		case K_RATIO:
			if (!ratio_ok(k->value))
				knob_bad(k, "the orphan ratio must be a number "
				    "from 0 to 1");
			k->norm = arc_estrdup(k->value);
			break;
		case K_BOOL:
			k->norm = arc_estrdup(is_true(k->value) ? "true" :
			    "false");
			break;
		}
	}
}

/* Go's Duration.String() of whole seconds: 24h0m0s, 5m0s, 45s */
static char *
go_duration(int64_t s, char *buf, size_t sz)
{
	if (s >= 3600)
		snprintf(buf, sz, "%jdh%jdm%jds", (intmax_t)(s / 3600),
		    (intmax_t)(s % 3600 / 60), (intmax_t)(s % 60));
	else if (s >= 60)
		snprintf(buf, sz, "%jdm%jds", (intmax_t)(s / 60),
		    (intmax_t)(s % 60));
	else
		snprintf(buf, sz, "%jds", (intmax_t)s);
	return buf;
}

/* The driver's usage errors: it prints its usage on this status. */
#define EXIT_USAGE	64

/*
 * The driver's exit statuses with --detailed-exit, besides 0, 1, 2, 4 and
 * 75, which keep their meaning (arc-reconcile(1), EXIT STATUS).
 */
#define EXIT_CAP	5	/* stopped at --max-deletes */
#define EXIT_BREAKER	6	/* the circuit breaker: nothing deleted */
#define EXIT_PARTIAL	7	/* the storage listing was partial */
#define EXIT_TIMEBOX	8	/* cut short by --max-duration */

/*
 * The driver's options besides the knobs, in the order they print: the
 * flag, the shell variable it sets, whether it takes a value, and the
 * value when it is not given (a flag without a value sets "1").
 */
enum { O_ACT, O_ARCHIVE_FILES, O_IF_UNCHANGED, O_INVENTORY, O_LOCK,
	O_METRICS, O_MODE, O_NODE, O_NOW, O_SHARD, O_STATE, O_DETAILED_EXIT,
	O_PRICE_TABLE, O_NOPTS };
static const struct {
	const char	*flag;
	const char	*name;
	int		 arg;
	const char	*def;
} opts[O_NOPTS] = {
	[O_ACT] = { "--act", "act", 0, "0" },
	[O_ARCHIVE_FILES] = { "--archive-files", "archive_files", 0, "0" },
	[O_IF_UNCHANGED] = { "--if-unchanged", "if_unchanged", 0, "0" },
	[O_INVENTORY] = { "--inventory", "inventory", 1, "" },
	[O_LOCK] = { "--lock", "lock_url", 1, "" },
	[O_METRICS] = { "--metrics", "metrics", 1, "" },
	[O_MODE] = { "--mode", "mode", 1, "shared" },
	[O_NODE] = { "--node", "node", 1, "" },
	[O_NOW] = { "--now", "now", 1, "" },
	[O_SHARD] = { "--shard", "shard", 1, "" },
	[O_STATE] = { "--state-dir", "state", 1, "" },
	[O_DETAILED_EXIT] = { "--detailed-exit", "detailed_exit", 0, "0" },
	[O_PRICE_TABLE] = { "--price-table", "price_table", 1, "" },
};

static void
put_var(struct arc_buf *out, const char *name, const char *value)
{
	arc_buf_printf(out, "%s=", name);
	shquote(out, value);
	arc_buf_addc(out, '\n');
}

/*
 * The state directory when --state-dir is not given: root's is
 * /var/lib/arc-reconcile, anyone else's under $XDG_STATE_HOME or
 * ~/.local/state.
 */
static char *
default_state(void)
{
	struct arc_buf b = { 0 };
	const char *home;

	if (geteuid() == 0)
		return arc_estrdup("/var/lib/arc-reconcile");
	if ((home = getenv("XDG_STATE_HOME")) != NULL && *home != '\0')
		arc_buf_adds(&b, home);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		arc_buf_printf(&b, "%s/.local/state", home);
	else
		errx(ARC_EXIT_ERROR, "HOME is not set: give --state-dir");
	arc_buf_adds(&b, "/arc-reconcile");
	return b.s;
}

/*
 * The file a manifest operand names, resolved once before the run: every
 * stage refuses (exit 2) when the manifest names another file than this
 * one, such as a symbolic link re-pointed during the run (arc(7),
 * MANIFEST FILE LOCKING).  "" for a URL, standard input, or a name that
 * does not resolve (the dump then says why).
 */
static char *
manifest_target(const char *m)
{
	const char *p;
	char *r;

	if ((p = arc_url_local_path(m)) == NULL)
		return arc_estrdup("");
	return (r = realpath(p, NULL)) != NULL ? r : arc_estrdup("");
}

/* Whether s is a SHA-256 as this program writes one: 64 lower-case hex. */
static int
sha256_hex_ok(const char *s)
{
	return strlen(s) == ARC_SHA256_HEX - 1 &&
	    strspn(s, "0123456789abcdef") == ARC_SHA256_HEX - 1;
}

/* Whether arg is the option flag, as --opt or --opt=value. */
static int
flag_is(const char *arg, const char *flag)
{
	size_t n = strlen(flag);

	return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/*
 * The value of the option at argv[*a]: after its '=', or the next
 * argument; exit 64 when there is none.
 */
static const char *
flag_value(int argc, char *argv[], int *a)
{
	const char *eq = strchr(argv[*a], '=');

	if (eq != NULL)
		return eq + 1;
	if (++*a < argc)
		return argv[*a];
	warnx("option %s needs a value", argv[*a - 1]);
	exit(EXIT_USAGE);
}

/*
 * status [--json] [--state-dir dir], show [--state-dir dir] id,
 * explain [--state-dir dir] id path and audit-verify [--anchor hash]
 * [--state-dir dir]: which, its operands and the state directory, for
 * the driver to run it.
 * An explained path that starts with "-" comes after "--".
 */
static int
config_query(int argc, char *argv[])
{
	struct arc_buf out = { 0 };
	const char *cmd = argv[0], *state = NULL, *json = "", *anchor = "";
	const char *op[2] = { "", "" };
	int a, nop = 0, want, dashdash = 0;

	want = strcmp(cmd, "show") == 0 ? 1 :
	    strcmp(cmd, "explain") == 0 ? 2 : 0;
	for (a = 1; a < argc; a++) {
		if (!dashdash && strcmp(argv[a], "--") == 0 && want == 2)
			dashdash = 1;
		else if (!dashdash && strcmp(argv[a], "--json") == 0 &&
		    strcmp(cmd, "status") == 0)
			json = "-j";
		else if (!dashdash && flag_is(argv[a], "--state-dir"))
			state = flag_value(argc, argv, &a);
		else if (!dashdash && flag_is(argv[a], "--anchor") &&
		    strcmp(cmd, "audit-verify") == 0) {
			anchor = flag_value(argc, argv, &a);
			if (!sha256_hex_ok(anchor)) {
				warnx("'%s': --anchor is the SHA-256 of a line, "
				    "64 hexadecimal digits", anchor);
				exit(EXIT_USAGE);
			}
		} else if ((!dashdash && argv[a][0] == '-') || nop == want)
			exit(EXIT_USAGE);
		else
			op[nop++] = argv[a];
	}
	if (nop != want)
		exit(EXIT_USAGE);
	put_var(&out, "cmd", cmd);
	put_var(&out, "json", json);
	put_var(&out, "id", op[0]);
	put_var(&out, "explain_path", op[1]);
	put_var(&out, "anchor", anchor);
	put_var(&out, "state", state ? state : default_state());
	fwrite(out.s, 1, out.len, stdout);
	arc_buf_free(&out);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

/* The --now value: an RFC 3339 time, as far as its date goes. */
static int
now_ok(const char *s)
{
	return strlen(s) >= 11 && strspn(s, "0123456789") == 4 &&
	    s[4] == '-' && strspn(s + 5, "0123456789") == 2 && s[7] == '-' &&
	    strspn(s + 8, "0123456789") == 2 && s[10] == 'T';
}

/* ---- plan and apply: their command lines ------------------------------ */

static int cmd_config(int, char *[]);

/* What config adds for plan and apply: plan_out, plan_options, plan... */
static struct arc_buf planvars;
static int applying;		/* config for apply: plan... are set */

/*
 * The plan's variables: PLAN's name and, for plan, its option lines: the
 * settled value of every knob and of every option that shapes what a
 * run deletes (not --act, --metrics, --state-dir or --detailed-exit),
 * as arc_planfile_field writes them.  Without a plan they are empty.
 */
static const int shaping[] = { O_ARCHIVE_FILES, O_IF_UNCHANGED,
    O_INVENTORY, O_LOCK, O_MODE, O_NODE, O_NOW, O_SHARD };
#define NSHAPING	(sizeof(shaping) / sizeof(shaping[0]))

static const char *absolute(struct arc_buf *, const char *);

static void
plan_vars(const char *planout, const char *val[O_NOPTS])
{
	struct arc_buf o = { 0 }, v = { 0 }, abs = { 0 };
	size_t i;

	for (i = 0; planout != NULL && i < NKNOBS; i++) {
		v.len = 0;
		if (knobs[i].kind != K_BOOL)
			arc_buf_printf(&v, "%s %s", knobs[i].flag,
			    knobs[i].norm);
		else if (strcmp(knobs[i].norm, "true") == 0)
			arc_buf_adds(&v, knobs[i].flag);
		else
			continue;
		arc_planfile_field(&o, "option", arc_buf_str(&v));
	}
	for (i = 0; planout != NULL && i < NSHAPING; i++) {
		v.len = 0;
		/* a local inventory is applied from anywhere, as the store */
		if (shaping[i] == O_INVENTORY && *val[O_INVENTORY] != '\0')
			arc_buf_printf(&v, "%s %s", opts[O_INVENTORY].flag,
			    absolute(&abs, val[O_INVENTORY]));
		else if (opts[shaping[i]].arg && *val[shaping[i]] != '\0')
			arc_buf_printf(&v, "%s %s", opts[shaping[i]].flag,
			    val[shaping[i]]);
		else if (!opts[shaping[i]].arg &&
		    strcmp(val[shaping[i]], "1") == 0)
			arc_buf_adds(&v, opts[shaping[i]].flag);
		else
			continue;
		arc_planfile_field(&o, "option", arc_buf_str(&v));
	}
	put_var(&planvars, "plan_out", planout ? planout : "");
	put_var(&planvars, "plan_options", o.len ? o.s : "");
	if (!applying) {
		put_var(&planvars, "plan", "");
		put_var(&planvars, "plan_id", "");
		put_var(&planvars, "plan_sha256", "");
	}
	arc_buf_free(&o);
	arc_buf_free(&v);
	arc_buf_free(&abs);
}

/*
 * Which of the options plan_vars writes the plan's option line o is, in
 * the form it writes it: a knob's flag (0 to NKNOBS - 1) or a shaping
 * option's (NKNOBS on), followed by " value" (not empty) when it takes
 * one and by nothing when it does not.  -1: not one (--flag=value, an
 * unknown flag, --state-dir, --metrics and the like).
 */
static int
plan_option_index(const char *o)
{
	const char *flag;
	size_t i, n;
	int arg;

	for (i = 0; i < NKNOBS + NSHAPING; i++) {
		flag = i < NKNOBS ? knobs[i].flag : opts[shaping[i -
		    NKNOBS]].flag;
		arg = i < NKNOBS ? knobs[i].kind != K_BOOL :
		    opts[shaping[i - NKNOBS]].arg;
		n = strlen(flag);
		if (strncmp(o, flag, n) != 0)
			continue;
		if (arg ? o[n] == ' ' && o[n + 1] != '\0' : o[n] == '\0')
			return (int)i;
	}
	return -1;
}

/* The value of the plan's option flag ("--skew 5m"), or NULL. */
static const char *
plan_option(const struct arc_planfile *p, const char *flag)
{
	size_t i, n = strlen(flag);

	for (i = 0; i < p->optc; i++)
		if (strncmp(p->optv[i], flag, n) == 0 && p->optv[i][n] == ' ')
			return p->optv[i] + n + 1;
	return NULL;
}

/*
 * plan -o PLAN, before the run starts: PLAN is never the manifest, its
 * target or their lock files, the metrics file or the price table, nor
 * inside a local store, a local inventory or the state directory; and
 * what is there already must be an earlier plan (arc_planfile_out_ok).
 * Exit 2 after one message otherwise.
 */
static void
plan_out_check(const char *out, const char *store, const char *m,
    const char *val[O_NOPTS])
{
	struct arc_buf ml = { 0 }, tl = { 0 };
	const char *files[7], *dirs[4], *lm, *ls, *li;
	char *t = manifest_target(m);

	/* "" where the location is not a local one: nothing to compare */
	if ((lm = arc_url_local_path(m)) == NULL)
		lm = "";
	if ((ls = arc_url_local_path(store)) == NULL)
		ls = "";
	if ((li = arc_url_local_path(val[O_INVENTORY])) == NULL)
		li = "";

	if (*lm != '\0')
		arc_buf_printf(&ml, "%s.lock", lm);
	if (*t != '\0')
		arc_buf_printf(&tl, "%s.lock", t);
	files[0] = lm;
	files[1] = t;
	files[2] = arc_buf_str(&ml);
	files[3] = arc_buf_str(&tl);
	files[4] = val[O_METRICS];
	files[5] = val[O_PRICE_TABLE];
	files[6] = NULL;
	dirs[0] = ls;
	dirs[1] = val[O_STATE];
	dirs[2] = li;
	dirs[3] = NULL;
	if (arc_planfile_out_ok(out, files, dirs) == -1)
		exit(ARC_EXIT_ERROR);
	arc_buf_free(&ml);
	arc_buf_free(&tl);
	free(t);
}

/*
 * apply [--detailed-exit] [--max-plan-age D] [--metrics file]
 * [--state-dir dir] PLAN: read PLAN (every byte as sealed), refuse it
 * when it is too old or dated ahead, came from a partial listing or an
 * aborted run, or its manifest moved other than by appends; then settle
 * the run's command line as config does, from the plan's store,
 * manifest and options alone (not the environment's knobs), in act mode.
 * Any other option is refused: a plan is applied as it was reviewed.
 */
static int
config_apply(int argc, char *argv[])
{
	struct arc_planfile p;
	struct arc_buf pb = { 0 };
	const char *maxage = "24h", *skew, *path = NULL, *sp, *keep[6];
	char **av, tbuf[ARC_TIME_BUFSZ], *target;
	unsigned char optseen[NKNOBS + NSHAPING];
	int64_t maxns, skewns = 0, age;
	size_t i, nkeep = 0;
	int a, n = 0, w, dashdash = 0;

	for (a = 1; a < argc; a++) {
		if (nkeep > 4)		/* each of the three, given twice */
			exit(EXIT_USAGE);
		if (!dashdash && strcmp(argv[a], "--") == 0)
			dashdash = 1;
		else if (!dashdash && flag_is(argv[a], "--max-plan-age"))
			maxage = flag_value(argc, argv, &a);
		else if (!dashdash && (flag_is(argv[a], "--state-dir") ||
		    flag_is(argv[a], "--metrics"))) {
			keep[nkeep++] = argv[a];
			if (strchr(argv[a], '=') == NULL)
				keep[nkeep++] = flag_value(argc, argv, &a);
		} else if (!dashdash && strcmp(argv[a], "--detailed-exit") == 0)
			keep[nkeep++] = argv[a];
		else if (!dashdash && argv[a][0] == '-')
			errx(ARC_EXIT_ERROR, "%s: apply takes the plan's options; "
			    "it takes only --max-plan-age, --state-dir, "
			    "--detailed-exit and --metrics",
			    printable(&pb, argv[a]));
		else if (path != NULL)
			exit(EXIT_USAGE);
		else
			path = argv[a];
	}
	if (path == NULL)
		exit(EXIT_USAGE);
	if (arc_duration_parse(maxage, &maxns) == -1)
		errx(ARC_EXIT_ERROR, "--max-plan-age '%s': invalid duration",
		    printable(&pb, maxage));
	if (arc_planfile_read(path, &p) == -1)
		exit(ARC_EXIT_ERROR);
	/* only the options a plan is written with, each once, as written */
	memset(optseen, 0, sizeof(optseen));
	for (i = 0; i < p.optc; i++) {
		if ((w = plan_option_index(p.optv[i])) == -1)
			errx(ARC_EXIT_ERROR, "plan '%s': line %zu ('option %s') "
			    "is not an option a plan is written with", path,
			    p.optln[i], printable(&pb, p.optv[i]));
		if (optseen[w]++)
			errx(ARC_EXIT_ERROR, "plan '%s': line %zu ('option %s') "
			    "gives that option again", path, p.optln[i],
			    printable(&pb, p.optv[i]));
	}
	if (p.partial)
		errx(ARC_EXIT_ERROR, "plan '%s' came from a partial listing: "
		    "it is never applied", path);
	if (p.aborted != NULL)
		errx(ARC_EXIT_ERROR, "plan '%s' came from a run that aborted "
		    "(%s): it is never applied", path, printable(&pb,
		    p.aborted));
	if ((skew = plan_option(&p, "--skew")) != NULL &&
	    arc_duration_parse(skew, &skewns) == -1)
		errx(ARC_EXIT_ERROR, "plan '%s': its --skew is not a duration",
		    path);
	age = arc_time_now_ms() - p.created_ms;
	if (age > maxns / 1000000)
		errx(ARC_EXIT_ERROR, "plan '%s' was made at %s, longer ago "
		    "than --max-plan-age %s: make a new one", path,
		    arc_time_format(p.created_ms / 1000, tbuf), maxage);
	if (-age > skewns / 1000000)
		errx(ARC_EXIT_ERROR, "plan '%s' is dated %s, in the future "
		    "beyond the clock skew allowance", path,
		    arc_time_format(p.created_ms / 1000, tbuf));
	target = manifest_target(p.manifest);
	if (arc_planfile_check(&p, p.manifest, target, -1) == -1)
		exit(ARC_EXIT_ERROR);	/* it said why */
	free(target);
	/* config --act OPTION... -- store manifest, --now left out */
	av = arc_ecalloc(p.optc + nkeep + 6, sizeof(*av));
	av[n++] = "config";
	av[n++] = "--act";
	for (i = 0; i < p.optc; i++) {
		if (strncmp(p.optv[i], "--now ", 6) == 0)
			continue;
		av[n] = arc_estrdup(p.optv[i]);
		if ((sp = strchr(av[n], ' ')) != NULL)
			av[n][sp - av[n]] = '=';
		n++;
	}
	for (i = 0; i < nkeep; i++)
		av[n++] = (char *)keep[i];
	av[n++] = "--";
	av[n++] = p.store;
	av[n++] = p.manifest;
	knobs_noenv = applying = 1;
	put_var(&planvars, "plan", path);
	put_var(&planvars, "plan_id", p.id);
	put_var(&planvars, "plan_sha256", p.seal);
	arc_buf_free(&pb);
	return cmd_config(n, av);
}

/*
 * The driver's command line: its options (--opt value or --opt=value, a
 * flag beating its ARC_RECONCILIATION_* variable), then store and
 * manifest; every value checked, and printed for the driver to eval.
 * The other commands of the driver go to config_query.
 */
static int
cmd_config(int argc, char *argv[])
{
	struct arc_prices prices;
	struct arc_buf out = { 0 }, pb = { 0 };
	const char *val[O_NOPTS];
	struct arc_buf shard = { 0 }, lock = { 0 };
	struct arc_shard sh;
	struct knob *k;
	const char *planout = NULL;
	int64_t ns;
	size_t i;
	int a;

	if (argc > 1 && strcmp(argv[1], "apply") == 0)
		return config_apply(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "plan") == 0) {
		planout = "";
		argc--;
		argv++;
	}
	if (argc > 1 && (strcmp(argv[1], "status") == 0 ||
	    strcmp(argv[1], "show") == 0 ||
	    strcmp(argv[1], "explain") == 0 ||
	    strcmp(argv[1], "audit-verify") == 0))
		return config_query(argc - 1, argv + 1);
	for (i = 0; i < O_NOPTS; i++)
		val[i] = opts[i].def;
	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--") == 0) {
			a++;
			break;
		}
		if (planout != NULL && (strcmp(argv[a], "-o") == 0 ||
		    flag_is(argv[a], "--output"))) {
			planout = flag_value(argc, argv, &a);
			continue;
		}
		for (i = 0; i < NKNOBS && !flag_is(argv[a], knobs[i].flag); i++)
			continue;
		if (i < NKNOBS) {
			k = &knobs[i];
			k->source = k->flag;
			k->value = k->kind == K_BOOL ? "true" :
			    flag_value(argc, argv, &a);
			continue;
		}
		for (i = 0; i < O_NOPTS && !flag_is(argv[a], opts[i].flag); i++)
			continue;
		if (i < O_NOPTS)
			val[i] = opts[i].arg ? flag_value(argc, argv, &a) : "1";
		else {
			warnx("unknown option %s", printable(&pb, argv[a]));
			exit(EXIT_USAGE);
		}
	}
	if (argc - a != 2 || (planout != NULL && *planout == '\0'))
		exit(EXIT_USAGE);
	/* before any state: a URL would carry its password there (url.c) */
	if (arc_refuse_secret(argv[a], "store") == -1 ||
	    arc_refuse_secret(argv[a + 1], "manifest") == -1 ||
	    arc_refuse_secret(val[O_LOCK], "lock") == -1 ||
	    arc_refuse_secret(val[O_INVENTORY], "inventory") == -1)
		exit(ARC_EXIT_ERROR);
	knobs_settle();
	if (planout != NULL && strcmp(val[O_ACT], "1") == 0)
		errx(ARC_EXIT_ERROR, "a plan is a dry run: apply it with "
		    "'apply', not --act");
	plan_vars(planout, val);
	if (strcmp(val[O_MODE], "local") == 0) {
		if (*val[O_NODE] == '\0')
			errx(ARC_EXIT_ERROR, "--mode local needs --node ID");
	} else if (strcmp(val[O_MODE], "shared") == 0) {
		if (*val[O_NODE] != '\0')
			errx(ARC_EXIT_ERROR, "--node needs --mode local");
	} else
		errx(ARC_EXIT_ERROR, "'%s': mode must be local or shared",
		    printable(&pb, val[O_MODE]));
	if (strcmp(val[O_ACT], "1") == 0 && knob("grace")->secs < 3600)
		errx(ARC_EXIT_ERROR, "a grace window under 1h is refused in act "
		    "mode ('%s')", knob("grace")->norm);
	if (knob("max_duration")->secs > 0 && *val[O_INVENTORY] != '\0')
		errx(ARC_EXIT_ERROR, "--max-duration excludes --inventory: a "
		    "time-boxed run lists the store itself, in key order");
	if (*val[O_NOW] != '\0' && !now_ok(val[O_NOW]))
		errx(ARC_EXIT_ERROR, "'%s': --now must be an RFC 3339 time",
		    printable(&pb, val[O_NOW]));
	/*
	 * A shard (i/n, as the tools print it) takes a lock of its own,
	 * KEY/shard-i-of-n: shards run side by side (arc-reconcile(1),
	 * SHARDS).  A valid value is printable as it is.
	 */
	if (*val[O_SHARD] != '\0') {
		arc_shard_opt(printable(&pb, val[O_SHARD]), &sh);
		arc_buf_printf(&shard, "%u/%u", sh.index, sh.count);
		val[O_SHARD] = shard.s;
		if (*val[O_LOCK] != '\0') {
			arc_buf_adds(&lock, val[O_LOCK]);
			while (lock.len > 0 && lock.s[lock.len - 1] == '/')
				lock.s[--lock.len] = '\0';
			arc_buf_printf(&lock, "/shard-%u-of-%u", sh.index,
			    sh.count);
			val[O_LOCK] = lock.s;
		}
	}
	if (*val[O_STATE] == '\0')
		val[O_STATE] = default_state();
	/* a price table is read now: a bad one stops the run before it starts */
	if (*val[O_PRICE_TABLE] == '\0' && getenv("ARC_PRICE_TABLE") != NULL)
		val[O_PRICE_TABLE] = getenv("ARC_PRICE_TABLE");
	if (*val[O_PRICE_TABLE] != '\0' &&
	    arc_prices_load(&prices, val[O_PRICE_TABLE], argv[a]) == -1)
		exit(ARC_EXIT_ERROR);
	if (planout != NULL)
		plan_out_check(planout, argv[a], argv[a + 1], val);
	put_var(&out, "cmd", "run");
	arc_buf_add(&out, planvars.s, planvars.len);
	for (i = 0; i < O_NOPTS; i++)
		put_var(&out, opts[i].name, val[i]);
	put_var(&out, "backend_kind", val[O_MODE]);
	put_var(&out, "dry_run", strcmp(val[O_ACT], "1") ? "true" : "false");
	put_var(&out, "store", argv[a]);
	put_var(&out, "manifest", argv[a + 1]);
	put_var(&out, "manifest_target", manifest_target(argv[a + 1]));
	arc_buf_printf(&out, "breaker_exit=%d\n", strcmp(val[O_DETAILED_EXIT],
	    "1") == 0 ? EXIT_BREAKER : ARC_EXIT_ERROR);
	for (i = 0; i < NKNOBS; i++) {
		k = &knobs[i];
		put_var(&out, k->name, k->norm);
		if (k->kind == K_DURATION)
			arc_buf_printf(&out, "%s_s=%jd\n", k->name,
			    (intmax_t)k->secs);
	}
	/* a run's window to the millisecond: a short one is a real one */
	arc_duration_parse(knob("max_duration")->norm, &ns);
	arc_buf_printf(&out, "max_duration_ms=%jd\n", (intmax_t)(ns / 1000000 +
	    (ns % 1000000 != 0)));
	fwrite(out.s, 1, out.len, stdout);
	arc_buf_free(&out);
	arc_buf_free(&pb);
	arc_buf_free(&shard);
	arc_buf_free(&lock);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

/* ---- stage statistics ------------------------------------------------- */

/*
 * A stage's -S file, or NULL when there is none (the stage did not run).
 * A file that is there but unreadable is a warning and counts as none.
 */
static struct json_object *
stats_load(const char *path)
{
	struct json_object *o;
	const char *why;
	char *s;
	size_t n;

	if (path == NULL)
		return NULL;
	if ((s = arc_read_small(path, RECORD_MAX, &n)) == NULL) {
		if (errno != ENOENT)
			warn("cannot read '%s'", path);
		return NULL;
	}
	o = arc_json_parse_strict(s, n, &why);
	free(s);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		warnx("'%s': not a statistics file: %s", path,
		    o ? "not an object" : why);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int64_t
stats_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v);
	return json_object_get_int64(v);
}

static int
cmd_get(int argc, char *argv[])
{
	struct json_object *o, *v;
	int i;

	if (argc < 3)
		usage();
	o = stats_load(argv[1]);
	for (i = 2; i < argc; i++) {
		if (o != NULL && json_object_object_get_ex(o, argv[i], &v) &&
		    json_object_is_type(v, json_type_boolean))
			puts(json_object_get_boolean(v) ? "true" : "false");
		else if (o != NULL && json_object_object_get_ex(o, argv[i],
		    &v) && json_object_is_type(v, json_type_string))
			puts(json_object_get_string(v));
		else
			printf("%jd\n", (intmax_t)stats_int(o, argv[i]));
	}
	json_object_put(o);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

/* ---- audit ------------------------------------------------------------ */

static char *
audit_path(const char *state)
{
	char *p = arc_emalloc(strlen(state) + sizeof("/audit.log"));

	sprintf(p, "%s/audit.log", state);
	return p;
}

/*
 * Where the log ended after a run's last event: kept outside the log, in
 * the run record, for audit-verify (arc-reconcile(1)).
 */
struct anchor {
	char		sha[ARC_SHA256_HEX];	/* the SHA-256 of that line */
	uintmax_t	end;			/* the offset after it, or 0 */
};

/*
 * Append one event (details as a NULL-ended array of key, value) and make
 * it durable; -1 after a message.  Values are made valid UTF-8 first.
 * at, when not NULL, gets the anchor of the line written.
 */
static int
audit_write(const char *state, const char *id, const char *event,
    char **kv, struct anchor *at)
{
	struct json_object *t[24];
	const char *v[24];
	struct arc_audit *au;
	char *path;
	size_t i, n;
	int r;

	for (n = 0; kv[n] != NULL && kv[n + 1] != NULL && n < 24; n += 2) {
		t[n] = arc_json_text(kv[n]);
		t[n + 1] = arc_json_text(kv[n + 1]);
		v[n] = json_object_get_string(t[n]);
		v[n + 1] = json_object_get_string(t[n + 1]);
	}
	path = audit_path(state);
	if ((au = arc_audit_open(path)) == NULL) {
		free(path);
		goto out_fail;
	}
	/* at most 31 pairs, written out so that no va_list is built */
#define V(i)	(i < n ? v[i] : NULL)
	arc_audit_event(au, event, id, V(0), V(1), V(2), V(3), V(4), V(5),
	    V(6), V(7), V(8), V(9), V(10), V(11), V(12), V(13), V(14), V(15),
	    V(16), V(17), V(18), V(19), V(20), V(21), V(22), V(23), NULL);
#undef V
	r = arc_audit_sync(au);
	if (r == 0 && at != NULL && arc_audit_head(au, at->sha, &at->end) == -1)
		at->end = 0;
	arc_audit_close(au);
	free(path);
	for (i = 0; i < n; i++)
		json_object_put(t[i]);
	return r;
out_fail:
	for (i = 0; i < n; i++)
		json_object_put(t[i]);
	return -1;
}

static int
cmd_audit(int argc, char *argv[])
{
	if (argc < 4 || (argc - 4) % 2 != 0 || argc - 4 > 24)
		usage();
	if (audit_write(argv[1], argv[2], argv[3], argv + 4, NULL) == -1)
		return ARC_EXIT_ERROR;
	return ARC_EXIT_OK;
}

/* ---- run records on disk ---------------------------------------------- */

/* Whether name is ID.json with a run id (hex digits and '-'). */
static int
record_name(const char *name)
{
	size_t n = strlen(name), idlen;

	if (n <= 5 || strcmp(name + n - 5, ".json") != 0)
		return 0;
	idlen = n - 5;
	return idlen <= 64 && strspn(name, "0123456789abcdef-") == idlen;
}

static int
valid_id(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= 64 && strspn(id, "0123456789abcdef-") == n;
}

struct run {
	char			*name;	/* ID.json */
	char			*path;
	struct timespec		 mtime;
	struct json_object	*rec;	/* NULL: unreadable */
	const char		*why;
	char			*text;
	size_t			 len;
};

/* Check that o has the fields every run record has, of their types. */
static const char *
record_check(struct json_object *o, const char *name)
{
	static const struct {
		const char *key;
		json_type type;
	} want[] = {
		{ "id", json_type_string }, { "started_at", json_type_string },
		{ "finished_at", json_type_string },
		{ "dry_run", json_type_boolean },
		{ "backend_kind", json_type_string },
		{ "manifest_deletes", json_type_int },
		{ "storage_deletes", json_type_int },
		{ "aborted", json_type_boolean },
		{ "cap_hit", json_type_boolean },
		{ "walk_partial", json_type_boolean },
	};
	struct json_object *v;
	size_t i;

	if (!json_object_is_type(o, json_type_object))
		return "not a JSON object";
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!json_object_object_get_ex(o, want[i].key, &v) ||
		    !json_object_is_type(v, want[i].type))
			return "a field is missing or of the wrong type";
	json_object_object_get_ex(o, "id", &v);
	if (strlen(name) != strlen(json_object_get_string(v)) + 5 ||
	    strncmp(name, json_object_get_string(v), strlen(name) - 5) != 0)
		return "its id is not its file name";
	return NULL;
}

static void
run_load(struct run *r)
{
	if ((r->text = arc_read_small(r->path, RECORD_MAX, &r->len)) == NULL) {
		r->why = strerror(errno);
		return;
	}
	if ((r->rec = arc_json_parse_strict(r->text, r->len, &r->why)) == NULL)
		return;
	if ((r->why = record_check(r->rec, r->name)) != NULL) {
		json_object_put(r->rec);
		r->rec = NULL;
	}
}

static int
run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
	return strcmp(x->name, y->name);
}

/*
 * The run records of state/runs, newest first: only regular files named
 * like a record (temporary files, links and anything else are not
 * records).  -1 when the directory cannot be read (ENOENT: no runs).
 */
static int
runs_list(const char *state, struct run **runsp, size_t *np)
{
	struct run *runs = NULL;
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	char *dir;
	DIR *d;
	int fd;

	dir = arc_emalloc(strlen(state) + sizeof("/runs"));
	sprintf(dir, "%s/runs", state);
	*runsp = NULL;
	*np = 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		if (errno == ENOENT) {
			free(dir);
			return 0;
		}
		warn("cannot read '%s'", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!record_name(de->d_name))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		runs = arc_ereallocarray(runs, n + 1, sizeof(*runs));
		memset(&runs[n], 0, sizeof(*runs));
		runs[n].name = arc_estrdup(de->d_name);
		runs[n].path = arc_emalloc(strlen(dir) + strlen(de->d_name) + 2);
		sprintf(runs[n].path, "%s/%s", dir, de->d_name);
		runs[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	free(dir);
	if (n > 1)
		qsort(runs, n, sizeof(*runs), run_cmp);
	*runsp = runs;
	*np = n;
	return 0;
}

static void
runs_free(struct run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(runs[i].name);
		free(runs[i].path);
		free(runs[i].text);
		json_object_put(runs[i].rec);
	}
	free(runs);
}

/*
 * Keep the newest history records besides keep (the one just written):
 * only files that runs_list takes for records are removed, by name in
 * the directory itself, so a link is removed and never followed.
 */
static int
runs_prune(const char *state, const char *keep, long long history)
{
	struct run *runs;
	size_t n, i;
	long long kept = 1;
	char *dir;
	int afd;
	int fd, r = 0;

	if (runs_list(state, &runs, &n) == -1)
		return -1;
	dir = arc_emalloc(strlen(state) + sizeof("/anchors"));
	sprintf(dir, "%s/runs", state);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		warn("cannot open '%s'", dir);
		free(dir);
		runs_free(runs, n);
		return -1;
	}
	sprintf(dir, "%s/anchors", state);
	afd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	sprintf(dir, "%s/runs", state);
	for (i = 0; i < n; i++) {
		if (strcmp(runs[i].name, keep) == 0)
			continue;
		if (kept < history) {
			kept++;
			continue;
		}
		if (unlinkat(fd, runs[i].name, 0) == -1 && errno != ENOENT) {
			warn("cannot remove '%s'", runs[i].path);
			r = -1;
		}
		/* its anchor goes with it: the newest anchors cover the log */
		if (afd != -1)
			(void)unlinkat(afd, runs[i].name, 0);
	}
	close(fd);
	if (afd != -1)
		close(afd);
	free(dir);
	runs_free(runs, n);
	return r;
}

/* ---- metrics ---------------------------------------------------------- */

static const struct metric {
	const char	*name;		/* after arc_reconcile_last_run_ */
	const char	*key;		/* run record field, or NULL */
	const char	*help;
} metrics[] = {
	{ "timestamp_seconds", NULL, "When the last run ended, in seconds "
	    "since the epoch." },
	{ "duration_seconds", NULL, "How long the last run took, in "
	    "seconds." },
	{ "aborted", "aborted", "1 when the last run was aborted." },
	{ "dry_run", "dry_run", "1 when the last run was a dry run." },
	{ "manifest_files", "manifest_file_count", "Manifest entries the "
	    "last run read." },
	{ "storage_files", "storage_file_count", "Files the last run "
	    "listed in storage." },
	{ "orphan_manifest_entries", "orphan_manifest_count", "Manifest "
	    "entries without a file that the last run found." },
	{ "orphan_storage_files", "orphan_storage_count", "Files without a "
	    "manifest entry that the last run found." },
	{ "manifest_deletes", "manifest_deletes", "Manifest entries the last "
	    "run deleted (a dry run: would delete)." },
	{ "storage_deletes", "storage_deletes", "Files the last run deleted "
	    "(a dry run: would delete)." },
	{ "skipped_grace", "skipped_grace", "Files the last run left alone "
	    "as younger than the grace window." },
	{ "skipped_recheck", "skipped_recheck", "Candidates the last run's "
	    "re-check found in use." },
	{ "bytes_freed", "bytes_freed", "Bytes the last run freed in "
	    "storage." },
	{ "cap_hit", "cap_hit", "1 when the last run stopped at its delete "
	    "cap." },
	{ "walk_partial", "walk_partial", "1 when the last run's storage "
	    "listing was partial." },
	/* the names of earlier versions, for existing dashboards */
	{ "manifest_file_count", "manifest_file_count", "Same as "
	    "arc_reconcile_last_run_manifest_files (former name)." },
	{ "storage_file_count", "storage_file_count", "Same as "
	    "arc_reconcile_last_run_storage_files (former name)." },
	{ "orphan_manifest_count", "orphan_manifest_count", "Same as "
	    "arc_reconcile_last_run_orphan_manifest_entries (former name)." },
	{ "orphan_storage_count", "orphan_storage_count", "Same as "
	    "arc_reconcile_last_run_orphan_storage_files (former name)." },
};

/*
 * Whether path's directory is dir or inside it: the state directory is
 * private, and a metrics file kept there is too.
 */
static int
inside(const char *path, const char *dir)
{
	char *p, *slash, *rp, *rd;
	int r = 0;
	size_t n;

	p = arc_estrdup(path);
	if ((slash = strrchr(p, '/')) == NULL)
		strcpy(p, ".");
	else if (slash == p)
		p[1] = '\0';
	else
		*slash = '\0';
	rp = realpath(p, NULL);
	rd = realpath(dir, NULL);
	if (rp && rd) {
		n = strlen(rd);
		r = strncmp(rp, rd, n) == 0 && (rp[n] == '\0' || rp[n] == '/');
	}
	free(p);
	free(rp);
	free(rd);
	return r;
}

/*
 * The Prometheus text file of a run record, saved atomically beside
 * path: mode 0644 whatever the umask, so that a textfile collector
 * running as another user can read it, or 0600 inside the state
 * directory, which is private.  Every metric is a gauge with HELP and
 * TYPE; the former *_count names are untyped, since a gauge named like
 * a summary's count confuses readers and promtool.
 */
static int
metrics_write(const char *path, struct json_object *rec, int64_t end_s,
    int64_t duration_ms, const char *state)
{
	struct arc_buf b = { 0 };
	struct json_object *v;
	const struct metric *m;
	size_t i;
	int64_t val;
	int r;

	for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		m = &metrics[i];
		if (m->key == NULL)
			val = i == 0 ? end_s : duration_ms / 1000;
		else if (!json_object_object_get_ex(rec, m->key, &v))
			val = 0;
		else if (json_object_is_type(v, json_type_boolean))
			val = json_object_get_boolean(v);
		else
			val = json_object_get_int64(v);
		arc_buf_printf(&b, "# HELP arc_reconcile_last_run_%s %s\n"
		    "# TYPE arc_reconcile_last_run_%s %s\n"
		    "arc_reconcile_last_run_%s %jd\n", m->name, m->help,
		    m->name, strstr(m->name, "_count") ? "untyped" : "gauge",
		    m->name, (intmax_t)val);
	}
	r = arc_save_file(path, b.s, b.len,
	    state != NULL && inside(path, state) ? 0600 : 0644);
	arc_buf_free(&b);
	return r;
}

/* The end time and duration of a saved record, from its fields. */
static void
record_times(struct json_object *rec, int64_t *end_s, int64_t *dur_ms)
{
	struct json_object *v;
	int64_t s = 0, f = 0;
	const char *t;

	if (json_object_object_get_ex(rec, "started_at", &v) &&
	    (t = json_object_get_string(v)) != NULL)
		arc_time_parse(t, strlen(t), ARC_TIME_LENIENT, &s);
	if (json_object_object_get_ex(rec, "finished_at", &v) &&
	    (t = json_object_get_string(v)) != NULL)
		arc_time_parse(t, strlen(t), ARC_TIME_LENIENT, &f);
	*end_s = f;
	*dur_ms = f >= s ? (f - s) * 1000 : 0;
}

static int
cmd_metrics(int argc, char *argv[])
{
	struct run r = { 0 };
	int64_t end_s, dur;
	int ret;

	if (argc != 3)
		usage();
	r.path = argv[2];
	r.name = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
	run_load(&r);
	if (r.rec == NULL)
		errx(ARC_EXIT_ERROR, "'%s': unreadable run record: %s",
		    argv[2], r.why);
	record_times(r.rec, &end_s, &dur);
	ret = metrics_write(argv[1], r.rec, end_s, dur, NULL) == -1 ?
	    ARC_EXIT_ERROR : ARC_EXIT_OK;
	json_object_put(r.rec);
	free(r.text);
	return ret;
}

/* ---- record ----------------------------------------------------------- */

struct recopt {
	const char	*state, *id, *backend_kind, *diff, *recheck1;
	const char	*recheck2, *delete1, *delete2, *mrec, *srec, *cand;
	const char	*errors, *archive, *deferred, *metrics;
	const char	*abort_reason, *abort_message, *results1, *results2;
	const char	*listing, *window;
	const char	*requests, *store, *prices;	/* arc(7): requests */
	const char	*plan_id, *plan_sha256, *plan_stats;
	struct arc_explain_member *explain;	/* --explain name=file */
	size_t		 nexplain;
	int64_t		 started_ms;
	long long	 sample, history;
	int		 act, walk_partial, detailed_exit;
	int		 status[2];	/* of each phase's arc-delete */
	char		 shard[32];	/* i/n, or "": the whole store */
};

/* The number of lines of a file (a last line without newline counts). */
static int64_t
count_lines(const char *path)
{
	char buf[65536], last = '\n';
	int64_t n = 0;
	ssize_t r, i;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
		last = buf[r - 1];
	}
	close(fd);
	return n + (last != '\n');
}

/* The first max paths of kind in a candidates file, as arc(7) JSON. */
static struct json_object *
samples(const char *path, int kind, long long max)
{
	struct json_object *a;
	struct arc_reader rd;
	struct arc_record rec;
	struct arc_buf p = { 0 };
	FILE *fp;

	if (path == NULL || max <= 0 || (fp = fopen(path, "re")) == NULL)
		return NULL;
	a = json_object_new_array();
	arc_reader_init(&rd, fp, path, ARC_REC_CANDIDATE, 0);
	while ((long long)json_object_array_length(a) < max &&
	    arc_reader_next(&rd, &rec) == 1) {
		if (rec.kind != kind)
			continue;
		p.len = 0;
		if (arc_record_path(&rec, &p) == 0)
			json_object_array_add(a, arc_json_path(p.s ? p.s : "",
			    p.len));
	}
	arc_reader_free(&rd);
	fclose(fp);
	arc_buf_free(&p);
	if (json_object_array_length(a) == 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* The first ERRORS_MAX lines of the errors file, as JSON text. */
static struct json_object *
error_lines(const char *path)
{
	struct json_object *a;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "re")) == NULL)
		return NULL;
	a = json_object_new_array();
	while (json_object_array_length(a) < ERRORS_MAX &&
	    (n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		/* a NUL would cut the text: shown as \000 instead */
		if (memchr(line, '\0', (size_t)n)) {
			struct arc_buf b = { 0 };
			ssize_t i;

			for (i = 0; i < n; i++)
				if (line[i] == '\0')
					arc_buf_adds(&b, "\\000");
				else
					arc_buf_addc(&b, line[i]);
			json_object_array_add(a, arc_json_text(arc_buf_str(&b)));
			arc_buf_free(&b);
		} else
			json_object_array_add(a, arc_json_text(line));
	}
	free(line);
	fclose(fp);
	if (json_object_array_length(a) == 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static int
file_nonempty(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > 0;
}

static void
add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void
add_bool(struct json_object *o, const char *k, int v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

/*
 * A run that listed from an inventory report names it, its start and its
 * age (arc-list -S), and counts the entries newer than it (arc-diff -S).
 */
static void
inventory_fields(struct json_object *rec, const char *listing,
    struct json_object *diff)
{
	static const char *const keys[] = { "inventory",
	    "inventory_created_at", "inventory_age_seconds" };
	struct json_object *l, *v;
	size_t i;

	if ((l = stats_load(listing)) == NULL)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(l, keys[i], &v))
			json_object_object_add(rec, keys[i],
			    json_object_get(v));
	add_int(rec, "skipped_after_inventory",
	    stats_int(diff, "skipped_after_inventory"));
	json_object_put(l);
}

/*
 * The requests the stages made (arc(7)), and for a dry run that ran to
 * its end, what --act would make, priced by the table config checked
 * (or, should it no longer read, by the store's built-in one).
 */
static void
requests_fields(struct json_object *rec, const struct recopt *o)
{
	struct arc_prices prices;

	if (o->prices == NULL ||
	    arc_prices_load(&prices, o->prices, o->store) == -1)
		(void)arc_prices_load(&prices, NULL, o->store);
	arc_requests_record(rec, o->requests, !o->act &&
	    o->abort_reason == NULL, &prices);
}

/*
 * The options of record and summary, one parser for both: the stages'
 * files and what the driver knows of the run.
 */
static void
recopt_parse(int argc, char *argv[], struct recopt *o)
{
	static const struct option lo[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "id", required_argument, NULL, 'i' },
		{ "started-ms", required_argument, NULL, 't' },
		{ "act", no_argument, NULL, 'a' },
		{ "backend-kind", required_argument, NULL, 'k' },
		{ "manifest-records", required_argument, NULL, 'm' },
		{ "storage-records", required_argument, NULL, 's' },
		{ "diff", required_argument, NULL, 'D' },
		{ "recheck1", required_argument, NULL, '1' },
		{ "recheck2", required_argument, NULL, '2' },
		{ "delete1", required_argument, NULL, '3' },
		{ "delete2", required_argument, NULL, '4' },
		{ "results1", required_argument, NULL, '5' },
		{ "results2", required_argument, NULL, '6' },
		{ "status1", required_argument, NULL, '7' },
		{ "status2", required_argument, NULL, '8' },
		{ "candidates", required_argument, NULL, 'c' },
		{ "sample", required_argument, NULL, 'n' },
		{ "errors", required_argument, NULL, 'e' },
		{ "walk-partial", no_argument, NULL, 'w' },
		{ "detailed-exit", no_argument, NULL, 'E' },
		{ "archive", required_argument, NULL, 'A' },
		{ "deferred", required_argument, NULL, 'F' },
		{ "history", required_argument, NULL, 'H' },
		{ "abort", required_argument, NULL, 'x' },
		{ "abort-message", required_argument, NULL, 'X' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "shard", required_argument, NULL, 'h' },
		{ "listing", required_argument, NULL, 'L' },
		{ "explain", required_argument, NULL, 'p' },
		{ "requests", required_argument, NULL, 'q' },
		{ "store", required_argument, NULL, 'S' },
		{ "price-table", required_argument, NULL, 'P' },
		{ "plan-id", required_argument, NULL, 'I' },
		{ "plan-sha256", required_argument, NULL, 'J' },
		{ "plan-stats", required_argument, NULL, 'T' },
		{ "window", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	struct arc_shard sh;
	char *eq;
	long long v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->sample = 10;
	o->history = 10;
	o->backend_kind = "shared";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': o->state = optarg; break;
		case 'i': o->id = optarg; break;
		case 't':
			if (arc_parse_count(optarg, 0, INT64_MAX, &v) == -1)
				errx(ARC_EXIT_ERROR, "'%s': not a time", optarg);
			o->started_ms = v;
			break;
		case 'a': o->act = 1; break;
		case 'k': o->backend_kind = optarg; break;
		case 'm': o->mrec = optarg; break;
		case 's': o->srec = optarg; break;
		case 'D': o->diff = optarg; break;
		case '1': o->recheck1 = optarg; break;
		case '2': o->recheck2 = optarg; break;
		case '3': o->delete1 = optarg; break;
		case '4': o->delete2 = optarg; break;
		case '5': o->results1 = optarg; break;
		case '6': o->results2 = optarg; break;
		case '7':
		case '8':
			if (arc_parse_count(optarg, 0, 255, &v) == -1)
				errx(ARC_EXIT_ERROR, "'%s': not an exit status",
				    optarg);
			o->status[ch - '7'] = (int)v;
			break;
		case 'c': o->cand = optarg; break;
		case 'n':
			if (arc_parse_count(optarg, 0, LLONG_MAX, &o->sample))
				errx(ARC_EXIT_ERROR, "'%s': not a whole number",
				    optarg);
			break;
		case 'e': o->errors = optarg; break;
		case 'w': o->walk_partial = 1; break;
		case 'E': o->detailed_exit = 1; break;
		case 'A': o->archive = optarg; break;
		case 'F': o->deferred = optarg; break;
		case 'H':
			if (arc_parse_count(optarg, 1, LLONG_MAX, &o->history))
				errx(ARC_EXIT_ERROR, "'%s': history must be at "
				    "least 1", optarg);
			break;
		case 'x': o->abort_reason = optarg; break;
		case 'X': o->abort_message = optarg; break;
		case 'M': o->metrics = optarg; break;
		case 'h':
			arc_shard_opt(optarg, &sh);
			snprintf(o->shard, sizeof(o->shard), "%u/%u", sh.index,
			    sh.count);
			break;
		case 'L': o->listing = optarg; break;
		case 'q': o->requests = optarg; break;
		case 'S': o->store = optarg; break;
		case 'P': o->prices = optarg; break;
		case 'I': o->plan_id = optarg; break;
		case 'J': o->plan_sha256 = optarg; break;
		case 'T': o->plan_stats = optarg; break;
		case 'W': o->window = optarg; break;
		case 'p':
			if ((eq = strchr(optarg, '=')) == NULL)
				errx(ARC_EXIT_ERROR, "'%s': not name=file",
				    optarg);
			*eq = '\0';
			if (!arc_explain_name_ok(optarg))
				errx(ARC_EXIT_ERROR, "'%s': not a stage's .rej "
				    "or .res name", optarg);
			o->explain = arc_ereallocarray(o->explain,
			    o->nexplain + 1, sizeof(*o->explain));
			o->explain[o->nexplain].name = optarg;
			o->explain[o->nexplain++].file = eq + 1;
			break;
		default: usage();
		}
	}
	if (optind != argc || o->id == NULL || !valid_id(o->id))
		usage();
}

/* The stages' statistics files of a run. */
struct runstats {
	struct json_object	*diff, *rc1, *rc2, *d1, *d2;
};

static void
runstats_load(struct runstats *s, const struct recopt *o)
{
	s->diff = stats_load(o->diff);
	s->rc1 = stats_load(o->recheck1);
	s->rc2 = stats_load(o->recheck2);
	s->d1 = stats_load(o->delete1);
	s->d2 = stats_load(o->delete2);
}

static void
runstats_free(struct runstats *s)
{
	json_object_put(s->diff);
	json_object_put(s->rc1);
	json_object_put(s->rc2);
	json_object_put(s->d1);
	json_object_put(s->d2);
}

/* The deletes of each phase: a dry run counts what it would delete. */
static int64_t
manifest_deletes(const struct runstats *s, const struct recopt *o)
{
	return stats_int(s->d1, o->act ? "manifest_deletes" :
	    "would_delete_manifest");
}

static int64_t
storage_deletes(const struct runstats *s, const struct recopt *o)
{
	return stats_int(s->d2, o->act ? "storage_deletes" :
	    "would_delete_storage");
}

static int
cap_hit(const struct runstats *s)
{
	return stats_int(s->d1, "cap_hit") || stats_int(s->d2, "cap_hit");
}

/* Whether apply left candidates that its plan does not list: drift. */
static int
plan_left(const char *stats)
{
	struct json_object *ps;
	int left;

	if (stats == NULL)
		return 0;
	ps = stats_load(stats);
	left = stats_int(ps, "not_in_plan") > 0;
	json_object_put(ps);
	return left;
}

/* apply's fields of the run record: the plan, and what it left out */
static void
plan_fields(struct json_object *rec, const struct recopt *o)
{
	struct json_object *ps;

	if (o->plan_id == NULL)
		return;
	json_object_object_add(rec, "plan_id", arc_json_text(o->plan_id));
	json_object_object_add(rec, "plan_sha256",
	    arc_json_text(o->plan_sha256 ? o->plan_sha256 : ""));
	ps = stats_load(o->plan_stats);
	add_int(rec, "plan_candidates", stats_int(ps, "plan_candidates"));
	add_int(rec, "not_in_plan", stats_int(ps, "not_in_plan"));
	add_int(rec, "plan_skipped", stats_int(ps, "plan_skipped"));
	json_object_put(ps);
}

/* ---- window: a time-boxed run's key range (--max-duration) ----------- */

/*
 * window state-dir started-ms ms shard store manifest file: read the
 * cursor kept for store, shard and manifest (a link, another kind of
 * file or a corrupt one is refused, exit 2; one kept for another
 * identity is dropped with a line on stderr), save what record and
 * summary need in file, and print for the driver's eval: w_after, the
 * path to list after, quoted as in records ("": from the start),
 * w_list_deadline, when the listing asks no more pages (half of the
 * duration), and w_deadline, when the phases begin no more batches, both
 * in ms since the epoch.
 */
static int
cmd_window(int argc, char *argv[])
{
	struct arc_cursor c;
	struct json_object *o;
	struct arc_buf out = { 0 }, q = { 0 };
	long long start, ms;
	int r;

	if (argc != 8 || arc_parse_count(argv[2], 0, INT64_MAX / 4, &start) ==
	    -1 || arc_parse_count(argv[3], 1, INT64_MAX / 4, &ms) == -1)
		usage();
	if (arc_cursor_open(&c, argv[1], argv[5], argv[4], argv[6]) == -1)
		return ARC_EXIT_ERROR;
	if (c.dropped != NULL)
		warnx("cursor '%s' dropped: %s; this run starts at the "
		    "beginning of the key space", c.file, c.dropped);
	o = json_object_new_object();
	json_object_object_add(o, "cursor", arc_json_path(c.file,
	    strlen(c.file)));
	json_object_object_add(o, "identity", json_object_get(c.id));
	json_object_object_add(o, "after", arc_json_path(c.after.s ? c.after.s :
	    "", c.after.len));
	json_object_object_add(o, "cursor_dropped", c.dropped ?
	    json_object_new_string(c.dropped) : NULL);
	r = arc_json_save(argv[7], o, 0600);
	json_object_put(o);
	arc_quote(&q, c.after.s ? c.after.s : "", c.after.len);
	put_var(&out, "w_after", arc_buf_str(&q));
	arc_buf_printf(&out, "w_list_deadline=%lld\nw_deadline=%lld\n",
	    start + ms / 2, start + ms);
	arc_cursor_free(&c);
	arc_buf_free(&q);
	if (r == -1) {
		arc_buf_free(&out);
		return ARC_EXIT_ERROR;
	}
	fwrite(out.s, 1, out.len, stdout);
	arc_buf_free(&out);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

/* What a time-boxed run covered, from its window and listing files. */
struct wout {
	struct json_object	*w;	/* the window file, NULL: not boxed */
	struct json_object	*l;	/* the listing's range, NULL: none */
	int			 listing_cut, phase_cut;
};

static int
window_load(const struct recopt *o, const struct runstats *s,
    struct wout *wo)
{
	memset(wo, 0, sizeof(*wo));
	if ((wo->w = stats_load(o->window)) == NULL)
		return 0;
	wo->l = stats_load(o->listing);
	wo->listing_cut = stats_int(wo->l, "listing_cut") != 0;
	wo->phase_cut = stats_int(s->d1, "deadline_hit") != 0 ||
	    stats_int(s->d2, "deadline_hit") != 0;
	return 1;
}

static void
window_free(struct wout *wo)
{
	json_object_put(wo->w);
	json_object_put(wo->l);
}

/* A path member, null when it is "" (the start, or the end). */
static struct json_object *
path_or_null(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL ||
	    json_object_get_string_len(v) == 0)
		return NULL;
	return json_object_get(v);
}

/*
 * The record's window, and the cursor moved: only by an act run that
 * was not aborted, whose listing was whole and whose phases were not cut
 * short (candidates left unprocessed are listed again), to the end of
 * the range listed, or to the start when it reached the end of the key
 * space.  A dropped cursor is saved anew, at the start, by an act run.
 * -1 when the cursor could not be saved.
 */
static int
window_record(struct json_object *rec, const struct recopt *o,
    const struct runstats *s)
{
	struct json_object *w, *to, *v;
	struct arc_cursor c;
	struct arc_buf next = { 0 };
	struct wout wo;
	int advance, dropped, r = 0;

	if (!window_load(o, s, &wo))
		return 0;
	w = json_object_new_object();
	json_object_object_add(w, "from", path_or_null(wo.w, "after"));
	to = path_or_null(wo.l, "range_end");
	json_object_object_add(w, "to", to);
	add_bool(w, "wrapped", wo.l != NULL && !wo.listing_cut);
	add_bool(w, "cut_short", wo.listing_cut || wo.phase_cut);
	dropped = json_object_object_get_ex(wo.w, "cursor_dropped", &v) &&
	    v != NULL;
	json_object_object_add(w, "cursor_dropped", dropped ?
	    json_object_get(v) : NULL);
	advance = o->act && o->abort_reason == NULL && !o->walk_partial &&
	    !wo.phase_cut && wo.l != NULL;
	add_bool(w, "cursor_moved", advance);
	json_object_object_add(rec, "window", w);
	if (advance && wo.listing_cut && to != NULL)
		arc_json_path_decode(&next, json_object_get_string(to),
		    (size_t)json_object_get_string_len(to));
	else if (!advance && !(o->act && dropped)) {
		window_free(&wo);
		return 0;
	}
	memset(&c, 0, sizeof(c));
	if (json_object_object_get_ex(wo.w, "cursor", &v))
		c.file = (char *)json_object_get_string(v);
	json_object_object_get_ex(wo.w, "identity", &c.id);
	if (c.file == NULL || c.id == NULL ||
	    arc_cursor_save(&c, next.s ? next.s : "", next.len) == -1) {
		warnx("run %s: its cursor could not be saved", o->id);
		r = -1;
	}
	arc_buf_free(&next);
	window_free(&wo);
	return r;
}

/* Whether a time-boxed run was cut short: its listing, or a phase. */
static int
window_cut(const struct recopt *o, const struct runstats *s, int *phase)
{
	struct wout wo;
	int cut;

	*phase = 0;
	if (!window_load(o, s, &wo))
		return 0;
	cut = wo.listing_cut || wo.phase_cut;
	*phase = wo.phase_cut;
	window_free(&wo);
	return cut;
}

/* The run record of arc-reconcile(1), RUN RECORD. */
static struct json_object *
record_build(const struct recopt *o, const struct runstats *s, int64_t end_ms)
{
	struct json_object *rec, *a;
	char tbuf[ARC_TIME_BUFSZ];

	rec = json_object_new_object();
	json_object_object_add(rec, "id", json_object_new_string(o->id));
	json_object_object_add(rec, "started_at", json_object_new_string(
	    arc_time_format(o->started_ms / 1000, tbuf)));
	json_object_object_add(rec, "finished_at", json_object_new_string(
	    arc_time_format(end_ms / 1000, tbuf)));
	add_bool(rec, "dry_run", !o->act);
	json_object_object_add(rec, "backend_kind",
	    arc_json_text(o->backend_kind));
	json_object_object_add(rec, "role", json_object_new_string(""));
	/* a shard's counts are of its share of the manifest, as diffed */
	if (*o->shard != '\0')
		json_object_object_add(rec, "shard",
		    json_object_new_string(o->shard));
	add_int(rec, "manifest_file_count", *o->shard != '\0' &&
	    s->diff != NULL ? stats_int(s->diff, "manifest_file_count") :
	    count_lines(o->mrec));
	add_int(rec, "storage_file_count", count_lines(o->srec));
	add_int(rec, "orphan_manifest_count",
	    stats_int(s->diff, "orphan_manifest_count"));
	add_int(rec, "orphan_storage_count",
	    stats_int(s->diff, "orphan_storage_count"));
	add_int(rec, "manifest_deletes", manifest_deletes(s, o));
	add_int(rec, "storage_deletes", storage_deletes(s, o));
	add_int(rec, "skipped_grace", stats_int(s->diff, "skipped_grace"));
	add_int(rec, "skipped_recheck", stats_int(s->rc1, "present") +
	    stats_int(s->rc2, "in_manifest"));
	if ((a = samples(o->cand, ARC_KIND_MANIFEST, o->sample)) != NULL)
		json_object_object_add(rec, "orphan_manifest_sample", a);
	if ((a = samples(o->cand, ARC_KIND_STORAGE, o->sample)) != NULL)
		json_object_object_add(rec, "orphan_storage_sample", a);
	if ((a = error_lines(o->errors)) != NULL)
		json_object_object_add(rec, "errors", a);
	add_bool(rec, "aborted", o->abort_reason != NULL);
	if (o->abort_reason != NULL) {
		json_object_object_add(rec, "abort_reason",
		    arc_json_text(o->abort_reason));
		json_object_object_add(rec, "abort_message",
		    arc_json_text(o->abort_message ? o->abort_message : ""));
	}
	add_bool(rec, "cap_hit", cap_hit(s));
	add_bool(rec, "walk_partial", o->walk_partial);
	if (o->archive != NULL && file_nonempty(o->archive))
		json_object_object_add(rec, "archive",
		    arc_json_path(o->archive, strlen(o->archive)));
	else
		json_object_object_add(rec, "archive", NULL);
	/* deletes a read-only manifest (Arc's API) leaves to an operator */
	if (file_nonempty(o->deferred))
		json_object_object_add(rec, "deferred",
		    arc_json_path(o->deferred, strlen(o->deferred)));
	add_int(rec, "bytes_freed", o->act ? stats_int(s->d2, "bytes_freed") :
	    0);
	/* arc-delete's deletes checked gone, and those still visible */
	add_int(rec, "verified_deletes", stats_int(s->d1, "verified_deletes") +
	    stats_int(s->d2, "verified_deletes"));
	add_int(rec, "unverified_deletes", stats_int(s->d1,
	    "unverified_deletes") + stats_int(s->d2, "unverified_deletes"));
	inventory_fields(rec, o->listing, s->diff);
	requests_fields(rec, o);
	plan_fields(rec, o);
	return rec;
}

/*
 * The run's last audit event: reconcile.run_completed, or run_aborted
 * with its reason (state_unwritable when its record was not saved), and
 * the SHA-256 of its archive, which audit-verify checks later.
 */
static int
record_audit(const struct recopt *o, const struct runstats *s, int saved,
    int64_t dur_ms, struct anchor *at)
{
	char num[5][32], sha[ARC_SHA256_HEX] = "";
	const char *reason, *message, *ev, *kv[32];
	size_t n = 0;

	if (o->archive != NULL && file_nonempty(o->archive) &&
	    arc_sha256_file(o->archive, sha) == -1) {
		warn("cannot read archive '%s'", o->archive);
		sha[0] = '\0';
	}
	snprintf(num[0], sizeof(num[0]), "%jd", (intmax_t)manifest_deletes(s,
	    o));
	snprintf(num[1], sizeof(num[1]), "%jd", (intmax_t)storage_deletes(s,
	    o));
	snprintf(num[2], sizeof(num[2]), "%jd",
	    (intmax_t)stats_int(s->diff, "skipped_grace"));
	snprintf(num[3], sizeof(num[3]), "%jd", (intmax_t)(stats_int(s->rc1,
	    "present") + stats_int(s->rc2, "in_manifest")));
	snprintf(num[4], sizeof(num[4]), "%jd", (intmax_t)dur_ms);
#define KV(k, v)	(kv[n++] = (k), kv[n++] = (v))
	KV("backend_kind", o->backend_kind);
	if (o->abort_reason != NULL || !saved) {
		ev = "reconcile.run_aborted";
		reason = o->abort_reason ? o->abort_reason : "state_unwritable";
		message = o->abort_reason ? (o->abort_message ?
		    o->abort_message : "") : "the run record could not be saved";
		KV("abort_reason", reason);
		KV("abort_message", message);
		KV("manifest_deletes", num[0]);
		KV("storage_deletes", num[1]);
	} else {
		ev = "reconcile.run_completed";
		KV("manifest_deletes", num[0]);
		KV("storage_deletes", num[1]);
		KV("skipped_grace", num[2]);
		KV("skipped_recheck", num[3]);
	}
	KV("walk_partial", o->walk_partial ? "true" : "false");
	KV("cap_hit", cap_hit(s) ? "true" : "false");
	KV("duration_ms", num[4]);
	if (sha[0] != '\0')
		KV("archive_sha256", sha);
#undef KV
	kv[n] = NULL;
	return audit_write(o->state, o->id, ev, (char **)kv, at);
}

/*
 * Keep the anchor of the run's last event outside the log, as
 * anchors/ID.json in the state directory (made 0700 here, never a link;
 * the run record's own fields stay as arc-reconcile(1) lists them), so
 * that audit-verify can tell a log cut short or written anew from the
 * one the run appended to.  -1 after a message.
 */
static int
anchor_keep(const char *state, const char *id, const struct anchor *at)
{
	struct json_object *h;
	struct stat sb;
	char *p;
	int r;

	if (at->end == 0)
		return 0;
	h = json_object_new_object();
	json_object_object_add(h, "run_id", json_object_new_string(id));
	add_int(h, "audit_end", (int64_t)at->end);
	json_object_object_add(h, "audit_sha256",
	    json_object_new_string(at->sha));
	p = arc_emalloc(strlen(state) + strlen(id) + sizeof("/anchors/.json"));
	sprintf(p, "%s/anchors", state);
	if ((mkdir(p, 0700) == -1 && errno != EEXIST) || lstat(p, &sb) == -1 ||
	    !S_ISDIR(sb.st_mode)) {
		warnx("run %s: '%s' is not a directory: the audit log's anchor "
		    "is not kept", id, p);
		free(p);
		json_object_put(h);
		return -1;
	}
	sprintf(p, "%s/anchors/%s.json", state, id);
	if ((r = arc_json_save(p, h, 0600)) == -1)
		warnx("run %s: the audit log's anchor could not be saved in "
		    "'%s'", id, p);
	free(p);
	json_object_put(h);
	return r;
}

static int
cmd_record(int argc, char *argv[])
{
	struct recopt o;
	struct runstats s;
	struct json_object *rec;
	struct anchor at = { "", 0 };
	char *path, *name;
	int64_t end_ms;
	int saved, ret = ARC_EXIT_OK;

	recopt_parse(argc, argv, &o);
	if (o.state == NULL)
		usage();
	runstats_load(&s, &o);
	/*
	 * What the run decided about each path, for arc-reconcile explain:
	 * added before the audit event, which takes the archive's SHA-256.
	 */
	if (o.archive != NULL && arc_explain_archive(o.archive, o.id, o.mrec,
	    o.srec, o.cand, o.explain, o.nexplain, o.abort_reason != NULL &&
	    strcmp(o.abort_reason, "implausible_drift") == 0 ? ARC_R_BREAKER :
	    ARC_R_NONE) == -1) {
		warnx("run %s: its explanation could not be added to the "
		    "archive '%s'", o.id, o.archive);
		ret = ARC_EXIT_ERROR;
	}
	free(o.explain);
	o.explain = NULL;
	end_ms = arc_time_now_ms();
	rec = record_build(&o, &s, end_ms);
	if (window_record(rec, &o, &s) == -1)
		ret = ARC_EXIT_ERROR;

	name = arc_emalloc(strlen(o.id) + 6);
	sprintf(name, "%s.json", o.id);
	path = arc_emalloc(strlen(o.state) + strlen(name) + 8);
	sprintf(path, "%s/runs/%s", o.state, name);
	if ((saved = arc_json_save(path, rec, 0600) == 0)) {
		if (runs_prune(o.state, name, o.history) == -1)
			ret = ARC_EXIT_ERROR;
	} else {
		/* no record: the audit log says the run did not complete */
		warnx("run %s: the run record could not be saved; the audit "
		    "log ends the run as aborted (state_unwritable)", o.id);
		ret = ARC_EXIT_ERROR;
	}
	if (record_audit(&o, &s, saved, end_ms - o.started_ms, &at) == -1)
		ret = ARC_EXIT_ERROR;
	else if (saved && anchor_keep(o.state, o.id, &at) == -1)
		ret = ARC_EXIT_ERROR;
	if (o.metrics != NULL) {
		if (!saved) {
			/* what the metrics say is what the audit log says */
			json_object_object_add(rec, "aborted",
			    json_object_new_boolean(1));
		}
		if (metrics_write(o.metrics, rec, end_ms / 1000,
		    end_ms - o.started_ms, o.state) == -1)
			ret = ARC_EXIT_ERROR;
	}
	free(name);
	free(path);
	json_object_put(rec);
	runstats_free(&s);
	return ret;
}

/* ---- the end of a run: its summary line and exit status -------------- */

/*
 * Whether a phase's result lines hold one that is not deleted or gone:
 * a dry run's would-delete, a refusal, a failure, a change.
 */
static int
results_left(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	int left = 0;
	FILE *fp;

	if (path == NULL || (fp = fopen(path, "re")) == NULL)
		return 0;
	while (!left && getline(&line, &cap, fp) > 0)
		left = strncmp(line, "deleted\t", 8) != 0 &&
		    strncmp(line, "gone\t", 5) != 0;
	free(line);
	fclose(fp);
	return left;
}

/*
 * Print the run's summary line and return its exit status: 1 when drift
 * remains (dry-run candidates, cap leftovers, refusals, failures,
 * candidates whose re-check failed, a manifest phase held back by a
 * partial listing, candidates a phase left at the --max-duration
 * deadline; young files do not count), else 0.  With --detailed-exit, a
 * partial listing, then a cap hit, then a run cut short by
 * --max-duration, have their own.
 */
static int
cmd_summary(int argc, char *argv[])
{
	struct recopt o;
	struct runstats s;
	struct json_object *rec = NULL;
	struct arc_buf est = { 0 }, path = { 0 };
	int drift, cut, phase_cut;

	recopt_parse(argc, argv, &o);
	runstats_load(&s, &o);
	cut = window_cut(&o, &s, &phase_cut);
	/* a dry run's estimate, from its record (arc(7)) */
	if (!o.act && o.state != NULL) {
		arc_buf_printf(&path, "%s/runs/%s.json", o.state, o.id);
		rec = stats_load(path.s);
		arc_requests_summary(rec, &est);
		json_object_put(rec);
		arc_buf_free(&path);
	}
	drift = cap_hit(&s) || phase_cut || results_left(o.results1) ||
	    results_left(o.results2) || stats_int(s.rc1, "error") != 0 ||
	    stats_int(s.rc2, "error") != 0 || o.status[0] != 0 ||
	    o.status[1] != 0 || plan_left(o.plan_stats);
	fprintf(stderr, "%s: run %s %s: %jd manifest and %jd storage %s, %s%s%s\n",
	    program_invocation_short_name, o.id, o.act ? "act" : "dry-run",
	    (intmax_t)manifest_deletes(&s, &o),
	    (intmax_t)storage_deletes(&s, &o), o.act ? "deletes" :
	    "would-deletes", drift ? "drift remains" : "no drift remains",
	    est.len ? est.s : "",
	    cut ? " in the range listed; cut short by --max-duration" : "");
	arc_buf_free(&est);
	if (o.detailed_exit && o.walk_partial)
		drift = EXIT_PARTIAL;
	else if (o.detailed_exit && cap_hit(&s))
		drift = EXIT_CAP;
	else if (o.detailed_exit && cut)
		drift = EXIT_TIMEBOX;
	runstats_free(&s);
	return drift;
}

/*
 * The circuit breaker: drift this large is a wrong STORE or MANIFEST, a
 * second table in the same place, or a blind listing, not drift to
 * repair.  1 and the reason on standard output when either side's
 * orphans exceed ratio of its records; else 0.  Both sides' counts are
 * the records arc-diff read, as its -S says: a shard's share of each
 * (the manifest dump is whole), the whole of each unsharded.
 */
static int
cmd_breaker(int argc, char *argv[])
{
	struct json_object *diff;
	int64_t om, os, mc, sc;
	double r;

	if (argc != 3 || !ratio_ok(argv[1]))
		usage();
	r = strtod(argv[1], NULL);
	diff = stats_load(argv[2]);
	om = stats_int(diff, "orphan_manifest_count");
	os = stats_int(diff, "orphan_storage_count");
	mc = stats_int(diff, "manifest_file_count");
	sc = stats_int(diff, "storage_file_count");
	json_object_put(diff);
	if (r >= 1 || ((mc == 0 ? om == 0 : (double)om / (double)mc <= r) &&
	    (sc == 0 ? os == 0 : (double)os / (double)sc <= r)))
		return ARC_EXIT_OK;
	printf("orphan-manifest %jd of %jd entries, orphan-storage %jd of %jd "
	    "files: more than the --max-orphan-ratio %s; nothing deleted\n",
	    (intmax_t)om, (intmax_t)mc, (intmax_t)os, (intmax_t)sc, argv[1]);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_SOME;
}

/* ---- progress --------------------------------------------------------- */

/* The number the digits of a small file spell, 0 when there are none. */
static int64_t
file_count(const char *path)
{
	char buf[64];
	int64_t n = 0;
	ssize_t r, i;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return 0;
	if ((r = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < r; i++)
			if (buf[i] >= '0' && buf[i] <= '9' &&
			    n < INT64_MAX / 10 - 10)
				n = n * 10 + (buf[i] - '0');
	close(fd);
	return n;
}

/*
 * The driver's progress line on a terminal, once a second until killed:
 * the records a stage counted in count-file (the stages that sort write
 * nothing until the end) or the lines it wrote to file so far, whichever
 * is more, their rate, the time elapsed.
 */
static int
cmd_progress(int argc, char *argv[])
{
	struct arc_buf b = { 0 };
	int64_t n, w, el;
	time_t t0 = time(NULL);

	if (argc != 4)
		usage();
	for (;;) {
		sleep(1);
		n = file_count(argv[3]);
		if ((w = count_lines(argv[2])) > n)
			n = w;
		el = (int64_t)(time(NULL) - t0);
		fprintf(stderr, "\r\033[K%s: %jd records, %jd/s, %jds",
		    printable(&b, argv[1]), (intmax_t)n,
		    (intmax_t)(n / (el > 0 ? el : 1)), (intmax_t)el);
	}
	return ARC_EXIT_OK;	/* killed before */
}

/* ---- the state directory ---------------------------------------------- */

/* mkdir -p, each new directory private; -1 with errno set. */
static int
mkdir_p(const char *dir)
{
	char *p, *s, c;
	int r = 0;

	p = arc_estrdup(dir);
	for (s = p + 1; r == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			r = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return r;
}

/*
 * The state directory's own files and directories are never a symbolic
 * link (followed, it would make us write, chmod or prune another's files)
 * nor another kind of file (a FIFO as the lock would hang us).
 */
static void
state_check(const char *state)
{
	static const char *dirs[] = { "runs", "archives", "deferred" };
	static const char *files[] = { "lock", "audit.log" };
	struct stat sb;
	char *p;
	size_t i;

	for (i = 0; i < 5; i++) {
		const char *f = i < 3 ? dirs[i] : files[i - 3];

		p = arc_emalloc(strlen(state) + strlen(f) + 2);
		sprintf(p, "%s/%s", state, f);
		if (lstat(p, &sb) == 0 && (i < 3 ? !S_ISDIR(sb.st_mode) :
		    !S_ISREG(sb.st_mode)))
			errx(ARC_EXIT_ERROR, "'%s' is not a %s; refused", p,
			    i < 3 ? "directory" : "regular file");
		free(p);
	}
}

/*
 * Make the state directory and its runs, archives and deferred (mode
 * 0700) and its lock file, refusing any that is a link or another kind
 * of file: the driver then takes the lock.
 */
static int
cmd_state_init(int argc, char *argv[])
{
	static const char *sub[] = { "", "/runs", "/archives", "/deferred" };
	const char *state;
	struct stat sb;
	char *p;
	size_t i;
	int fd;

	if (argc != 2 || *argv[1] == '\0')
		usage();
	state = argv[1];
	if (mkdir_p(state) == -1)
		err(ARC_EXIT_ERROR, "cannot create '%s'", state);
	if (stat(state, &sb) == -1 || !S_ISDIR(sb.st_mode))
		errx(ARC_EXIT_ERROR, "'%s' is not a directory; refused", state);
	state_check(state);
	for (i = 0; i < 4; i++) {
		p = arc_emalloc(strlen(state) + strlen(sub[i]) + 1);
		sprintf(p, "%s%s", state, sub[i]);
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			err(ARC_EXIT_ERROR, "cannot create '%s'", p);
		free(p);
	}
	state_check(state);
	for (i = 0; i < 4; i++) {
		p = arc_emalloc(strlen(state) + strlen(sub[i]) + 1);
		sprintf(p, "%s%s", state, sub[i]);
		(void)chmod(p, 0700);	/* another's, or read-only: as it is */
		free(p);
	}
	p = arc_emalloc(strlen(state) + sizeof("/lock"));
	sprintf(p, "%s/lock", state);
	if ((fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600)) == -1)
		err(ARC_EXIT_ERROR, "cannot open '%s'", p);
	close(fd);
	free(p);
	return ARC_EXIT_OK;
}

/* ---- audit-verify ----------------------------------------------------- */

static int	in_flight(const char *);

/*
 * A run the state directory holds a trace of (its record in runs/, its
 * archive in archives/), and what the log says of it.
 */
struct vrun {
	char		*id;
	int		 record, archive;	/* where it was found */
	int		 started, ended;	/* its events in the log */
	int		 sha;			/* its end names archive_sha256 */
	struct timespec	 t;	/* its oldest file's mtime: the order */
};

/* An anchor kept outside the log, in anchors/ for a run record. */
struct vanchor {
	char		*from;		/* the file that keeps it */
	uintmax_t	 end;
	char		 sha[ARC_SHA256_HEX];
};

struct verify {
	const char	*state;
	uintmax_t	 archives, missing;
	struct vrun	*run;
	size_t		 nrun;
	struct vanchor	*anc;		/* by end, ascending */
	size_t		 nanc, next, held;
	const char	*want;		/* --anchor, or NULL */
	int		 found;
};

/* The run id, found in a file of time t. */
static struct vrun *
vrun_get(struct verify *v, const char *id, struct timespec t)
{
	struct vrun *r = NULL;
	size_t i;

	for (i = 0; i < v->nrun && r == NULL; i++)
		if (strcmp(v->run[i].id, id) == 0)
			r = &v->run[i];
	if (r == NULL) {
		v->run = arc_ereallocarray(v->run, v->nrun + 1,
		    sizeof(*v->run));
		r = &v->run[v->nrun++];
		memset(r, 0, sizeof(*r));
		r->id = arc_estrdup(id);
		r->t = t;
	}
	if (t.tv_sec < r->t.tv_sec || (t.tv_sec == r->t.tv_sec &&
	    t.tv_nsec < r->t.tv_nsec))
		r->t = t;
	return r;
}

/* Oldest first, so that the first run missing is the one named. */
static int
vrun_cmp(const void *a, const void *b)
{
	const struct vrun *x = a, *y = b;

	if (x->t.tv_sec != y->t.tv_sec)
		return x->t.tv_sec < y->t.tv_sec ? -1 : 1;
	if (x->t.tv_nsec != y->t.tv_nsec)
		return x->t.tv_nsec < y->t.tv_nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int
vanchor_cmp(const void *a, const void *b)
{
	const struct vanchor *x = a, *y = b;

	return x->end < y->end ? -1 : x->end > y->end;
}

/*
 * Take the anchor (audit_end, audit_sha256) that o, read from the file
 * from, keeps; -1 with a message when it is not an anchor.
 */
static int
vanchor_add(struct verify *v, struct json_object *o, const char *from)
{
	struct json_object *e, *h;
	struct vanchor *a;
	int has_e, has_h;

	has_e = json_object_object_get_ex(o, "audit_end", &e);
	has_h = json_object_object_get_ex(o, "audit_sha256", &h);
	if (!has_e || !has_h || !json_object_is_type(e, json_type_int) ||
	    json_object_get_int64(e) <= 0 ||
	    !json_object_is_type(h, json_type_string) ||
	    !sha256_hex_ok(json_object_get_string(h))) {
		warnx("'%s': its audit_end and audit_sha256 are not an anchor "
		    "of the audit log", from);
		return -1;
	}
	v->anc = arc_ereallocarray(v->anc, v->nanc + 1, sizeof(*v->anc));
	a = &v->anc[v->nanc++];
	a->from = arc_estrdup(from);
	a->end = (uintmax_t)json_object_get_int64(e);
	memcpy(a->sha, json_object_get_string(h), ARC_SHA256_HEX);
	return 0;
}

/*
 * What the state directory says the log must hold: the run of every
 * record in runs/ and of every archive in archives/, and the anchors
 * kept in anchors/ for the records (none for a record written before anchors,
 * or whose run could not write its last event).  -1 after a message when one of them
 * cannot be read or is not what it claims to be: a state directory that
 * cannot be checked is not taken for a whole one.
 */
static int
verify_state(struct verify *v)
{
	struct run *runs;
	struct json_object *h;
	struct dirent *de;
	struct stat st;
	const char *why;
	size_t n, i, len;
	char *p, *id, *text;
	DIR *d;
	int r = 0;

	if (runs_list(v->state, &runs, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		run_load(&runs[i]);
		if (runs[i].rec == NULL) {
			warnx("run record '%s': %s", runs[i].path, runs[i].why);
			r = -1;
			continue;
		}
		id = arc_estrdup(runs[i].name);
		id[strlen(id) - 5] = '\0';
		vrun_get(v, id, runs[i].mtime)->record = 1;
		p = arc_emalloc(strlen(v->state) + strlen(runs[i].name) +
		    sizeof("/anchors/"));
		sprintf(p, "%s/anchors/%s", v->state, runs[i].name);
		if ((text = arc_read_small(p, RECORD_MAX, &len)) == NULL) {
			if (errno != ENOENT) {
				warn("cannot read '%s'", p);
				r = -1;
			}
		} else if ((h = arc_json_parse_strict(text, len, &why)) ==
		    NULL) {
			warnx("'%s': %s", p, why);
			r = -1;
		} else {
			if (vanchor_add(v, h, p) == -1)
				r = -1;
			json_object_put(h);
		}
		free(text);
		free(p);
		free(id);
	}
	runs_free(runs, n);
	p = arc_emalloc(strlen(v->state) + sizeof("/archives"));
	sprintf(p, "%s/archives", v->state);
	if ((d = opendir(p)) == NULL) {
		if (errno != ENOENT) {
			warn("cannot read '%s'", p);
			r = -1;
		}
	} else {
		while ((de = readdir(d)) != NULL) {
			len = strlen(de->d_name);
			if (len <= 7 || strcmp(de->d_name + len - 7,
			    ".tar.gz") != 0)
				continue;
			id = arc_estrdup(de->d_name);
			id[len - 7] = '\0';
			if (valid_id(id) && fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				vrun_get(v, id, st.st_mtim)->archive = 1;
			free(id);
		}
		closedir(d);
	}
	free(p);
	if (v->nrun > 1)
		qsort(v->run, v->nrun, sizeof(*v->run), vrun_cmp);
	if (v->nanc > 1)
		qsort(v->anc, v->nanc, sizeof(*v->anc), vanchor_cmp);
	return r;
}

/*
 * A run's last event records the SHA-256 of its archive: the archive,
 * STATE/archives/RUN_ID.tar.gz, must still have it.  One that is gone
 * (pruned by an operator) is said, and does not break the chain.
 */
static int
verify_archive(struct verify *v, struct json_object *o,
    struct arc_audit_check *c)
{
	struct json_object *d, *x, *id;
	char sha[ARC_SHA256_HEX], *p;
	const char *want, *ev;

	if (!json_object_object_get_ex(o, "event", &x) ||
	    (ev = json_object_get_string(x)) == NULL ||
	    (strcmp(ev, "reconcile.run_completed") != 0 &&
	    strcmp(ev, "reconcile.run_aborted") != 0) ||
	    !json_object_object_get_ex(o, "detail", &d) ||
	    !json_object_is_type(d, json_type_object) ||
	    !json_object_object_get_ex(d, "archive_sha256", &x) ||
	    !json_object_object_get_ex(o, "run_id", &id))
		return 0;
	want = json_object_get_string(x);
	if (!json_object_is_type(id, json_type_string) ||
	    !valid_id(json_object_get_string(id))) {
		snprintf(c->why, sizeof(c->why), "a run id that names no "
		    "archive beside an archive_sha256");
		return -1;
	}
	p = arc_emalloc(strlen(v->state) + strlen(json_object_get_string(id)) +
	    sizeof("/archives/.tar.gz"));
	sprintf(p, "%s/archives/%s.tar.gz", v->state,
	    json_object_get_string(id));
	if (arc_sha256_file(p, sha) == -1) {
		if (errno != ENOENT) {
			snprintf(c->why, sizeof(c->why), "the archive '%s' of "
			    "run %s cannot be read: %s", p,
			    json_object_get_string(id), strerror(errno));
			free(p);
			return -1;
		}
		warnx("line %ju: the archive '%s' of run %s is missing "
		    "(pruned?): not checked", c->lines, p,
		    json_object_get_string(id));
		v->missing++;
		free(p);
		return 0;
	}
	if (strcmp(sha, want) != 0) {
		snprintf(c->why, sizeof(c->why), "the archive '%s' of run %s "
		    "is not the one the run wrote (SHA-256 %s, recorded %s): "
		    "swapped or changed", p, json_object_get_string(id), sha,
		    want);
		free(p);
		return -1;
	}
	v->archives++;
	free(p);
	return 0;
}

/*
 * Every line: the anchors kept outside the log must fall on a line's end
 * and have its hash; --anchor must be the hash of a chained line; a run
 * event marks its run seen (chained or not: a record written before the
 * chain has its events before it too); a chained run end has its archive
 * checked.
 */
static int
verify_line(void *arg, struct json_object *o, struct arc_audit_check *c)
{
	struct verify *v = arg;
	struct json_object *x, *d;
	struct vanchor *a;
	struct vrun *r = NULL;
	const char *ev = "";
	size_t i;

	for (; v->next < v->nanc && v->anc[v->next].end <= c->end; v->next++) {
		a = &v->anc[v->next];
		if (a->end < c->end) {
			snprintf(c->why, sizeof(c->why), "'%s' keeps the end "
			    "of a line at byte %ju, inside this line: the log "
			    "was edited before it", a->from, a->end);
			return -1;
		}
		if (strcmp(a->sha, c->hash) != 0) {
			snprintf(c->why, sizeof(c->why), "'%s' keeps SHA-256 "
			    "%s for the line that ends at byte %ju, this one; "
			    "it has %s: the log was edited or written anew",
			    a->from, a->sha, a->end, c->hash);
			return -1;
		}
		v->held++;
	}
	if (v->want != NULL && c->first != 0 && strcmp(v->want, c->hash) == 0)
		v->found = 1;
	if (o != NULL && json_object_object_get_ex(o, "event", &x) &&
	    json_object_is_type(x, json_type_string))
		ev = json_object_get_string(x);
	if (o != NULL && json_object_object_get_ex(o, "run_id", &x) &&
	    json_object_is_type(x, json_type_string))
		for (i = 0; i < v->nrun && r == NULL; i++)
			if (strcmp(v->run[i].id, json_object_get_string(x)) == 0)
				r = &v->run[i];
	if (r != NULL && strcmp(ev, "reconcile.run_started") == 0)
		r->started = 1;
	if (r != NULL && (strcmp(ev, "reconcile.run_completed") == 0 ||
	    strcmp(ev, "reconcile.run_aborted") == 0)) {
		r->ended = 1;
		r->sha = json_object_object_get_ex(o, "detail", &d) &&
		    json_object_object_get_ex(d, "archive_sha256", &x);
	}
	return c->first != 0 ? verify_archive(v, o, c) : 0;
}

/*
 * After the walk: what the state directory holds that the log does not.
 * 1 with a message naming the first run (by id) or anchor missing; 0.
 */
static int
verify_missing(struct verify *v, const char *path, struct arc_audit_check *c)
{
	struct vrun *r;
	size_t i;
	int busy = -1;

	if (v->next < v->nanc) {
		warnx("'%s': the log ends at byte %ju, before the line that "
		    "'%s' keeps at byte %ju: lines were cut from its end, or "
		    "it was written anew", path, c->end, v->anc[v->next].from,
		    v->anc[v->next].end);
		return 1;
	}
	for (i = 0; i < v->nrun; i++) {
		r = &v->run[i];
		if (r->started && r->ended && (!r->archive || r->sha))
			continue;
		/* the run holding the lock has not written its end yet */
		if (r->started && !r->ended) {
			if (busy == -1)
				busy = in_flight(v->state);
			if (busy) {
				warnx("run %s: no end in the log yet, and a run "
				    "holds the lock: not checked", r->id);
				continue;
			}
		}
		warnx("'%s': run %s has %s in the state directory, but the "
		    "log holds %s: runs were cut from the log, or it was "
		    "emptied or replaced", path, r->id, r->record ?
		    "a run record" : "an archive", !r->started ?
		    "no reconcile.run_started for it" : !r->ended ?
		    "no reconcile.run_completed or run_aborted for it" :
		    "no archive_sha256 for its archive");
		return 1;
	}
	if (v->want != NULL && !v->found) {
		warnx("'%s': no chained line has the SHA-256 %s given with "
		    "--anchor: the log was edited, cut or written anew since "
		    "that line", path, v->want);
		return 1;
	}
	return 0;
}

static int
cmd_audit_verify(int argc, char *argv[])
{
	struct arc_audit_check c;
	struct verify v = { 0 };
	char *path;
	size_t i;
	int ch, r;

	optind = 1;
	while ((ch = getopt(argc, argv, "a:")) != -1) {
		switch (ch) {
		case 'a':
			if (!sha256_hex_ok(optarg))
				errx(ARC_EXIT_ERROR, "'%s': not a SHA-256 (64 "
				    "hexadecimal digits)", optarg);
			v.want = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	v.state = argv[optind];
	path = audit_path(v.state);
	r = verify_state(&v);
	if (r == 0)
		r = arc_audit_verify(path, verify_line, &v, &c);
	if (r == 1)
		warnx("'%s': line %ju breaks the chain: %s", path, c.bad,
		    c.why);
	else if (r == 0)
		r = verify_missing(&v, path, &c);
	if (r == 0 && c.first == 0)
		printf("'%s': %ju lines, none with prev_sha256: nothing to "
		    "verify; %zu runs of the state directory in the log\n",
		    path, c.lines, v.nrun);
	else if (r == 0)
		printf("'%s': %ju lines, the chain whole from line %ju (%ju "
		    "before it written without one, not verified); %ju "
		    "archives match, %ju missing; %zu runs of the state "
		    "directory in the log, %zu anchors held; last line "
		    "SHA-256 %s\n", path, c.lines, c.first, c.first - 1,
		    v.archives, v.missing, v.nrun, v.held, c.last);
	for (i = 0; i < v.nrun; i++)
		free(v.run[i].id);
	for (i = 0; i < v.nanc; i++)
		free(v.anc[i].from);
	free(v.run);
	free(v.anc);
	free(path);
	if (r == -1)
		return ARC_EXIT_ERROR;
	if (r == 1)
		return ARC_EXIT_SOME;
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

/* ---- status and show -------------------------------------------------- */

static const char *
field_text(struct arc_buf *b, struct json_object *rec, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(rec, key, &v) || v == NULL)
		return "";
	return printable(b, json_object_get_string(v));
}

static void
status_table(struct run *runs, size_t n)
{
	struct arc_buf b[8] = { { 0 } };
	struct json_object *v;
	const char *mode, *res;
	struct arc_buf rb = { 0 };
	size_t i, j;

	printf("%-36s  %-20s  %-7s  %-26s  %8s  %8s  %5s  %7s\n", "ID",
	    "STARTED", "MODE", "RESULT", "MANIFEST", "STORAGE", "CAP",
	    "PARTIAL");
	for (i = 0; i < n; i++) {
		struct json_object *r = runs[i].rec;

		if (r == NULL) {
			/* flagged, never guessed at */
			printf("%-36.*s  %-20s  %-7s  %-26s  %8s  %8s  %5s  "
			    "%7s\n", (int)(strlen(runs[i].name) - 5),
			    runs[i].name, "-", "-", "unreadable", "-", "-",
			    "-", "-");
			continue;
		}
		json_object_object_get_ex(r, "dry_run", &v);
		mode = json_object_get_boolean(v) ? "dry-run" : "act";
		json_object_object_get_ex(r, "aborted", &v);
		rb.len = 0;
		if (json_object_get_boolean(v)) {
			arc_buf_adds(&rb, "aborted:");
			arc_buf_adds(&rb, field_text(&b[0], r, "abort_reason"));
			res = arc_buf_str(&rb);
		} else
			res = "completed";
		printf("%-36s  %-20s  %-7s  %-26s  %8s  %8s  %5s  %7s\n",
		    field_text(&b[1], r, "id"),
		    field_text(&b[2], r, "started_at"), mode, res,
		    field_text(&b[3], r, "manifest_deletes"),
		    field_text(&b[4], r, "storage_deletes"),
		    field_text(&b[5], r, "cap_hit"),
		    field_text(&b[6], r, "walk_partial"));
	}
	for (j = 0; j < 8; j++)
		arc_buf_free(&b[j]);
	arc_buf_free(&rb);
}

/* Whether a run holds the state directory's lock now. */
static int
in_flight(const char *state)
{
	struct stat sb;
	char *p;
	int fd, held = 0;

	p = arc_emalloc(strlen(state) + sizeof("/lock"));
	sprintf(p, "%s/lock", state);
	/* a FIFO or a device planted there is never waited on */
	if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) != -1) {
		if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    flock(fd, LOCK_SH | LOCK_NB) == -1)
			held = errno == EWOULDBLOCK;
		close(fd);
	}
	free(p);
	return held;
}

static void
status_json(const char *state, struct run *runs, size_t n)
{
	struct json_object *o, *recent, *v, *first = NULL;
	char buf[64];
	size_t i;

	for (i = 0; i < n && first == NULL; i++)
		first = runs[i].rec;
	o = json_object_new_object();
	if (first != NULL && json_object_object_get_ex(first, "backend_kind",
	    &v))
		json_object_object_add(o, "backend_kind", json_object_get(v));
	else
		json_object_object_add(o, "backend_kind",
		    json_object_new_string("shared"));
	json_object_object_add(o, "clock_skew_allowance",
	    json_object_new_string(go_duration(knob("skew")->secs, buf,
	    sizeof(buf))));
	add_bool(o, "enabled", 1);
	json_object_object_add(o, "grace_window", json_object_new_string(
	    go_duration(knob("grace")->secs, buf, sizeof(buf))));
	add_bool(o, "in_flight", in_flight(state));
	if (first != NULL)
		json_object_object_add(o, "last_run", json_object_get(first));
	add_bool(o, "manifest_only_dry_run", 1);
	add_int(o, "max_deletes_per_run", strtoll(knob("max_deletes")->norm,
	    NULL, 10));
	add_int(o, "max_manifest_size", strtoll(knob("max_manifest")->norm,
	    NULL, 10));
	json_object_object_add(o, "max_run_duration", json_object_new_string(
	    go_duration(knob("max_duration")->secs, buf, sizeof(buf))));
	if (first != NULL) {
		recent = json_object_new_array();
		for (i = 0; i < n; i++)
			if (runs[i].rec != NULL)
				json_object_array_add(recent,
				    json_object_get(runs[i].rec));
		json_object_object_add(o, "recent_runs", recent);
	}
	add_bool(o, "running", 0);
	json_object_object_add(o, "schedule", json_object_new_string(""));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int
cmd_status(int argc, char *argv[])
{
	struct run *runs;
	size_t n, i;
	int json = 0, ret = ARC_EXIT_OK;

	if (argc == 3 && strcmp(argv[1], "-j") == 0) {
		json = 1;
		argv++;
		argc--;
	}
	if (argc != 2)
		usage();
	/* the knobs reported must be valid ones: else exit 2 naming them */
	if (json)
		knobs_settle();
	if (runs_list(argv[1], &runs, &n) == -1)
		return ARC_EXIT_ERROR;
	for (i = 0; i < n; i++) {
		run_load(&runs[i]);
		if (runs[i].rec == NULL)
			warnx("'%s': unreadable run record, left out: %s",
			    runs[i].path, runs[i].why);
	}
	if (json)
		status_json(argv[1], runs, n);
	else
		status_table(runs, n);
	runs_free(runs, n);
	if (arc_fshut(stdout, "<stdout>"))
		ret = ARC_EXIT_ERROR;
	return ret;
}

/* The record of run id in state, read and checked; exit 2 without one. */
static void
run_find(const char *state, const char *id, struct run *r)
{
	struct arc_buf b = { 0 };

	if (id[0] == '\0' || id[0] == '.' || strchr(id, '/'))
		errx(ARC_EXIT_ERROR, "'%s': invalid run id", printable(&b, id));
	if (!valid_id(id))		/* no record is named so */
		errx(ARC_EXIT_ERROR, "'%s': no such run in '%s/runs'",
		    printable(&b, id), state);
	r->name = arc_emalloc(strlen(id) + 6);
	sprintf(r->name, "%s.json", id);
	r->path = arc_emalloc(strlen(state) + strlen(r->name) + 8);
	sprintf(r->path, "%s/runs/%s", state, r->name);
	run_load(r);
	if (r->text == NULL && errno == ENOENT)
		errx(ARC_EXIT_ERROR, "'%s': no such run in '%s/runs'", id,
		    state);
	if (r->rec == NULL)
		errx(ARC_EXIT_ERROR, "'%s': unreadable run record: %s",
		    printable(&b, r->path), r->why);
}

static int
cmd_show(int argc, char *argv[])
{
	struct run r = { 0 };
	int ret = ARC_EXIT_OK;

	if (argc != 3)
		usage();
	run_find(argv[1], argv[2], &r);
	fwrite(r.text, 1, r.len, stdout);
	if (r.len > 0 && r.text[r.len - 1] != '\n')
		putchar('\n');
	if (arc_fshut(stdout, "<stdout>"))
		ret = ARC_EXIT_ERROR;
	free(r.name);
	free(r.path);
	free(r.text);
	json_object_put(r.rec);
	return ret;
}

/*
 * What run id decided about a path, from its archive's explain/ members
 * (arc-reconcile explain): 0, 1 when the run never saw the path, 2.
 */
static int
cmd_explain(int argc, char *argv[])
{
	struct json_object *v;
	struct arc_buf head = { 0 };
	struct run r = { 0 };
	char *archive;
	int ret, aborted;

	if (argc != 4)
		usage();
	run_find(argv[1], argv[2], &r);
	archive = arc_emalloc(strlen(argv[1]) + strlen(argv[2]) +
	    sizeof("/archives/.tar.gz"));
	sprintf(archive, "%s/archives/%s.tar.gz", argv[1], argv[2]);
	if (access(archive, F_OK) == -1)
		errx(ARC_EXIT_ERROR, "run %s: no archive '%s' to explain from",
		    argv[2], archive);
	json_object_object_get_ex(r.rec, "aborted", &v);
	aborted = json_object_get_boolean(v);
	json_object_object_get_ex(r.rec, "dry_run", &v);
	arc_buf_printf(&head, "run\t%s\t%s\t%s", argv[2],
	    json_object_get_boolean(v) ? "dry-run" : "act",
	    aborted ? "aborted" : "completed");
	if (aborted && json_object_object_get_ex(r.rec, "abort_reason", &v) &&
	    json_object_is_type(v, json_type_string))
		arc_buf_printf(&head, " (%s)", json_object_get_string(v));
	arc_buf_addc(&head, '\n');
	ret = arc_explain(stdout, arc_buf_str(&head), archive, argv[3],
	    strlen(argv[3]));
	arc_buf_free(&head);
	if (arc_fshut(stdout, "<stdout>"))
		ret = ARC_EXIT_ERROR;
	free(archive);
	free(r.name);
	free(r.path);
	free(r.text);
	json_object_put(r.rec);
	return ret;
}

/* ---- plan and apply: the plan file ------------------------------------ */

/*
 * A local operand (no scheme) made absolute by the working directory, a
 * link in it not resolved, so that a plan is applied from anywhere.
 */
static const char *
absolute(struct arc_buf *b, const char *op)
{
	char *cwd;

	if (op[0] == '/' || strstr(op, "://") != NULL || strcmp(op, "-") == 0)
		return op;
	if ((cwd = getcwd(NULL, 0)) == NULL)
		err(ARC_EXIT_ERROR, "getcwd");
	b->len = 0;
	arc_buf_printf(b, "%s/%s", cwd, op);
	free(cwd);
	return arc_buf_str(b);
}

/* plan-version manifest target: the manifest's version lines, now. */
static int
cmd_plan_version(int argc, char *argv[])
{
	struct arc_buf b = { 0 };

	if (argc != 3)
		usage();
	if (arc_planfile_version(&b, argv[1], argv[2]) == -1)
		return ARC_EXIT_ERROR;
	fwrite(b.s, 1, b.len, stdout);
	arc_buf_free(&b);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

/*
 * plan-write: PLAN from the dry run: its id and time, the store, the
 * manifest and the version plan-version saw before the dump (--version),
 * the entries the dump read, the cutoff, the option lines config
 * settled, whether the listing was partial or the run aborted, and the
 * would-delete lines of both phases' results; sealed, written whole.
 */
static int
cmd_plan_write(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "id", required_argument, NULL, 'i' },
		{ "started-ms", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 's' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "version", required_argument, NULL, 'v' },
		{ "entries", required_argument, NULL, 'e' },
		{ "options", required_argument, NULL, 'O' },
		{ "grace-s", required_argument, NULL, 'g' },
		{ "skew-s", required_argument, NULL, 'k' },
		{ "now", required_argument, NULL, 'n' },
		{ "walk-partial", no_argument, NULL, 'w' },
		{ "abort", required_argument, NULL, 'x' },
		{ "results", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *id = NULL, *store = NULL, *man = NULL;
	const char *version = NULL, *entries = NULL, *options = "";
	const char *now = NULL, *abrt = NULL, *res[2] = { NULL, NULL };
	struct arc_buf b = { 0 }, c = { 0 }, abs = { 0 };
	struct arc_reader rd;
	struct arc_record rec;
	char tbuf[ARC_TIME_BUFSZ], *ver = NULL;
	long long started = 0, grace = 0, skew = 0;
	int64_t base;
	size_t i, n, ncand = 0;
	FILE *fp;
	int ch, partial = 0, nres = 0, k;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'i': id = optarg; break;
		case 't':
		case 'g':
		case 'k':
			if (arc_parse_count(optarg, 0, LLONG_MAX, ch == 't' ?
			    &started : ch == 'g' ? &grace : &skew) == -1)
				errx(ARC_EXIT_ERROR, "'%s': not a whole number",
				    optarg);
			break;
		case 's': store = optarg; break;
		case 'm': man = optarg; break;
		case 'v': version = optarg; break;
		case 'e': entries = optarg; break;
		case 'O': options = optarg; break;
		case 'n': now = optarg; break;
		case 'w': partial = 1; break;
		case 'x': abrt = optarg; break;
		case 'r':
			if (nres == 2)
				usage();
			res[nres++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind != argc || out == NULL || id == NULL || store == NULL ||
	    man == NULL)
		usage();
	/* a plan names its store and manifest whole: never with a password */
	if (arc_refuse_secret(store, "store") == -1 ||
	    arc_refuse_secret(man, "manifest") == -1)
		return ARC_EXIT_ERROR;
	base = started / 1000;
	if (now != NULL && arc_time_parse(now, strlen(now), ARC_TIME_LENIENT,
	    &base) == -1)
		errx(ARC_EXIT_ERROR, "'%s': not a time", now);
	arc_planfile_begin(&b);
	arc_planfile_field(&b, "id", id);
	arc_planfile_field(&b, "created", arc_time_format(started / 1000,
	    tbuf));
	arc_buf_printf(&b, "created_ms %lld\n", started);
	arc_planfile_field(&b, "store", absolute(&abs, store));
	arc_planfile_field(&b, "manifest", absolute(&abs, man));
	/* no version when the run stopped before it was read */
	if (version != NULL && (ver = arc_read_small(version, RECORD_MAX, &n)) !=
	    NULL && n > 0)
		arc_buf_add(&b, ver, n);
	else
		arc_planfile_field(&b, "manifest_kind", "unknown");
	free(ver);
	arc_buf_printf(&b, "manifest_entries %jd\n",
	    (intmax_t)count_lines(entries));
	arc_planfile_field(&b, "cutoff", arc_time_format(base - grace - skew,
	    tbuf));
	arc_buf_adds(&b, options);
	arc_planfile_field(&b, "listing", partial ? "partial" : "complete");
	arc_planfile_field(&b, "aborted", abrt ? abrt : "no");
	for (k = 0; k < nres; k++) {
		if ((fp = fopen(res[k], "r")) == NULL)
			continue;	/* the phase did not run */
		arc_reader_init(&rd, fp, res[k], ARC_REC_RESULT, 0);
		while ((i = (size_t)arc_reader_next(&rd, &rec)) == 1) {
			if (rec.reasonlen != 12 ||
			    memcmp(rec.reason, "would-delete", 12) != 0)
				continue;
			arc_buf_printf(&c, "candidate %s %s ",
			    ARC_KIND_NAME(rec.kind), arc_reason_name(rec.code));
			arc_buf_add(&c, rec.qpath, rec.qpathlen);
			arc_buf_addc(&c, '\n');
			ncand++;
		}
		arc_reader_free(&rd);
		fclose(fp);
		if (i != 0)
			errx(ARC_EXIT_ERROR, "plan '%s' not written: '%s' could "
			    "not be read", out, res[k]);
	}
	arc_buf_printf(&b, "candidates %zu\n", ncand);
	arc_buf_add(&b, c.s, c.len);
	/* what is at PLAN now, as config asked before the run */
	if (arc_planfile_out_ok(out, NULL, NULL) == -1 ||
	    arc_planfile_save(out, &b) == -1)
		return ARC_EXIT_ERROR;
	if (abrt != NULL || partial)
		warnx("plan '%s': %zu candidates; it is never applied: %s", out,
		    ncand, abrt ? "the run aborted" : "the listing was partial");
	else
		warnx("plan '%s': %zu candidates; apply with: arc-reconcile "
		    "apply %s", out, ncand, out);
	arc_buf_free(&b);
	arc_buf_free(&c);
	arc_buf_free(&abs);
	return ARC_EXIT_OK;
}

/*
 * plan-filter plan sha256 manifest target records stats: the candidate
 * records on standard input that PLAN lists, on standard output; the
 * others are dropped.  PLAN must still be the plan config read (sha256)
 * and the manifest must not have moved since (again, now that the dump
 * is read: records, its entries).  stats gets plan_candidates,
 * not_in_plan (live candidates dropped) and plan_skipped (the plan's
 * that are candidates no longer).  Exit 2 after a message: nothing is
 * passed on then.
 */
static int
cmd_plan_filter(int argc, char *argv[])
{
	struct arc_planfile p;
	struct arc_plancand *c;
	struct arc_reader rd;
	struct arc_record rec;
	struct json_object *st;
	struct arc_buf out = { 0 };
	int64_t dropped = 0, skipped = 0;
	size_t i;
	int r;

	if (argc != 7)
		usage();
	if (arc_planfile_read(argv[1], &p) == -1)
		return ARC_EXIT_ERROR;
	if (strcmp(p.seal, argv[2]) != 0) {
		warnx("plan '%s' was replaced while it was applied", argv[1]);
		return ARC_EXIT_ERROR;
	}
	if (arc_planfile_check(&p, argv[3], argv[4], count_lines(argv[5])) ==
	    -1)
		return ARC_EXIT_ERROR;
	arc_reader_init(&rd, stdin, "<stdin>", ARC_REC_CANDIDATE, 0);
	while ((r = arc_reader_next(&rd, &rec)) == 1) {
		if ((c = arc_planfile_find(&p, rec.kind, rec.qpath,
		    rec.qpathlen)) == NULL) {
			dropped++;
			continue;
		}
		c->seen = 1;
		arc_buf_add(&out, rec.line, rec.linelen);
		arc_buf_addc(&out, '\n');
	}
	arc_reader_free(&rd);
	if (r == -1)
		return ARC_EXIT_ERROR;
	for (i = 0; i < p.ncand; i++)
		skipped += !p.cand[i].seen;
	st = json_object_new_object();
	add_int(st, "plan_candidates", (int64_t)p.ncand);
	add_int(st, "not_in_plan", dropped);
	add_int(st, "plan_skipped", skipped);
	r = arc_json_save_line(argv[6], st, 0600);
	json_object_put(st);
	arc_planfile_free(&p);
	if (r == -1)
		return ARC_EXIT_ERROR;
	if (out.len > 0)
		fwrite(out.s, 1, out.len, stdout);
	arc_buf_free(&out);
	return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : ARC_EXIT_OK;
}

int
main(int argc, char *argv[])
{
	char *id;
	int ch;

	arc_errstatus = ARC_EXIT_ERROR;
	while ((ch = arc_getopt(argc, argv, "+n:", NULL, usage_text)) != -1) {
		switch (ch) {
		case 'n':
			/* messages name the program the user ran */
			program_invocation_short_name = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "config") == 0)
		return cmd_config(argc, argv);
	if (strcmp(argv[0], "get") == 0)
		return cmd_get(argc, argv);
	if (strcmp(argv[0], "audit") == 0)
		return cmd_audit(argc, argv);
	if (strcmp(argv[0], "record") == 0)
		return cmd_record(argc, argv);
	if (strcmp(argv[0], "metrics") == 0)
		return cmd_metrics(argc, argv);
	if (strcmp(argv[0], "status") == 0)
		return cmd_status(argc, argv);
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(argv[0], "explain") == 0)
		return cmd_explain(argc, argv);
	if (strcmp(argv[0], "state-init") == 0)
		return cmd_state_init(argc, argv);
	if (strcmp(argv[0], "breaker") == 0)
		return cmd_breaker(argc, argv);
	if (strcmp(argv[0], "summary") == 0)
		return cmd_summary(argc, argv);
	if (strcmp(argv[0], "window") == 0)
		return cmd_window(argc, argv);
	if (strcmp(argv[0], "audit-verify") == 0)
		return cmd_audit_verify(argc, argv);
	if (strcmp(argv[0], "progress") == 0)
		return cmd_progress(argc, argv);
	if (strcmp(argv[0], "plan-version") == 0)
		return cmd_plan_version(argc, argv);
	if (strcmp(argv[0], "plan-write") == 0)
		return cmd_plan_write(argc, argv);
	if (strcmp(argv[0], "plan-filter") == 0)
		return cmd_plan_filter(argc, argv);
	if (strcmp(argv[0], "usage") == 0 && argc == 1) {
		fputs(driver_usage, stdout);
		return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : 0;
	}
	if (strcmp(argv[0], "id") == 0 && argc == 1) {
		puts(id = arc_run_id());
		free(id);
		return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : 0;
	}
	if (strcmp(argv[0], "now") == 0 && argc == 1) {
		printf("%jd\n", (intmax_t)arc_time_now_ms());
		return arc_fshut(stdout, "<stdout>") ? ARC_EXIT_ERROR : 0;
	}
	usage();
}
