// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/outfile: a failed run leaves every existing file as it was, a
 * successful one renames a complete file into place, symlinks and
 * non-regular outputs are written through, never replaced or removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/outfile.h"
#include "scratch-files.h"
#include "unit.h"

static char dir[] = "/tmp/test-outfile.XXXXXX";

static int write_text(struct vmt_outfile *out, const char *text)
{
	return vmt_write_all(out->fd, text, strlen(text));
}

static void test_new_file_appears_only_on_commit(void)
{
	struct vmt_outfile out;

	clean();
	CHECK_EQ(vmt_outfile_open(&out, "new.out"), 0);
	CHECK_EQ(write_text(&out, "complete"), 0);
	CHECK(!exists("new.out"));
	CHECK_EQ(entries(), 1);
	CHECK_EQ(vmt_outfile_commit(&out), 0);
	vmt_outfile_free(&out);
	CHECK(strcmp(get("new.out"), "complete") == 0);
	CHECK_EQ(entries(), 1);
}

static void test_abort_keeps_existing_file(void)
{
	struct vmt_outfile out;

	clean();
	put("keep.out", "old");
	CHECK_EQ(vmt_outfile_open(&out, "keep.out"), 0);
	CHECK_EQ(write_text(&out, "partial"), 0);
	CHECK(strcmp(get("keep.out"), "old") == 0);
	vmt_outfile_abort(&out);
	vmt_outfile_free(&out);
	CHECK(strcmp(get("keep.out"), "old") == 0);
	CHECK_EQ(entries(), 1);
}

static void test_replace_keeps_mode(void)
{
	struct vmt_outfile out;
	struct stat st;

	clean();
	put("mode.out", "old");
	chmod("mode.out", 0640);
	CHECK_EQ(vmt_outfile_open(&out, "mode.out"), 0);
	CHECK_EQ(write_text(&out, "new"), 0);
	CHECK_EQ(vmt_outfile_commit(&out), 0);
	vmt_outfile_free(&out);
	CHECK(strcmp(get("mode.out"), "new") == 0);
	CHECK(stat("mode.out", &st) == 0 && (st.st_mode & 07777) == 0640);
}

static void test_symlink_stays_a_link(void)
{
	struct vmt_outfile out;
	struct stat st;

	clean();
	put("target.out", "old");
	CHECK(symlink("target.out", "link.out") == 0);
	CHECK_EQ(vmt_outfile_open(&out, "link.out"), 0);
	CHECK_EQ(write_text(&out, "partial"), 0);
	vmt_outfile_abort(&out);
	vmt_outfile_free(&out);
	CHECK(lstat("link.out", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(strcmp(get("target.out"), "old") == 0);

	CHECK_EQ(vmt_outfile_open(&out, "link.out"), 0);
	CHECK_EQ(write_text(&out, "new"), 0);
	CHECK_EQ(vmt_outfile_commit(&out), 0);
	vmt_outfile_free(&out);
	CHECK(lstat("link.out", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(strcmp(get("target.out"), "new") == 0);
	CHECK_EQ(entries(), 2);
}

static void test_dangling_symlink_creates_target(void)
{
	struct vmt_outfile out;

	clean();
	CHECK(symlink("later.out", "dangling.out") == 0);
	CHECK_EQ(vmt_outfile_open(&out, "dangling.out"), 0);
	CHECK_EQ(write_text(&out, "data"), 0);
	CHECK_EQ(vmt_outfile_commit(&out), 0);
	vmt_outfile_free(&out);
	CHECK(strcmp(get("later.out"), "data") == 0);
	CHECK(strcmp(get("dangling.out"), "data") == 0);
}

static void test_fifo_written_in_place_never_removed(void)
{
	struct vmt_outfile out;
	int rfd;

	clean();
	CHECK(mkfifo("pipe.out", 0600) == 0);
	rfd = open("pipe.out", O_RDONLY | O_NONBLOCK);
	CHECK_EQ(vmt_outfile_open(&out, "pipe.out"), 0);
	CHECK(out.tmp == NULL);
	CHECK_EQ(write_text(&out, "x"), 0);
	vmt_outfile_abort(&out);
	vmt_outfile_free(&out);
	close(rfd);
	CHECK(exists("pipe.out"));
}

static void test_char_device_not_truncated_or_removed(void)
{
	struct vmt_outfile out;

	CHECK_EQ(vmt_outfile_open(&out, "/dev/null"), 0);
	CHECK(out.tmp == NULL && out.path == NULL);
	vmt_outfile_abort(&out);
	vmt_outfile_free(&out);
	CHECK(exists("/dev/null"));
}

static void test_name_created_meanwhile_is_not_replaced(void)
{
	struct vmt_outfile first, second;

	clean();
	CHECK_EQ(vmt_outfile_open(&first, "race.out"), 0);
	CHECK_EQ(vmt_outfile_open(&second, "race.out"), 0);
	CHECK_EQ(write_text(&first, "first"), 0);
	CHECK_EQ(write_text(&second, "second"), 0);
	CHECK_EQ(vmt_outfile_commit(&first), 0);
	CHECK_EQ(vmt_outfile_commit(&second), -EEXIST);
	CHECK(strcmp(get("race.out"), "first") == 0);
	/* The loser's complete output is kept, under its temporary name. */
	CHECK(second.tmp && strcmp(get(second.tmp), "second") == 0);
	vmt_outfile_free(&first);
	vmt_outfile_free(&second);
}

static void test_replaced_meanwhile_is_not_replaced_again(void)
{
	struct vmt_outfile out;

	clean();
	put("swap.out", "old");
	CHECK_EQ(vmt_outfile_open(&out, "swap.out"), 0);
	CHECK_EQ(write_text(&out, "mine"), 0);
	put("other.out", "someone else's");
	CHECK(rename("other.out", "swap.out") == 0);
	CHECK_EQ(vmt_outfile_commit(&out), -EEXIST);
	CHECK(strcmp(get("swap.out"), "someone else's") == 0);
	vmt_outfile_free(&out);
}

static void test_missing_directory_creates_nothing(void)
{
	struct vmt_outfile out;

	clean();
	CHECK_EQ(vmt_outfile_open(&out, "no-such-dir/x.out"), -ENOENT);
	CHECK_EQ(out.fd, -1);
	CHECK_EQ(entries(), 0);
}

static void test_stream_commit(void)
{
	struct vmt_outfile out;
	FILE *f;

	clean();
	CHECK_EQ(vmt_outfile_open(&out, "stream.out"), 0);
	f = vmt_outfile_stream(&out);
	CHECK(f != NULL);
	fputs("{}\n", f);
	CHECK_EQ(vmt_outfile_commit(&out), 0);
	vmt_outfile_free(&out);
	CHECK(strcmp(get("stream.out"), "{}\n") == 0);
}

static void test_same_file(void)
{
	clean();
	put("a.out", "");
	CHECK(symlink("a.out", "a-link.out") == 0);
	CHECK(vmt_outfile_same("a.out", "a-link.out"));
	CHECK(vmt_outfile_same("a.out", "./a.out"));
	CHECK(vmt_outfile_same("new.out", "./new.out"));
	CHECK(!vmt_outfile_same("a.out", "new.out"));
	CHECK(!vmt_outfile_same("new.out", "other.out"));
	/* Standard output redirected to a.out is a.out. */
	int saved = dup(STDOUT_FILENO), fd = open("a.out", O_WRONLY);

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	bool via_stdout = vmt_outfile_same("a.out", "-") && vmt_outfile_same("/dev/stdout", NULL) &&
			  vmt_outfile_same("a-link.out", "/dev/stdout");

	dup2(saved, STDOUT_FILENO);
	close(fd);
	close(saved);
	CHECK(via_stdout);
}

int main(void)
{
	char *cwd = getcwd(NULL, 0);

	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror(dir);
		return 1;
	}
	RUN(test_new_file_appears_only_on_commit);
	RUN(test_abort_keeps_existing_file);
	RUN(test_replace_keeps_mode);
	RUN(test_symlink_stays_a_link);
	RUN(test_dangling_symlink_creates_target);
	RUN(test_fifo_written_in_place_never_removed);
	RUN(test_char_device_not_truncated_or_removed);
	RUN(test_name_created_meanwhile_is_not_replaced);
	RUN(test_replaced_meanwhile_is_not_replaced_again);
	RUN(test_missing_directory_creates_nothing);
	RUN(test_stream_commit);
	RUN(test_same_file);
	clean();
	if (chdir(cwd) == 0)
		rmdir(dir);
	free(cwd);
	return unit_done();
}
