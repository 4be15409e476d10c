/*
 * jsonout.c - the one JSON writer of the state the tools leave behind:
 * paths and free text as strings a strict UTF-8 parser accepts, and
 * documents saved under their final name only when whole.
 *
 * Paths are bytes and need not be UTF-8.  A path that is valid UTF-8 and
 * does not begin with '"' is written as it is (json-c escapes controls);
 * any other is written in the quoted form of arc(7) between double
 * quotes, with every byte that is not part of a valid UTF-8 sequence
 * also escaped as \ooo.  A reader tells the two apart by the leading
 * '"', so the encoding is lossless (arc_json_path_decode undoes it).
 *
 * arc_json_save writes a temporary file beside the final name, syncs it
 * and renames it into place, so a full disk or a read-only directory
 * leaves the old file (or none) and never an empty or partial one.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "arc.h"

/*
 * The length of the valid UTF-8 sequence at p[0..n), or 0 when p[0]
 * does not start one (overlong forms, surrogates and code points past
 * U+10FFFF are not valid).
 */
size_t
arc_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Whether s[0..n) is valid UTF-8 without NUL bytes. */
int
arc_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, l;

	for (i = 0; i < n; i += l)
		if (p[i] == 0 || (l = arc_utf8_len(p + i, n - i)) == 0)
			return 0;
	return 1;
}

/*
 * Append s[0..n) to b with what a JSON string cannot hold losslessly
 * escaped: the escapes of arc(7) (backslash, controls), and every byte
 * outside a valid UTF-8 sequence as \ooo.
 */
static void
escape_bytes(struct arc_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, l;

	for (i = 0; i < n; i += l) {
		if (p[i] != 0 && p[i] >= 0x20 && p[i] != 0x7f &&
		    p[i] != '\\' && (l = arc_utf8_len(p + i, n - i)) > 0) {
			arc_buf_add(b, p + i, l);
			continue;
		}
		l = 1;
		switch (p[i]) {
		case '\\': arc_buf_adds(b, "\\\\"); break;
		case '\t': arc_buf_adds(b, "\\t"); break;
		case '\n': arc_buf_adds(b, "\\n"); break;
		case '\r': arc_buf_adds(b, "\\r"); break;
		default:
			arc_buf_printf(b, "\\%03o", p[i]);
			break;
		}
	}
}

/* The JSON spelling of a path (see the top of this file). */
void
arc_json_path_text(struct arc_buf *b, const char *s, size_t n)
{
	if (arc_utf8_valid(s, n) && (n == 0 || s[0] != '"')) {
		arc_buf_add(b, s, n);
		return;
	}
	arc_buf_addc(b, '"');
	escape_bytes(b, s, n);
	arc_buf_addc(b, '"');
}

struct json_object *
arc_json_path(const char *s, size_t n)
{
	struct arc_buf b = { 0 };
	struct json_object *o;

	arc_json_path_text(&b, s, n);
	o = json_object_new_string_len(b.s ? b.s : "", (int)b.len);
	arc_buf_free(&b);
	return o;
}

/*
 * Free text (a message, a knob as given): kept as it is when valid
 * UTF-8, else with the offending bytes escaped; readable, never invalid.
 * A URL in it is written without a user, password or signature
 * (arc_url_redact): records, audit events and cursors keep none.
 */
struct json_object *
arc_json_text(const char *s)
{
	struct arc_buf b = { 0 }, r = { 0 };
	struct json_object *o;
	size_t n;

	if (strstr(s, "://") != NULL)
		s = arc_url_redact(&r, s);
	n = strlen(s);
	if (arc_utf8_valid(s, n))
		o = json_object_new_string_len(s, (int)n);
	else {
		escape_bytes(&b, s, n);
		o = json_object_new_string_len(b.s, (int)b.len);
	}
	arc_buf_free(&b);
	arc_buf_free(&r);
	return o;
}

/* Undo arc_json_path_text; -1 when s is not such a spelling. */
int
arc_json_path_decode(struct arc_buf *b, const char *s, size_t n)
{
	size_t i;
	unsigned v;

	if (n == 0 || s[0] != '"') {
		arc_buf_add(b, s, n);
		return 0;
	}
	if (n < 2 || s[n - 1] != '"')
		return -1;
	for (i = 1; i < n - 1; i++) {
		if (s[i] != '\\') {
			arc_buf_addc(b, s[i]);
			continue;
		}
		if (++i >= n - 1)
			return -1;
		switch (s[i]) {
		case '\\': arc_buf_addc(b, '\\'); break;
		case 't': arc_buf_addc(b, '\t'); break;
		case 'n': arc_buf_addc(b, '\n'); break;
		case 'r': arc_buf_addc(b, '\r'); break;
		default:
			if (i + 2 >= n - 1 || s[i] < '0' || s[i] > '3' ||
			    s[i + 1] < '0' || s[i + 1] > '7' ||
			    s[i + 2] < '0' || s[i + 2] > '7')
				return -1;
			v = (unsigned)(s[i] - '0') << 6 |
			    (unsigned)(s[i + 1] - '0') << 3 |
			    (unsigned)(s[i + 2] - '0');
			arc_buf_addc(b, (int)v);
			i += 2;
			break;
		}
	}
	return 0;
}

/*
 * Parse s as one strict JSON document in valid UTF-8; NULL with a reason
 * in *why otherwise.
 */
struct json_object *
arc_json_parse_strict(const char *s, size_t n, const char **why)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error je;
	size_t off;

	if (n > INT_MAX) {
		*why = "too large";
		return NULL;
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	je = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL) {
		*why = je == json_tokener_continue ? "truncated JSON" :
		    json_tokener_error_desc(je);
		return NULL;
	}
	for (; off < n; off++)
		if (strchr(" \t\r\n", s[off]) == NULL) {
			json_object_put(o);
			*why = "text after the JSON value";
			return NULL;
		}
	return o;
}

/*
 * Save o as path (mode mode), whole or not at all: a temporary file
 * beside it, written, synced and renamed over it.  0 on success; on
 * failure a message naming path, the temporary file removed, -1.
 */
int
arc_json_save(const char *path, struct json_object *o, int mode)
{
	const char *text;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	return arc_save_file(path, text, strlen(text), mode);
}

/*
 * The same, as one line without spaces: the stats files of -S, which
 * scripts read with sed ("key":value) as well as with JSON parsers.
 */
int
arc_json_save_line(const char *path, struct json_object *o, int mode)
{
	const char *text;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	return arc_save_file(path, text, strlen(text), mode);
}

/*
 * Write data (n bytes, a newline added when it lacks one) to path
 * atomically with mode; 0 on success, -1 after a message.
 */
int
arc_save_file(const char *path, const char *data, size_t n, int mode)
{
	struct arc_out *o;

	if ((o = arc_out_open(path, mode, 0)) == NULL)
		return -1;
	fwrite(data, 1, n, o->fp);
	if (n == 0 || data[n - 1] != '\n')
		putc('\n', o->fp);
	return arc_out_commit(o);	/* checks every write above */
}

/*
 * A copy of v with every string and every object key spelled as a path
 * (encode) or back to its bytes (decode); *changed is set when the copy
 * differs.  NULL when decoding meets a spelling that is not one.
 */
static struct json_object *
spell(struct json_object *v, int decode, int *changed)
{
	struct json_object *c, *e;
	struct arc_buf b = { 0 };
	const char *s;
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		if (decode ? arc_json_path_decode(&b, s, n) == -1 :
		    (arc_json_path_text(&b, s, n), 0)) {
			arc_buf_free(&b);
			return NULL;
		}
		if (b.len == n && (n == 0 || memcmp(b.s, s, n) == 0)) {
			arc_buf_free(&b);
			return json_object_get(v);
		}
		*changed = 1;
		c = json_object_new_string_len(b.s, (int)b.len);
		arc_buf_free(&b);
		return c;
	case json_type_array:
		c = json_object_new_array();
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(v, i);
			if (e != NULL && (e = spell(e, decode, changed)) == NULL) {
				json_object_put(c);
				return NULL;
			}
			json_object_array_add(c, e);
		}
		return c;
	case json_type_object:
		c = json_object_new_object();
		json_object_object_foreach(v, key, val) {
			b.len = 0;
			n = strlen(key);
			if (decode ? arc_json_path_decode(&b, key, n) == -1 :
			    (arc_json_path_text(&b, key, n), 0))
				goto bad;
			if (memchr(arc_buf_str(&b), '\0', b.len) != NULL)
				goto bad;	/* a key cannot hold NUL */
			if (b.len != n || memcmp(b.s, key, n) != 0)
				*changed = 1;
			if (val != NULL && (e = spell(val, decode, changed)) == NULL)
				goto bad;
			json_object_object_add(c, arc_buf_str(&b),
			    val != NULL ? e : NULL);
		}
		arc_buf_free(&b);
		return c;
	bad:
		arc_buf_free(&b);
		json_object_put(c);
		return NULL;
	default:
		return json_object_get(v);
	}
}

/*
 * Append the JSON text[0..n) to out with every string and key in the
 * spelling of a path (decode 0) or back to its bytes (decode 1): the
 * manifest entries a run archives, whose strings may hold any bytes.
 * Text that needs no change is appended as it is.  -1 when text is not
 * JSON or (decode) holds a spelling that is not one.
 */
int
arc_json_spell_strings(struct arc_buf *out, const char *text, size_t n,
    int decode)
{
	struct json_tokener *tok;
	struct json_object *o, *c;
	size_t end;
	int changed = 0;

	if ((tok = json_tokener_new()) == NULL)
		err(arc_errstatus, "json_tokener_new");
	o = json_tokener_parse_ex(tok, text, (int)n);
	for (end = json_tokener_get_parse_end(tok); end < n &&
	    text[end] != '\0' && strchr(" \t\r\n", text[end]) != NULL; end++)
		;
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    end != n) {
		json_object_put(o);
		json_tokener_free(tok);
		return -1;
	}
	json_tokener_free(tok);
	if ((c = spell(o, decode, &changed)) == NULL) {
		json_object_put(o);
		return -1;
	}
	if (changed)
		arc_buf_adds(out, json_object_to_json_string_ext(c,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		arc_buf_add(out, text, n);
	json_object_put(c);
	json_object_put(o);
	return 0;
}
