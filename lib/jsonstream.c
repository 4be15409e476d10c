/*
 * jsonstream.c - read FileEntry objects from Arc manifest bodies
 * ({"files":[...],"total":N,...}, several concatenated) or NDJSON, in
 * memory bounded by the largest single entry.
 *
 * json-c builds whole trees and has no streaming interface, so a small
 * scanner here only finds where each top-level object and each element
 * of a top-level "files" array begins and ends; json-c parses every piece
 * it finds.  The scanner also counts object keys, so that a duplicate key
 * (which json-c silently collapses) is caught by comparing counts.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arc.h"

enum mode {
	M_TOP,		/* between top-level values */
	M_OBJ,		/* inside a top-level object, outside "files" */
	M_FILES,	/* inside "files", between elements */
	M_ELEM		/* inside one element of "files" */
};

struct js {
	const char	*name;
	arc_entry_fn	 fn;
	void		*arg;
	json_tokener	*tok;
	uintmax_t	 line;
	enum mode	 mode;
	int		 instr, esc;
	int		 depth;		/* in the top-level object */
	int		 edepth;	/* in the current element */
	int		 keyexp;	/* the next string at this level is a key */
	int		 inkey;
	int		 filescolon;	/* saw "files": at depth 1 */
	int		 streamed;	/* "files" was streamed */
	int		 entkeyexp;	/* same, in the element */
	int		 prevc;		/* the byte before, outside strings */
	int		 innum;		/* in a run of digits */
	int		 numskip;	/* a fraction or exponent: not checked */
	uint64_t	 num;
	size_t		 objkeys, entkeys, nelem;
	struct arc_json_meta *meta;	/* what the bodies said, or NULL */
	uintmax_t	 objline, entline;
	struct arc_buf	 obj, ent, key, err;
};

static int
fail(struct js *j, uintmax_t line, const char *what)
{
	warnx("'%s': %s at line %ju", j->name, what, line);
	return -1;
}

/* Parse buf completely with json-c; NULL with a message on error. */
static struct json_object *
parse(struct js *j, struct arc_buf *b, uintmax_t line, int *isnull)
{
	struct json_object *o;
	enum json_tokener_error e;

	*isnull = 0;
	/*
	 * Include the terminating NUL: json-c cannot tell that a bare
	 * literal such as null has ended without seeing what follows it.
	 */
	json_tokener_reset(j->tok);
	o = json_tokener_parse_ex(j->tok, arc_buf_str(b), (int)b->len + 1);
	e = json_tokener_get_error(j->tok);
	if (e == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(j->tok) < b->len)
		e = json_tokener_error_parse_unexpected;
	if (e != json_tokener_success) {
		json_object_put(o);
		j->err.len = 0;
		arc_buf_printf(&j->err, "invalid JSON (%s)",
		    json_tokener_error_desc(e));
		fail(j, line, arc_buf_str(&j->err));
		return NULL;
	}
	if (o == NULL)
		*isnull = 1;
	return o;
}

static int
entry(struct js *j, struct json_object *o, size_t keys, uintmax_t line)
{
	struct arc_entry e;
	int r;

	if (json_object_is_type(o, json_type_object) &&
	    (size_t)json_object_object_length(o) != keys)
		return fail(j, line, "duplicate key in entry");
	if (arc_entry_from_json(o, &e, &j->err) == -1)
		return fail(j, line, arc_buf_str(&j->err));
	e.json = o;
	r = j->fn(j->arg, &e, line);
	arc_entry_free(&e);
	return r;
}

static int
end_elem(struct js *j)
{
	struct json_object *o;
	int isnull, r;

	j->nelem++;
	if ((o = parse(j, &j->ent, j->entline, &isnull)) == NULL)
		return isnull ? 0 : -1;	/* Arc skips null entries */
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return fail(j, j->entline, "element of 'files' is not an object");
	}
	r = entry(j, o, j->entkeys, j->entline);
	json_object_put(o);
	return r;
}

/* A whole top-level object: an Arc body, or one NDJSON FileEntry. */
static int
end_obj(struct js *j)
{
	struct json_object *o, *v, *files, *el;
	int isnull, r = 0;
	size_t i, n, total;

	if ((o = parse(j, &j->obj, j->objline, &isnull)) == NULL)
		return -1;
	if ((size_t)json_object_object_length(o) != j->objkeys) {
		r = fail(j, j->objline, "duplicate key in object");
		goto out;
	}
	if (json_object_object_get_ex(o, "enabled", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v)) {
		j->err.len = 0;
		arc_buf_adds(&j->err, "clustering is not enabled on the source");
		if (json_object_object_get_ex(o, "reason", &v) &&
		    json_object_is_type(v, json_type_string))
			arc_buf_printf(&j->err, " (%s)",
			    json_object_get_string(v));
		r = fail(j, j->objline, arc_buf_str(&j->err));
		goto out;
	}
	if (!json_object_object_get_ex(o, "files", &files)) {
		if (json_object_object_get_ex(o, "path", NULL))
			r = entry(j, o, j->objkeys, j->objline);
		else if (json_object_object_get_ex(o, "error", &v) &&
		    json_object_is_type(v, json_type_string)) {
			j->err.len = 0;
			arc_buf_printf(&j->err, "source reports an error: %s",
			    json_object_get_string(v));
			r = fail(j, j->objline, arc_buf_str(&j->err));
		} else
			r = fail(j, j->objline,
			    "object has neither 'files' nor 'path'");
		goto out;
	}
	/* A "files" member: a manifest body. */
	if (j->meta != NULL) {
		j->meta->bodies++;
		j->meta->next_cursor.len = 0;
		j->meta->have_cursor = 0;
		if (json_object_object_get_ex(o, "next_cursor", &v) &&
		    json_object_is_type(v, json_type_string)) {
			arc_buf_add(&j->meta->next_cursor,
			    json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
			j->meta->have_cursor = 1;
		}
		arc_buf_str(&j->meta->next_cursor);
	}
	if (files != NULL && !json_object_is_type(files, json_type_array)) {
		r = fail(j, j->objline, "'files' is not an array");
		goto out;
	}
	/* An array the scanner did not recognise (an escaped key name). */
	n = files ? json_object_array_length(files) : 0;
	for (i = 0; i < n && r == 0; i++) {
		el = json_object_array_get_idx(files, i);
		j->nelem++;
		if (el == NULL)
			continue;
		r = entry(j, el, json_object_is_type(el, json_type_object) ?
		    (size_t)json_object_object_length(el) : 0, j->objline);
	}
	if (r == 0 && json_object_object_get_ex(o, "total", &v) &&
	    v != NULL) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 0)
			r = fail(j, j->objline, "'total' is not a count");
		else if ((total = (size_t)json_object_get_int64(v)) != j->nelem) {
			j->err.len = 0;
			arc_buf_printf(&j->err, "'total' is %zu but the page "
			    "holds %zu entries", total, j->nelem);
			r = fail(j, j->objline, arc_buf_str(&j->err));
		}
	}
out:
	json_object_put(o);
	return r;
}

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Track strings and escapes; 1 when c was part of a string. */
static int
string_char(struct js *j, int c)
{
	if (!j->instr)
		return 0;
	if (j->esc)
		j->esc = 0;
	else if (c == '\\')
		j->esc = 1;
	else if (c == '"')
		j->instr = 0;
	return 1;
}

/*
 * Inside a string, the bytes before the next quote, backslash or newline
 * mean nothing to the scanner, and step() would only append them one by
 * one: append the whole run at once, which is most of every entry.
 * Returns how many of the n > 0 bytes at s were taken; on 0, the next
 * byte goes to step().  The run stops where step() would fail on size.
 */
static size_t
string_run(struct js *j, const char *s, size_t n)
{
	struct arc_buf *b;
	size_t k;

	if (!j->instr || j->esc)
		return 0;
	if (j->mode == M_OBJ)
		b = &j->obj;
	else if (j->mode == M_ELEM)
		b = &j->ent;
	else
		return 0;
	if (b->len >= ARC_ENTRY_MAX)
		return 0;
	if (n > ARC_ENTRY_MAX - b->len)
		n = ARC_ENTRY_MAX - b->len;
	for (k = 0; k < n && s[k] != '"' && s[k] != '\\' && s[k] != '\n'; k++)
		;
	arc_buf_add(b, s, k);
	if (j->mode == M_OBJ && j->inkey)
		arc_buf_add(&j->key, s, k);
	return k;
}

/*
 * json-c silently clamps an integer too large for 64 bits; refuse such a
 * number here, where its digits are still at hand.
 */
static int
number_char(struct js *j, int c, uintmax_t line)
{
	unsigned d = (unsigned)(c - '0');

	if (d <= 9) {
		if (!j->innum) {
			j->innum = 1;
			j->num = 0;
			j->numskip = j->prevc == '.' || j->prevc == 'e' ||
			    j->prevc == 'E' || j->prevc == '+' ||
			    (j->prevc == '-' && j->numskip == 2);
		}
		if (!j->numskip) {
			if (j->num > (UINT64_MAX - d) / 10)
				return fail(j, line, "number too large");
			j->num = j->num * 10 + d;
		}
	} else {
		j->innum = 0;
		/* remember an exponent sign, "1e-5" */
		j->numskip = (c == 'e' || c == 'E') ? 2 : 0;
	}
	j->prevc = c;
	return 0;
}

static int
step(struct js *j, int c)
{
	switch (j->mode) {
	case M_TOP:
		if (is_ws(c))
			return 0;
		if (c != '{')
			return fail(j, j->line, "expected '{'");
		j->mode = M_OBJ;
		j->depth = 1;
		j->obj.len = 0;
		arc_buf_addc(&j->obj, c);
		j->keyexp = 1;
		j->objkeys = 0;
		j->nelem = 0;
		j->filescolon = 0;
		j->objline = j->line;
		return 0;

	case M_OBJ:
		if (j->obj.len >= ARC_ENTRY_MAX)
			return fail(j, j->objline, "object larger than 1 MiB");
		if (string_char(j, c)) {
			arc_buf_addc(&j->obj, c);
			if (j->inkey) {
				if (j->instr)
					arc_buf_addc(&j->key, c);
				else
					j->inkey = 0;
			}
			return 0;
		}
		if (number_char(j, c, j->objline) == -1)
			return -1;
		if (j->filescolon && !is_ws(c)) {
			j->filescolon = 0;
			if (c == '[') {
				/* stream the elements; keep "[]" in place */
				arc_buf_adds(&j->obj, "[]");
				j->mode = M_FILES;
				j->keyexp = 0;
				return 0;
			}
		}
		arc_buf_addc(&j->obj, c);
		switch (c) {
		case '"':
			j->instr = 1;
			if (j->depth == 1 && j->keyexp) {
				j->keyexp = 0;
				j->inkey = 1;
				j->key.len = 0;
				j->objkeys++;
			}
			break;
		case '{':
		case '[':
			j->depth++;
			break;
		case '}':
		case ']':
			if (--j->depth == 0) {
				j->mode = M_TOP;
				return end_obj(j);
			}
			break;
		case ',':
			if (j->depth == 1)
				j->keyexp = 1;
			break;
		case ':':
			if (j->depth == 1 && j->key.len == 5 &&
			    memcmp(j->key.s, "files", 5) == 0)
				j->filescolon = 1;
			break;
		}
		return 0;

	case M_FILES:
		if (is_ws(c))
			return 0;
		if (c == ']') {
			if (j->keyexp)
				return fail(j, j->line, "trailing ',' in 'files'");
			j->mode = M_OBJ;
			return 0;
		}
		if (c == ',') {
			if (j->keyexp || j->nelem == 0)
				return fail(j, j->line, "misplaced ',' in 'files'");
			j->keyexp = 1;
			return 0;
		}
		if (j->nelem > 0 && !j->keyexp)
			return fail(j, j->line, "missing ',' in 'files'");
		j->keyexp = 0;
		j->mode = M_ELEM;
		j->ent.len = 0;
		j->edepth = 0;
		j->entkeys = 0;
		j->entline = j->line;
		/* FALLTHROUGH */

	case M_ELEM:
		if (j->ent.len >= ARC_ENTRY_MAX)
			return fail(j, j->entline, "entry larger than 1 MiB");
		if (string_char(j, c)) {
			arc_buf_addc(&j->ent, c);
			return 0;
		}
		if (number_char(j, c, j->entline) == -1)
			return -1;
		if (j->edepth == 0 && j->ent.len > 0 &&
		    (c == ',' || c == ']' || is_ws(c))) {
			/* the end of a scalar element: re-read c between elements */
			j->mode = M_FILES;
			if (end_elem(j) == -1)
				return -1;
			return step(j, c);
		}
		arc_buf_addc(&j->ent, c);
		switch (c) {
		case '"':
			j->instr = 1;
			if (j->edepth == 1 && j->entkeyexp) {
				j->entkeyexp = 0;
				j->entkeys++;
			}
			break;
		case '{':
		case '[':
			if (++j->edepth == 1)
				j->entkeyexp = c == '{';
			break;
		case '}':
		case ']':
			if (j->edepth == 0)
				return fail(j, j->entline, "unbalanced JSON");
			if (--j->edepth == 0) {
				j->mode = M_FILES;
				return end_elem(j);
			}
			break;
		case ',':
			if (j->edepth == 1)
				j->entkeyexp = 1;
			break;
		}
		return 0;
	}
	return 0;
}

/*
 * Call fn for every FileEntry in fp, in source order, with the line the
 * entry starts on.  Returns 0, or -1 after a message naming the line.
 */
int
arc_json_entries(FILE *fp, const char *name, arc_entry_fn fn, void *arg)
{
	return arc_json_entries_meta(fp, name, fn, arg, NULL);
}

/* As arc_json_entries, also telling what the bodies said (next_cursor). */
int
arc_json_entries_meta(FILE *fp, const char *name, arc_entry_fn fn, void *arg,
    struct arc_json_meta *meta)
{
	struct js j;
	char buf[65536];
	size_t n, i, k;
	int r = 0;

	memset(&j, 0, sizeof(j));
	j.name = name;
	j.fn = fn;
	j.arg = arg;
	j.line = 1;
	j.mode = M_TOP;
	j.meta = meta;
	if ((j.tok = json_tokener_new()) == NULL)
		err(arc_errstatus, "json_tokener_new");
	json_tokener_set_flags(j.tok, JSON_TOKENER_STRICT);
	while (r == 0 && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		for (i = 0; i < n; ) {
			if ((k = string_run(&j, buf + i, n - i)) > 0) {
				i += k;
				continue;
			}
			if ((r = step(&j, (unsigned char)buf[i])) != 0)
				break;
			if (buf[i] == '\n')
				j.line++;
			i++;
		}
	}
	if (r == 0 && ferror(fp)) {
		warn("'%s': read error", name);
		r = -1;
	}
	if (r == 0 && j.mode != M_TOP)
		r = fail(&j, j.line, "truncated JSON");
	json_tokener_free(j.tok);
	arc_buf_free(&j.obj);
	arc_buf_free(&j.ent);
	arc_buf_free(&j.key);
	arc_buf_free(&j.err);
	return r ? -1 : 0;
}
