// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/stream/reorder: the order the reorder buffers of vfio-mig-load and
 * the channel set keep (what they hold and charge is tested with them:
 * test-load-reorder, test-channel-merge).
 */
#include "common/c.h"
#include "stream/reorder.h"
#include "unit.h"

struct entry {
	struct reorder_node node;
};

static uint64_t first_index(const struct reorder_list *l)
{
	return l->head ? l->head->index : UINT64_MAX;
}

/* Any arrival order comes out by index, and only when each is next. */
static void test_order(void)
{
	static const uint64_t arrive[] = { 5, 2, 3, 9, 7, 4, 8, 6 };
	struct entry e[ARRAY_SIZE(arrive)];
	struct reorder_list l = { 0 };
	uint64_t next = 2;

	for (size_t i = 0; i < ARRAY_SIZE(arrive); i++) {
		e[i].node.index = arrive[i];
		CHECK(reorder_find(&l, arrive[i]) == NULL);
		reorder_insert(&l, &e[i].node);
		CHECK(reorder_find(&l, arrive[i]) == &e[i].node);
	}
	CHECK_EQ(l.count, ARRAY_SIZE(arrive));
	CHECK(reorder_take_if(&l, 1) == NULL); /* 1 is not there: nothing is next */
	for (struct reorder_node *n; (n = reorder_take_if(&l, next)); next++)
		CHECK_EQ(n->index, next);
	CHECK_EQ(next, 10);
	CHECK_EQ(l.count, 0);
	CHECK(l.head == NULL && l.tail == NULL);
}

/* Ascending arrivals go to the tail; one smaller goes in front of them; find sees past the tail. */
static void test_tail_and_find(void)
{
	struct entry e[4] = {
		{ { .index = 10 } }, { { .index = 11 } }, { { .index = 12 } }, { { .index = 3 } }
	};
	struct reorder_list l = { 0 };

	for (int i = 0; i < 4; i++)
		reorder_insert(&l, &e[i].node);
	CHECK(l.tail == &e[2].node);
	CHECK_EQ(first_index(&l), 3);
	CHECK(reorder_find(&l, 13) == NULL);
	CHECK(reorder_find(&l, 4) == NULL);
	CHECK(reorder_find(&l, 11) == &e[1].node);
	CHECK(reorder_take_first(&l) == &e[3].node);
	CHECK(reorder_take_first(&l) == &e[0].node);
	CHECK(reorder_take_first(&l) == &e[1].node);
	CHECK(reorder_take_first(&l) == &e[2].node);
	CHECK(reorder_take_first(&l) == NULL);
	CHECK(l.tail == NULL);
}

int main(void)
{
	RUN(test_order);
	RUN(test_tail_and_find);
	return unit_done();
}
