// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/summary-file: a summary is under its name whole or not at all; after
 * a write that failed, an earlier run's summary of the same tool is gone
 * from the name, and nothing the tool did not write is touched.
 *
 * A write fails here as on a full disk without needing one: RLIMIT_FSIZE
 * (SIGXFSZ ignored) makes the write past the limit fail with EFBIG, for
 * root too; /dev/full fails with ENOSPC itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/c.h"
#include "common/failure.h"
#include "common/json-doc.h"
#include "common/summary-file.h"
#include "scratch-files.h"
#include "unit.h"

static char dir[] = "/tmp/test-summary-file.XXXXXX";

/* Above it, a file cannot grow while the limit is set. */
#define SMALL_LIMIT 4096

/* A summary of tool, run number run; padded past SMALL_LIMIT when big. */
static struct json_object *summary(const char *tool, unsigned int run, bool big)
{
	struct json_object *doc = vmt_json_doc_new(tool, 1);
	static char pad[2 * SMALL_LIMIT];

	memset(pad, 'x', sizeof(pad) - 1);
	vmt_json_add_bool(doc, "ok", true);
	vmt_json_add_u64(doc, "run", run);
	if (big)
		vmt_json_add_str(doc, "pad", pad);
	return doc;
}

/* An earlier run's summary of tool under name, as the tool wrote it. */
static void earlier_summary(const char *name, const char *tool)
{
	struct vmt_summary_file sf;

	CHECK_EQ(vmt_summary_file_write(&sf, name, summary(tool, 1, false)), 0);
	CHECK_STR_CONTAINS(get(name), "\"run\": 1");
}

/* Writes a big summary of vfio-mig-load's while no file may grow past SMALL_LIMIT. */
static int write_on_full_disk(struct vmt_summary_file *sf, const char *name)
{
	struct rlimit saved, small;
	int ret;

	getrlimit(RLIMIT_FSIZE, &saved);
	small = (struct rlimit){ .rlim_cur = SMALL_LIMIT, .rlim_max = saved.rlim_max };
	setrlimit(RLIMIT_FSIZE, &small);
	ret = vmt_summary_file_write(sf, name, summary("vfio-mig-load", 2, true));
	setrlimit(RLIMIT_FSIZE, &saved);
	return ret;
}

static void test_written_whole(void)
{
	struct vmt_summary_file sf;

	clean();
	earlier_summary("sum.json", "vfio-mig-load");
	CHECK_EQ(vmt_summary_file_write(&sf, "sum.json", summary("vfio-mig-load", 2, true)), 0);
	CHECK_EQ(sf.err, 0);
	CHECK(!sf.stale);
	CHECK_STR_CONTAINS(get("sum.json"), "\"run\": 2");
	CHECK_EQ(entries(), 1);
}

static void test_failure_removes_an_earlier_summary(void)
{
	struct vmt_summary_file sf;
	char why[256];

	clean();
	earlier_summary("sum.json", "vfio-mig-load");
	CHECK_EQ(write_on_full_disk(&sf, "sum.json"), -EFBIG);
	CHECK(sf.stale);
	CHECK_EQ(sf.remove_err, 0);
	CHECK(!exists("sum.json"));
	CHECK_EQ(entries(), 0); /* no temporary either */
	vmt_summary_file_why(&sf, why, sizeof(why));
	CHECK(strcmp(why,
		     "cannot write the summary: File too large; the summary an earlier run left there "
		     "was removed") == 0);
}

static void test_failure_with_nothing_there(void)
{
	struct vmt_summary_file sf;
	char why[256];

	clean();
	CHECK_EQ(write_on_full_disk(&sf, "sum.json"), -EFBIG);
	CHECK(!sf.stale);
	CHECK_EQ(entries(), 0);
	CHECK(strcmp(vmt_summary_file_why(&sf, why, sizeof(why)),
		     "cannot write the summary: File too large") == 0);
}

/* Not the tool's: another tool's summary, another file, JSON without a schema, a summary inside more. */
static void test_failure_keeps_what_the_tool_did_not_write(void)
{
	static const char *const others[] = {
		"{ \"schema\": \"vfio-mig-save/1\", \"ok\": true }\n",
		"my notes\n",
		"{ \"ok\": true }\n",
		"{ \"schema\": \"vfio-mig-load-x/1\" }\n",
		"{ \"schema\": \"vfio-mig-load/1\" }\n{ \"mine\": 1 }\n",
		"",
	};

	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		struct vmt_summary_file sf;

		clean();
		put("sum.json", others[i]);
		CHECK_EQ(write_on_full_disk(&sf, "sum.json"), -EFBIG);
		CHECK(!sf.stale);
		CHECK(strcmp(get("sum.json"), others[i]) == 0);
		CHECK_EQ(entries(), 1);
	}
}

/* The earlier run wrote through the link: its file goes, the link (the user's) stays. */
static void test_symlink_to_an_earlier_summary(void)
{
	struct vmt_summary_file sf;
	struct stat st;

	clean();
	CHECK(symlink("target.json", "link.json") == 0);
	earlier_summary("link.json", "vfio-mig-load");
	CHECK_STR_CONTAINS(get("target.json"), "\"run\": 1");
	CHECK_EQ(write_on_full_disk(&sf, "link.json"), -EFBIG);
	CHECK(sf.stale && sf.remove_err == 0);
	CHECK(!exists("target.json"));
	CHECK(lstat("link.json", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK_EQ(entries(), 1);
}

/* /dev/full: written in place, fails with ENOSPC; the device and the link stay. */
static void test_dev_full(void)
{
	struct vmt_summary_file sf;
	struct stat st;

	clean();
	CHECK(symlink("/dev/full", "full.json") == 0);
	CHECK_EQ(vmt_summary_file_write(&sf, "full.json", summary("vfio-mig-load", 2, false)),
		 -ENOSPC);
	CHECK(!sf.stale);
	CHECK(lstat("full.json", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
}

/* A failed write is the run's failure: exit 1, the file its place, the message whole. */
static void test_fail_records_the_failure(void)
{
	struct vmt_failure f = { 0 };
	struct vmt_summary_file sf;
	char *line;

	clean();
	earlier_summary("sum.json", "vfio-mig-load");
	CHECK_EQ(write_on_full_disk(&sf, "sum.json"), -EFBIG);
	CHECK_EQ(vmt_summary_file_fail(&f, &sf), -EFBIG);
	CHECK_EQ(vmt_failure_exit_code(&f), 1);
	line = vmt_failure_line(&f, NULL, 0);
	CHECK(line &&
	      strcmp(line, "sum.json: cannot write the summary: File too large; the summary an "
			   "earlier run left there was removed") == 0);
	free(line);
	vmt_failure_free(&f);
}

int main(void)
{
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror(dir);
		return 1;
	}
	/* the write past RLIMIT_FSIZE fails with EFBIG instead of killing us */
	signal(SIGXFSZ, SIG_IGN);
	RUN(test_written_whole);
	RUN(test_failure_removes_an_earlier_summary);
	RUN(test_failure_with_nothing_there);
	RUN(test_failure_keeps_what_the_tool_did_not_write);
	RUN(test_symlink_to_an_earlier_summary);
	RUN(test_dev_full);
	RUN(test_fail_records_the_failure);
	clean();
	if (chdir("/") == 0)
		rmdir(dir);
	return unit_done();
}
