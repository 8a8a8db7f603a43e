// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffd-check: prove userfaultfd resolves a missing-page fault end to end.
 *
 * The post-copy tools rely on exactly this: a thread touches a registered
 * anonymous page, blocks, the handler sees the fault address and fills the
 * page with UFFDIO_COPY, and the thread reads the handler's data.  A second
 * page is resolved with UFFDIO_ZEROPAGE, the other way of filling a page.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#define PROG "uffd-check"
#define PATTERN 0x5a

struct toucher {
	volatile unsigned char *addr;
	unsigned char seen;
};

/* ---- one function per ioctl ---- */

static int uffdio_api(int uffd, __u64 *ioctls)
{
	struct uffdio_api api = {
		.api = UFFD_API,
	};

	if (ioctl(uffd, UFFDIO_API, &api))
		return -errno;
	*ioctls = api.ioctls;
	return 0;
}

static int uffdio_register_missing(int uffd, void *addr, __u64 len, __u64 *ioctls)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	*ioctls = reg.ioctls;
	return 0;
}

static int uffdio_copy(int uffd, __u64 dst, const void *src, __u64 len)
{
	struct uffdio_copy copy = {
		.dst = dst,
		.src = (uintptr_t)src,
		.len = len,
	};

	if (ioctl(uffd, UFFDIO_COPY, &copy))
		return -errno;
	return copy.copy == (__s64)len ? 0 : -EIO;
}

static int uffdio_zeropage(int uffd, __u64 start, __u64 len)
{
	struct uffdio_zeropage zp = {
		.range = { .start = start, .len = len },
	};

	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp))
		return -errno;
	return zp.zeropage == (__s64)len ? 0 : -EIO;
}

/* ---- the check ---- */

static int open_userfaultfd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd >= 0)
		return fd;
	fprintf(stderr, PROG ": userfaultfd(): %s\n", strerror(errno));
	return -1;
}

static void *touch_page(void *arg)
{
	struct toucher *t = arg;

	/* Blocks in the kernel until the page is filled. */
	t->seen = t->addr[100];
	return NULL;
}

/* Waits for the one fault the toucher thread causes and returns its address. */
static int wait_fault(int uffd, __u64 *addr)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, 10000);
	if (ret <= 0) {
		fprintf(stderr, PROG ": no fault event within 10 s%s%s\n", ret < 0 ? ": " : "",
			ret < 0 ? strerror(errno) : "");
		return -1;
	}
	n = read(uffd, &msg, sizeof(msg));
	if (n != sizeof(msg)) {
		fprintf(stderr, PROG ": read uffd_msg: %s\n",
			n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	if (msg.event != UFFD_EVENT_PAGEFAULT) {
		fprintf(stderr, PROG ": unexpected event 0x%x\n", msg.event);
		return -1;
	}
	*addr = msg.arg.pagefault.address;
	return 0;
}

static int resolve_one(int uffd, unsigned char *page, long page_size, bool zero)
{
	struct toucher t = { .addr = page, .seen = 0xee };
	unsigned char *src = NULL;
	unsigned char expect = zero ? 0 : PATTERN;
	pthread_t thread;
	__u64 addr;
	int ret, rc = -1;

	ret = pthread_create(&thread, NULL, touch_page, &t);
	if (ret) {
		fprintf(stderr, PROG ": pthread_create: %s\n", strerror(ret));
		return -1;
	}
	if (wait_fault(uffd, &addr))
		goto out_cancel;
	printf("fault at offset %llu of the page\n", (unsigned long long)(addr - (uintptr_t)page));
	if ((addr & ~(__u64)(page_size - 1)) != (uintptr_t)page) {
		fprintf(stderr, PROG ": fault address 0x%llx is not in page %p\n",
			(unsigned long long)addr, (void *)page);
		goto out_cancel;
	}
	if (zero) {
		ret = uffdio_zeropage(uffd, (uintptr_t)page, page_size);
	} else {
		src = malloc(page_size);
		if (!src)
			goto out_cancel;
		memset(src, PATTERN, page_size);
		ret = uffdio_copy(uffd, (uintptr_t)page, src, page_size);
	}
	if (ret) {
		fprintf(stderr, PROG ": %s: %s\n", zero ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY",
			strerror(-ret));
		goto out_cancel;
	}
	pthread_join(thread, NULL);
	printf("%s: faulting thread read 0x%02x\n", zero ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY",
	       t.seen);
	if (t.seen != expect || page[page_size - 1] != expect) {
		fprintf(stderr, PROG ": page holds 0x%02x/0x%02x, expected 0x%02x\n", t.seen,
			page[page_size - 1], expect);
		goto out;
	}
	rc = 0;
	goto out;
out_cancel:
	/* The thread is blocked on a fault nobody will resolve: don't join. */
	pthread_cancel(thread);
out:
	free(src);
	return rc;
}

int main(void)
{
	const __u64 need =
		(1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_WAKE) | (1ULL << _UFFDIO_ZEROPAGE);
	long page_size = sysconf(_SC_PAGESIZE);
	__u64 api_ioctls = 0, range_ioctls = 0;
	unsigned char *area;
	int uffd, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uffd = open_userfaultfd();
	if (uffd < 0)
		return 1;
	ret = uffdio_api(uffd, &api_ioctls);
	if (ret) {
		fprintf(stderr, PROG ": UFFDIO_API: %s\n", strerror(-ret));
		return 1;
	}
	printf("UFFDIO_API ioctls 0x%llx\n", (unsigned long long)api_ioctls);

	area = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	if (area == MAP_FAILED) {
		fprintf(stderr, PROG ": mmap: %s\n", strerror(errno));
		return 1;
	}
	ret = uffdio_register_missing(uffd, area, 2 * page_size, &range_ioctls);
	if (ret) {
		fprintf(stderr, PROG ": UFFDIO_REGISTER: %s\n", strerror(-ret));
		return 1;
	}
	printf("UFFDIO_REGISTER range ioctls 0x%llx\n", (unsigned long long)range_ioctls);
	if ((range_ioctls & need) != need) {
		fprintf(stderr, PROG ": range lacks COPY/WAKE/ZEROPAGE (0x%llx)\n",
			(unsigned long long)range_ioctls);
		return 1;
	}
	if (resolve_one(uffd, area, page_size, false) ||
	    resolve_one(uffd, area + page_size, page_size, true))
		return 1;
	printf("userfaultfd: ok\n");
	return 0;
}
