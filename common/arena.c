/* common/arena.c - per-request arena: many allocations, one free. */
#include "common/dd.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 4096

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
};

struct dd_arena {
	struct arena_block *head;
	size_t total, max;
};

dd_arena *dd_arena_new(size_t max)
{
	dd_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->max = max;
	return a;
}

void dd_arena_free(dd_arena *a)
{
	struct arena_block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void *dd_arena_alloc(dd_arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t sz;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (n > a->max || a->total > a->max - n)
		return NULL;
	if (!b || b->size - b->used < n) {
		sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = malloc(sizeof(*b) + sz);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = sz;
		b->next = a->head;
		a->head = b;
	}
	p = b->mem + b->used;
	b->used += n;
	a->total += n;
	return p;
}

char *dd_arena_strndup(dd_arena *a, const char *s, size_t n)
{
	char *p = dd_arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
