// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Real faults, resolved three ways, with a latency figure.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/c.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "uffd-api.h"
#include "uffd-functional.h"
#include "uffd-ioctl.h"
#include "uffd-uapi.h"

/* Long enough for a loaded 2-core machine; a lost fault otherwise hangs. */
#define FAULT_WAIT_MS 5000

struct toucher {
	unsigned char *base;
	size_t page_size;
	unsigned long pages;
	uint64_t *latency_ns;	    /* per page */
	uint64_t elapsed_ns;	    /* first touch to last resolution */
	volatile unsigned long sum; /* keeps the reads */
};

static const char *const fill_names[UFFD_FILL_METHOD_COUNT] = {
	[UFFD_FILL_COPY] = "copy",
	[UFFD_FILL_ZEROPAGE] = "zeropage",
	[UFFD_FILL_CONTINUE] = "continue",
};

const char *uffd_fill_method_name(enum uffd_fill_method method)
{
	return method < UFFD_FILL_METHOD_COUNT ? fill_names[method] : "?";
}

const char *uffd_func_status_name(enum uffd_func_status status)
{
	switch (status) {
	case UFFD_FUNC_OK:
		return "ok";
	case UFFD_FUNC_FAILED:
		return "failed";
	default:
		return "skipped";
	}
}

/* Page i's expected bytes: its index up front, so a page in the wrong place shows. */
static void fill_pattern(unsigned char *page, size_t page_size, unsigned long i)
{
	memset(page, (int)((i * 7 + 1) & 0xff), page_size);
	memcpy(page, &i, sizeof(i));
}

static void *touch_pages(void *arg)
{
	struct toucher *t = arg;
	uint64_t start = vmt_monotonic_ns();

	for (unsigned long i = 0; i < t->pages; i++) {
		/* Not the first byte: the fault must be reported for the page, not the address. */
		volatile unsigned char *p = t->base + i * t->page_size + t->page_size / 2;
		uint64_t t0 = vmt_monotonic_ns();

		t->sum += *p;
		t->latency_ns[i] = vmt_monotonic_ns() - t0;
	}
	t->elapsed_ns = vmt_monotonic_ns() - start;
	return NULL;
}

VMT_PRINTF(3, 4)
static void set_status(struct uffd_func_result *r, enum uffd_func_status status, const char *fmt,
		       ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

/* Read the next fault: its address, or -errno (-ETIMEDOUT when none came). */
static int next_fault(int uffd, uint64_t *address)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	for (;;) {
		int n = poll(&pfd, 1, FAULT_WAIT_MS);
		ssize_t got;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		got = read(uffd, &msg, sizeof(msg));
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got < 0)
			return -errno;
		if (got != sizeof(msg))
			return -EIO;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			return -EPROTO;
		*address = msg.arg.pagefault.address;
		return 0;
	}
}

static int resolve(enum uffd_fill_method method, int uffd, unsigned char *page, size_t page_size,
		   unsigned char *src, unsigned long index)
{
	switch (method) {
	case UFFD_FILL_COPY:
		fill_pattern(src, page_size, index);
		return uffd_ioctl_copy(uffd, page, src, page_size);
	case UFFD_FILL_ZEROPAGE:
		return uffd_ioctl_zeropage(uffd, page, page_size);
	case UFFD_FILL_CONTINUE:
		return uffd_ioctl_continue(uffd, page, page_size);
	default:
		return -EINVAL;
	}
}

static unsigned long verify(enum uffd_fill_method method, const struct uffd_mem *mem,
			    unsigned long pages, unsigned char *expect, long *first_bad)
{
	unsigned long good = 0;

	*first_bad = -1;
	for (unsigned long i = 0; i < pages; i++) {
		const unsigned char *page = (unsigned char *)mem->addr + i * mem->page_size;

		if (method == UFFD_FILL_ZEROPAGE)
			memset(expect, 0, mem->page_size);
		else
			fill_pattern(expect, mem->page_size, i);
		if (memcmp(page, expect, mem->page_size) == 0)
			good++;
		else if (*first_bad < 0)
			*first_bad = (long)i;
	}
	return good;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void summarise(struct uffd_func_result *r, struct toucher *t)
{
	unsigned long n = t->pages;
	/* Nearest rank: the smallest value at or above 99 % of the samples. */
	unsigned long p99 = (n * 99 + 99) / 100 - 1;

	qsort(t->latency_ns, n, sizeof(t->latency_ns[0]), cmp_u64);
	r->median_us =
		(n % 2 ? (double)t->latency_ns[n / 2]
		       : ((double)t->latency_ns[n / 2 - 1] + (double)t->latency_ns[n / 2]) / 2) /
		1000.0;
	r->p99_us = (double)t->latency_ns[p99] / 1000.0;
	r->faults_per_sec = t->elapsed_ns ? (double)n * 1e9 / (double)t->elapsed_ns : 0;
}

/* Serve every fault the toucher takes; on error, stop and say which page. */
static void serve_faults(enum uffd_fill_method method, int uffd, const struct uffd_mem *mem,
			 unsigned long pages, unsigned char *src, struct uffd_func_result *r)
{
	uintptr_t base = (uintptr_t)mem->addr;

	while (r->faults < pages) {
		uint64_t address = 0;
		unsigned long index;
		int ret = next_fault(uffd, &address);

		if (ret == -ETIMEDOUT) {
			set_status(r, UFFD_FUNC_FAILED,
				   "no fault reported within %d ms after %lu faults", FAULT_WAIT_MS,
				   r->faults);
			return;
		}
		if (ret) {
			set_status(r, UFFD_FUNC_FAILED, "reading the userfaultfd: %s",
				   strerror(-ret));
			return;
		}
		if (address < base || address >= base + mem->len) {
			set_status(r, UFFD_FUNC_FAILED, "fault at 0x%llx outside the test range",
				   (unsigned long long)address);
			return;
		}
		index = (unsigned long)((address - base) / mem->page_size);
		ret = resolve(method, uffd, (unsigned char *)base + index * mem->page_size,
			      mem->page_size, src, index);
		if (ret) {
			set_status(r, UFFD_FUNC_FAILED, "UFFDIO_%s of page %lu: %s",
				   method == UFFD_FILL_COPY	  ? "COPY"
				   : method == UFFD_FILL_ZEROPAGE ? "ZEROPAGE"
								  : "CONTINUE",
				   index, strerror(-ret));
			return;
		}
		r->faults++;
	}
}

static int prepare_memory(enum uffd_fill_method method, unsigned long pages, struct uffd_mem *mem,
			  struct uffd_func_result *r)
{
	char reason[160];
	int ret = uffd_mem_create(r->memory, pages, NULL, mem, reason, sizeof(reason));

	if (ret) {
		set_status(r, ret == -EOPNOTSUPP ? UFFD_FUNC_SKIPPED : UFFD_FUNC_FAILED,
			   "%s memory: %s", uffd_mem_kind_name(r->memory), reason);
		return ret;
	}
	/* CONTINUE maps pages already in the page cache: put them there through the alias. */
	if (method == UFFD_FILL_CONTINUE)
		for (unsigned long i = 0; i < pages; i++)
			fill_pattern((unsigned char *)mem->alias + i * mem->page_size,
				     mem->page_size, i);
	return 0;
}

void uffd_functional_run(enum uffd_fill_method method, unsigned long faults,
			 const char *device_path, struct uffd_func_result *r)
{
	static const uint64_t needed_ioctl[UFFD_FILL_METHOD_COUNT] = {
		[UFFD_FILL_COPY] = (uint64_t)1 << _UFFDIO_COPY,
		[UFFD_FILL_ZEROPAGE] = (uint64_t)1 << _UFFDIO_ZEROPAGE,
		[UFFD_FILL_CONTINUE] = (uint64_t)1 << _UFFDIO_CONTINUE,
	};
	uint64_t mode = method == UFFD_FILL_CONTINUE ? UFFDIO_REGISTER_MODE_MINOR
						     : UFFDIO_REGISTER_MODE_MISSING;
	struct toucher t = { .pages = faults };
	struct uffd_mem mem = { .fd = -1 };
	unsigned char *src = NULL;
	uint64_t granted = 0;
	const char *stage;
	pthread_t thread;
	long first_bad;
	int uffd, ret;

	*r = (struct uffd_func_result){
		.method = method,
		.memory = method == UFFD_FILL_CONTINUE ? UFFD_MEM_SHMEM : UFFD_MEM_ANON,
	};
	/* The toucher faults in user mode: a user-mode-only fd is enough. */
	uffd = uffd_open_and_enable(device_path, false, 0, &r->open_method, &stage);
	if (uffd < 0) {
		set_status(r, UFFD_FUNC_SKIPPED, "%s: %s", stage, strerror(-uffd));
		return;
	}
	if (prepare_memory(method, faults, &mem, r))
		goto out_close;
	ret = uffd_ioctl_register(uffd, mem.addr, mem.len, mode, &granted);
	if (ret) {
		set_status(r, UFFD_FUNC_SKIPPED, "registering %s memory in %s mode: %s",
			   uffd_mem_kind_name(r->memory),
			   method == UFFD_FILL_CONTINUE ? "MINOR" : "MISSING", strerror(-ret));
		goto out_mem;
	}
	if (!(granted & needed_ioctl[method])) {
		set_status(r, UFFD_FUNC_SKIPPED, "the kernel does not grant UFFDIO_%s here",
			   method == UFFD_FILL_COPY	  ? "COPY"
			   : method == UFFD_FILL_ZEROPAGE ? "ZEROPAGE"
							  : "CONTINUE");
		goto out_unregister;
	}
	src = malloc(mem.page_size);
	t.latency_ns = calloc(faults, sizeof(*t.latency_ns));
	if (!src || !t.latency_ns) {
		set_status(r, UFFD_FUNC_FAILED, "out of memory");
		goto out_unregister;
	}
	t.base = mem.addr;
	t.page_size = mem.page_size;
	ret = pthread_create(&thread, NULL, touch_pages, &t);
	if (ret) {
		set_status(r, UFFD_FUNC_FAILED, "pthread_create: %s", strerror(ret));
		goto out_unregister;
	}
	serve_faults(method, uffd, &mem, faults, src, r);
	if (r->status == UFFD_FUNC_FAILED) {
		/* Closing the fd wakes a toucher stuck in a fault; it then faults normally. */
		uffd_ioctl_unregister(uffd, mem.addr, mem.len);
		close(uffd);
		uffd = -1;
	}
	pthread_join(thread, NULL);
	if (r->status == UFFD_FUNC_FAILED)
		goto out_mem;

	r->verified = verify(method, &mem, faults, src, &first_bad);
	if (r->verified != faults)
		set_status(r, UFFD_FUNC_FAILED,
			   "%lu of %lu pages have wrong contents (first: page %ld)",
			   faults - r->verified, faults, first_bad);
	summarise(r, &t);

out_unregister:
	uffd_ioctl_unregister(uffd, mem.addr, mem.len);
out_mem:
	uffd_mem_destroy(&mem);
out_close:
	if (uffd >= 0)
		close(uffd);
	free(src);
	free(t.latency_ns);
}
