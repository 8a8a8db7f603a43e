// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iommufd-mock: drive the IOMMUFD_TEST mock IOMMU's dirty tracking.
 *
 * The mock is the only IOMMU with dirty tracking that runs without hardware,
 * so it is how the kernel tier tests code that reads dirty bitmaps.  Pages are
 * always given as indexes of the mock's 2048-byte IO pages from the start of
 * the mapped range.
 *
 *   iommufd-mock check [--length B] [--page-size P] PAGE...
 *       set up, mark PAGEs dirty, check the bitmap holds exactly those and
 *       that a second read finds them cleared.
 *   iommufd-mock exec [--length B] [--mark PAGE]... -- CMD [ARG]...
 *       set up, mark PAGEs, run CMD with the iommufd fd inherited and
 *       VMT_IOMMUFD_FD, VMT_HWPT_ID, VMT_IOVA, VMT_LENGTH in its environment
 *       (the setup a tool like iommufd-dirty is tested against); exit as CMD.
 *   iommufd-mock mark PAGE...
 *   iommufd-mock bitmap [--page-size P] [--no-clear]
 *       from inside such a CMD: mark more pages / print the dirty pages, on
 *       the inherited fd described by the VMT_* variables (or --iommufd-fd,
 *       --hwpt, --iova, --length).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iommufd-test-uapi.h"

#define PROG "iommufd-mock"
#define EXIT_USAGE 2
#define MAX_PAGES 4096

/* What a tool under test needs to find the mock's dirty state. */
struct mock_ctx {
	int iommufd;
	__u32 ioas_id;
	__u32 stdev_id;
	__u32 idev_id;
	__u32 hwpt_id; /* the dirty-tracking hwpt */
	__u64 iova;
	__u64 length;
	void *mem;
};

/* ---- one function per ioctl ---- */

static int iommufd_ioas_alloc(int iommufd, __u32 *ioas_id)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
	};

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd))
		return -errno;
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

static int iommufd_ioas_map_fixed(int iommufd, __u32 ioas_id, void *mem, __u64 length, __u64 iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)mem,
		.length = length,
		.iova = iova,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP, &cmd))
		return -errno;
	return 0;
}

static int iommufd_get_hw_info(int iommufd, __u32 dev_id, __u64 *capabilities)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};

	if (ioctl(iommufd, IOMMU_GET_HW_INFO, &cmd))
		return -errno;
	*capabilities = cmd.out_capabilities;
	return 0;
}

static int iommufd_hwpt_alloc(int iommufd, __u32 dev_id, __u32 pt_id, __u32 flags, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};

	if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &cmd))
		return -errno;
	*hwpt_id = cmd.out_hwpt_id;
	return 0;
}

static int iommufd_hwpt_set_dirty_tracking(int iommufd, __u32 hwpt_id, bool enable)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};

	if (ioctl(iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd))
		return -errno;
	return 0;
}

static int iommufd_hwpt_get_dirty_bitmap(int iommufd, __u32 hwpt_id, __u64 iova, __u64 length,
					 __u64 page_size, __u32 flags, __u64 *bitmap)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (uintptr_t)bitmap,
	};

	if (ioctl(iommufd, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd))
		return -errno;
	return 0;
}

static int mock_domain_flags(int iommufd, __u32 ioas_id, __u32 dev_flags, __u32 *stdev_id,
			     __u32 *hwpt_id, __u32 *idev_id)
{
	struct vmt_iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = VMT_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = ioas_id,
		.mock_domain_flags = { .dev_flags = dev_flags },
	};

	if (ioctl(iommufd, VMT_IOMMU_TEST_CMD, &cmd))
		return -errno;
	*stdev_id = cmd.mock_domain_flags.out_stdev_id;
	*hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	*idev_id = cmd.mock_domain_flags.out_idev_id;
	return 0;
}

static int mock_domain_replace(int iommufd, __u32 stdev_id, __u32 pt_id)
{
	struct vmt_iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = VMT_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace = { .pt_id = pt_id },
	};

	if (ioctl(iommufd, VMT_IOMMU_TEST_CMD, &cmd))
		return -errno;
	return 0;
}

/* The bitmap is in mock IO pages from @iova; the mock marks mapped pages only. */
static int mock_dirty(int iommufd, __u32 hwpt_id, __u64 iova, __u64 length, const __u64 *bitmap,
		      __u64 *nr_dirty)
{
	struct vmt_iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = VMT_TEST_OP_DIRTY,
		.id = hwpt_id,
		.dirty = {
			.iova = iova,
			.length = length,
			.page_size = VMT_MOCK_IO_PAGE_SIZE,
			.uptr = (uintptr_t)bitmap,
		},
	};

	if (ioctl(iommufd, VMT_IOMMU_TEST_CMD, &cmd))
		return -errno;
	*nr_dirty = cmd.dirty.out_nr_dirty;
	return 0;
}

/* ---- operations ---- */

#define FAIL(what, ret) fprintf(stderr, PROG ": %s: %s\n", (what), strerror(-(ret)))

static int mock_setup(struct mock_ctx *ctx, __u64 length)
{
	__u32 mock_hwpt_id;
	__u64 caps = 0;
	int ret;

	*ctx = (struct mock_ctx){ .iommufd = -1,
				  .iova = VMT_MOCK_APERTURE_START,
				  .length = length };
	/* No O_CLOEXEC: exec mode hands this fd to the command under test. */
	ctx->iommufd = open("/dev/iommu", O_RDWR);
	if (ctx->iommufd < 0) {
		fprintf(stderr, PROG ": open /dev/iommu: %s\n", strerror(errno));
		return -1;
	}
	ret = iommufd_ioas_alloc(ctx->iommufd, &ctx->ioas_id);
	if (ret) {
		FAIL("IOMMU_IOAS_ALLOC", ret);
		return -1;
	}
	ret = mock_domain_flags(ctx->iommufd, ctx->ioas_id, 0, &ctx->stdev_id, &mock_hwpt_id,
				&ctx->idev_id);
	if (ret) {
		FAIL("IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS (is CONFIG_IOMMUFD_TEST on?)", ret);
		return -1;
	}
	ret = iommufd_get_hw_info(ctx->iommufd, ctx->idev_id, &caps);
	if (ret) {
		FAIL("IOMMU_GET_HW_INFO", ret);
		return -1;
	}
	printf("mock: idev %u capabilities 0x%llx\n", ctx->idev_id, (unsigned long long)caps);
	if (!(caps & IOMMU_HW_CAP_DIRTY_TRACKING)) {
		fprintf(stderr, PROG ": mock device lacks IOMMU_HW_CAP_DIRTY_TRACKING\n");
		return -1;
	}
	/* The auto domain has no dirty tracking; it takes an explicit hwpt. */
	ret = iommufd_hwpt_alloc(ctx->iommufd, ctx->idev_id, ctx->ioas_id,
				 IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &ctx->hwpt_id);
	if (ret) {
		FAIL("IOMMU_HWPT_ALLOC(DIRTY_TRACKING)", ret);
		return -1;
	}
	ret = mock_domain_replace(ctx->iommufd, ctx->stdev_id, ctx->hwpt_id);
	if (ret) {
		FAIL("IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE", ret);
		return -1;
	}
	ctx->mem = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ctx->mem == MAP_FAILED) {
		fprintf(stderr, PROG ": mmap %llu bytes: %s\n", (unsigned long long)length,
			strerror(errno));
		ctx->mem = NULL;
		return -1;
	}
	ret = iommufd_ioas_map_fixed(ctx->iommufd, ctx->ioas_id, ctx->mem, length, ctx->iova);
	if (ret) {
		FAIL("IOMMU_IOAS_MAP", ret);
		return -1;
	}
	ret = iommufd_hwpt_set_dirty_tracking(ctx->iommufd, ctx->hwpt_id, true);
	if (ret) {
		FAIL("IOMMU_HWPT_SET_DIRTY_TRACKING", ret);
		return -1;
	}
	printf("mock: iommufd %d ioas %u stdev %u hwpt %u iova 0x%llx length %llu\n", ctx->iommufd,
	       ctx->ioas_id, ctx->stdev_id, ctx->hwpt_id, (unsigned long long)ctx->iova,
	       (unsigned long long)ctx->length);
	return 0;
}

static __u64 *bitmap_alloc(__u64 nbits)
{
	return calloc((nbits + 63) / 64 + 1, sizeof(__u64));
}

static bool bit_test(const __u64 *bitmap, __u64 bit)
{
	return bitmap[bit / 64] & (1ULL << (bit % 64));
}

static void bit_set(__u64 *bitmap, __u64 bit)
{
	bitmap[bit / 64] |= 1ULL << (bit % 64);
}

static int mock_mark_pages(const struct mock_ctx *ctx, const __u64 *pages, size_t n)
{
	__u64 nr_io_pages = ctx->length / VMT_MOCK_IO_PAGE_SIZE;
	__u64 *bitmap, nr_dirty = 0;
	size_t i;
	int ret;

	bitmap = bitmap_alloc(nr_io_pages);
	if (!bitmap)
		return -1;
	for (i = 0; i < n; i++)
		bit_set(bitmap, pages[i]);
	ret = mock_dirty(ctx->iommufd, ctx->hwpt_id, ctx->iova, ctx->length, bitmap, &nr_dirty);
	free(bitmap);
	if (ret) {
		FAIL("IOMMU_TEST_OP_DIRTY", ret);
		return -1;
	}
	printf("mock: marked %llu page(s)\n", (unsigned long long)nr_dirty);
	/* Fewer means an index was outside what the mock has mapped. */
	if (nr_dirty != n) {
		fprintf(stderr, PROG ": asked to mark %zu page(s), mock marked %llu\n", n,
			(unsigned long long)nr_dirty);
		return -1;
	}
	return 0;
}

/* Reads the bitmap at @page_size granularity and prints the set bit indexes. */
static __u64 *mock_read_bitmap(const struct mock_ctx *ctx, __u64 page_size, __u32 flags,
			       const char *label)
{
	__u64 nbits = ctx->length / page_size, bit;
	__u64 *bitmap = bitmap_alloc(nbits);
	int ret, count = 0;

	if (!bitmap)
		return NULL;
	ret = iommufd_hwpt_get_dirty_bitmap(ctx->iommufd, ctx->hwpt_id, ctx->iova, ctx->length,
					    page_size, flags, bitmap);
	if (ret) {
		FAIL("IOMMU_HWPT_GET_DIRTY_BITMAP", ret);
		free(bitmap);
		return NULL;
	}
	printf("%s:", label);
	for (bit = 0; bit < nbits; bit++) {
		if (bit_test(bitmap, bit)) {
			printf(" %llu", (unsigned long long)bit);
			count++;
		}
	}
	printf("%s\n", count ? "" : " none");
	return bitmap;
}

static int parse_u64(const char *what, const char *s, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, PROG ": invalid %s '%s'\n", what, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_page_args(const struct mock_ctx *ctx, char **args, int n, __u64 *pages)
{
	__u64 nr_io_pages = ctx->length / VMT_MOCK_IO_PAGE_SIZE;
	int i;

	if (n > MAX_PAGES) {
		fprintf(stderr, PROG ": at most %d pages\n", MAX_PAGES);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (parse_u64("page", args[i], &pages[i]))
			return -1;
		if (pages[i] >= nr_io_pages) {
			fprintf(stderr, PROG ": page %llu is outside the %llu mapped IO pages\n",
				(unsigned long long)pages[i], (unsigned long long)nr_io_pages);
			return -1;
		}
	}
	return 0;
}

static int valid_page_size(__u64 page_size)
{
	if (page_size < VMT_MOCK_IO_PAGE_SIZE || (page_size & (page_size - 1))) {
		fprintf(stderr, PROG ": page size must be a power of two >= %llu\n",
			VMT_MOCK_IO_PAGE_SIZE);
		return 0;
	}
	return 1;
}

static int cmd_check(struct mock_ctx *ctx, __u64 page_size, char **args, int n)
{
	static __u64 pages[MAX_PAGES];
	__u64 *expect = NULL, *got = NULL, *again = NULL;
	__u64 nbits = ctx->length / page_size, bit;
	int i, rc = 1;

	if (parse_page_args(ctx, args, n, pages))
		return EXIT_USAGE;
	if (mock_mark_pages(ctx, pages, n))
		return 1;

	expect = bitmap_alloc(nbits);
	if (!expect)
		goto out;
	for (i = 0; i < n; i++)
		bit_set(expect, pages[i] * VMT_MOCK_IO_PAGE_SIZE / page_size);

	got = mock_read_bitmap(ctx, page_size, 0, "dirty");
	if (!got)
		goto out;
	for (bit = 0; bit < nbits; bit++) {
		if (bit_test(got, bit) != bit_test(expect, bit)) {
			fprintf(stderr, PROG ": bit %llu (page size %llu) is %s, expected %s\n",
				(unsigned long long)bit, (unsigned long long)page_size,
				bit_test(got, bit) ? "set" : "clear",
				bit_test(expect, bit) ? "set" : "clear");
			goto out;
		}
	}
	/* Reading without NO_CLEAR must have cleared what it reported. */
	again = mock_read_bitmap(ctx, page_size, 0, "dirty after clear");
	if (!again)
		goto out;
	for (bit = 0; bit < nbits; bit++) {
		if (bit_test(again, bit)) {
			fprintf(stderr, PROG ": bit %llu still set after a clearing read\n",
				(unsigned long long)bit);
			goto out;
		}
	}
	printf("check: ok\n");
	rc = 0;
out:
	free(expect);
	free(got);
	free(again);
	return rc;
}

static int cmd_exec(struct mock_ctx *ctx, const __u64 *marks, int nmarks, char **argv)
{
	char buf[32];
	int status;
	pid_t pid;

	if (nmarks && mock_mark_pages(ctx, marks, nmarks))
		return 1;
	snprintf(buf, sizeof(buf), "%d", ctx->iommufd);
	setenv("VMT_IOMMUFD_FD", buf, 1);
	snprintf(buf, sizeof(buf), "%u", ctx->hwpt_id);
	setenv("VMT_HWPT_ID", buf, 1);
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)ctx->iova);
	setenv("VMT_IOVA", buf, 1);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ctx->length);
	setenv("VMT_LENGTH", buf, 1);
	snprintf(buf, sizeof(buf), "%llu", VMT_MOCK_IO_PAGE_SIZE);
	setenv("VMT_IO_PAGE_SIZE", buf, 1);
	fflush(stdout);

	/*
	 * Fork rather than exec in place: this process keeps the mapping and
	 * the objects alive, and the command may exit and be rerun by the test.
	 */
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, PROG ": exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, PROG ": %s killed by signal %d\n", argv[0], WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

/* Fills @ctx from the VMT_* environment an exec'd command inherits. */
static int ctx_from_env(struct mock_ctx *ctx)
{
	static const char *const names[] = {
		"VMT_IOMMUFD_FD",
		"VMT_HWPT_ID",
		"VMT_IOVA",
		"VMT_LENGTH",
	};
	__u64 v[4];
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *s = getenv(names[i]);

		if (!s) {
			fprintf(stderr,
				PROG ": %s is not set (run under 'iommufd-mock exec' "
				     "or give the matching option)\n",
				names[i]);
			return -1;
		}
		if (parse_u64(names[i], s, &v[i]))
			return -1;
	}
	*ctx = (struct mock_ctx){
		.iommufd = (int)v[0], .hwpt_id = (__u32)v[1], .iova = v[2], .length = v[3]
	};
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage:\n"
	      "  " PROG " check [--length B] [--page-size P] PAGE...\n"
	      "  " PROG " exec [--length B] [--mark PAGE]... -- CMD [ARG]...\n"
	      "  " PROG " mark [--iommufd-fd N --hwpt ID --iova X --length B] PAGE...\n"
	      "  " PROG " bitmap [--iommufd-fd N --hwpt ID --iova X --length B]\n"
	      "                  [--page-size P] [--no-clear]\n"
	      "PAGE is an index of the mock's 2048-byte IO pages in the mapped range.\n"
	      "mark and bitmap default to the VMT_* variables that exec sets.\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "length", required_argument, NULL, 'l' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "mark", required_argument, NULL, 'm' },
		{ "iommufd-fd", required_argument, NULL, 'f' },
		{ "hwpt", required_argument, NULL, 'w' },
		{ "iova", required_argument, NULL, 'i' },
		{ "no-clear", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static __u64 marks[MAX_PAGES];
	char *mark_args[MAX_PAGES];
	__u64 length = 64 * 1024, page_size = VMT_MOCK_IO_PAGE_SIZE;
	__u64 fd_opt = ~0ULL, hwpt_opt = ~0ULL, iova_opt = ~0ULL;
	bool length_set = false, no_clear = false;
	int nmarks = 0, c;
	struct mock_ctx ctx;
	__u64 *bitmap;
	const char *mode;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	mode = argv[1];
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "+l:p:m:f:w:i:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_u64("--length", optarg, &length))
				return EXIT_USAGE;
			length_set = true;
			break;
		case 'p':
			if (parse_u64("--page-size", optarg, &page_size))
				return EXIT_USAGE;
			break;
		case 'm':
			if (nmarks == MAX_PAGES) {
				fprintf(stderr, PROG ": too many --mark\n");
				return EXIT_USAGE;
			}
			mark_args[nmarks++] = optarg;
			break;
		case 'f':
			if (parse_u64("--iommufd-fd", optarg, &fd_opt))
				return EXIT_USAGE;
			break;
		case 'w':
			if (parse_u64("--hwpt", optarg, &hwpt_opt))
				return EXIT_USAGE;
			break;
		case 'i':
			if (parse_u64("--iova", optarg, &iova_opt))
				return EXIT_USAGE;
			break;
		case 'n':
			no_clear = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fputs("Try '" PROG " --help' for more information.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (!valid_page_size(page_size))
		return EXIT_USAGE;
	if (!length || length % 4096 ||
	    length > VMT_MOCK_APERTURE_LAST + 1 - VMT_MOCK_APERTURE_START) {
		fprintf(stderr, PROG ": --length must be a non-zero multiple of 4096 "
				     "within the mock aperture\n");
		return EXIT_USAGE;
	}

	if (!strcmp(mode, "check") || !strcmp(mode, "exec")) {
		bool exec = !strcmp(mode, "exec");

		if (optind >= argc) {
			fprintf(stderr, PROG " %s: need %s\n", mode,
				exec ? "a command after --" : "at least one PAGE");
			return EXIT_USAGE;
		}
		if (mock_setup(&ctx, length))
			return 1;
		if (!exec)
			return cmd_check(&ctx, page_size, argv + optind, argc - optind);
		if (parse_page_args(&ctx, mark_args, nmarks, marks))
			return EXIT_USAGE;
		return cmd_exec(&ctx, marks, nmarks, argv + optind);
	}

	if (strcmp(mode, "mark") && strcmp(mode, "bitmap")) {
		fprintf(stderr,
			PROG ": unknown mode '%s'\n"
			     "Try '" PROG " --help' for more information.\n",
			mode);
		return EXIT_USAGE;
	}
	/* Each option overrides the one variable it names. */
#define OVERRIDE_ENV(opt, name, fmt)                                            \
	do {                                                                    \
		if ((opt) != ~0ULL) {                                           \
			char b[32];                                             \
			snprintf(b, sizeof(b), fmt, (unsigned long long)(opt)); \
			setenv(name, b, 1);                                     \
		}                                                               \
	} while (0)
	OVERRIDE_ENV(fd_opt, "VMT_IOMMUFD_FD", "%llu");
	OVERRIDE_ENV(hwpt_opt, "VMT_HWPT_ID", "%llu");
	OVERRIDE_ENV(iova_opt, "VMT_IOVA", "0x%llx");
	OVERRIDE_ENV(length_set ? length : ~0ULL, "VMT_LENGTH", "%llu");
#undef OVERRIDE_ENV
	if (ctx_from_env(&ctx))
		return EXIT_USAGE;

	if (!strcmp(mode, "mark")) {
		if (optind >= argc) {
			fprintf(stderr, PROG " mark: need at least one PAGE\n");
			return EXIT_USAGE;
		}
		if (parse_page_args(&ctx, argv + optind, argc - optind, marks))
			return EXIT_USAGE;
		return mock_mark_pages(&ctx, marks, argc - optind) ? 1 : 0;
	}
	if (optind < argc) {
		fprintf(stderr, PROG " bitmap: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	bitmap = mock_read_bitmap(&ctx, page_size,
				  no_clear ? IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0, "dirty");
	if (!bitmap)
		return 1;
	free(bitmap);
	return 0;
}
