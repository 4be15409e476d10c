/*
 * buf.c - growable byte buffers, the one way this library builds strings
 * of unknown length.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

void
arc_buf_grow(struct arc_buf *b, size_t extra)
{
	size_t need, cap;

	need = b->len + extra + 1;	/* room for a terminating NUL */
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->s = arc_erealloc(b->s, cap);
	b->cap = cap;
}

void
arc_buf_add(struct arc_buf *b, const void *p, size_t n)
{
	arc_buf_grow(b, n);
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
arc_buf_addc(struct arc_buf *b, int c)
{
	arc_buf_grow(b, 1);
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
}

void
arc_buf_adds(struct arc_buf *b, const char *s)
{
	arc_buf_add(b, s, strlen(s));
}

void
arc_buf_printf(struct arc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	arc_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *
arc_buf_str(struct arc_buf *b)
{
	arc_buf_grow(b, 0);
	b->s[b->len] = '\0';
	return b->s;
}

void
arc_buf_free(struct arc_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
