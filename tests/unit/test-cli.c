// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/cli: the -z[LEVEL] rule (attached or absent, never the next word),
 * option arguments that stay valid however many there are, the help
 * macros' layout, the option loop every tool runs, and the exit every
 * main() ends with (vmt_cli_exit).
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "vfio/device-cli.h"
#include "unit.h"

enum {
	OPT_OUTPUT = 1,
	OPT_FORCE,
	OPT_COMPRESS
};

static const struct poptOption table[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
	{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
	VMT_POPT_COMPRESS_OPTION(OPT_COMPRESS),
	POPT_TABLEEND
};

static void usage(void)
{
}

/*
 * Parses argv (NULL-terminated) and describes what came out, one word per
 * option or operand: "z" (bare -z), "z=9", "o=FILE", "f", "operand".
 */
static const char *parse(const char **argv)
{
	static char buf[512];
	int argc = 0, rc;
	const char *operand;

	while (argv[argc])
		argc++;
	buf[0] = '\0';
	vmt_cli_begin(argc, argv, table);
	while ((rc = vmt_cli_next(usage)) > 0) {
		const char *arg = vmt_cli_arg();
		size_t len = strlen(buf);

		snprintf(buf + len, sizeof(buf) - len, "%s%s%s%s", len ? " " : "",
			 rc == OPT_OUTPUT  ? "o"
			 : rc == OPT_FORCE ? "f"
					   : "z",
			 arg ? "=" : "", arg ? arg : "");
	}
	while ((operand = vmt_cli_operand())) {
		size_t len = strlen(buf);

		snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "", operand);
	}
	vmt_cli_end();
	return buf;
}

#define CHECK_PARSE(want, ...)                                                                  \
	do {                                                                                    \
		const char *argv_[] = { "prog", __VA_ARGS__, NULL };                            \
		const char *got_ = parse(argv_);                                                \
		if (strcmp(got_, want) != 0) {                                                  \
			printf("#   %s:%d: parsed '%s', want '%s'\n", __FILE__, __LINE__, got_, \
			       want);                                                           \
			unit_current_failed = 1;                                                \
		}                                                                               \
	} while (0)

static void test_compress_level_attached_only(void)
{
	CHECK_PARSE("z", "-z");
	CHECK_PARSE("z=9", "-z9");
	CHECK_PARSE("z", "--compress");
	CHECK_PARSE("z=7", "--compress=7");
	/* The next word is never the level. */
	CHECK_PARSE("z 9", "-z", "9");
	CHECK_PARSE("z vfio0", "-z", "vfio0");
	CHECK_PARSE("z 9", "--compress", "9");
	CHECK_PARSE("f z=4", "-fz4");
	CHECK_PARSE("z f", "-z", "-f");
}

static void test_option_arguments_are_not_rewritten(void)
{
	CHECK_PARSE("o=-z5", "-o", "-z5");
	CHECK_PARSE("o=--compress=2", "--output", "--compress=2");
	CHECK_PARSE("o=z5", "-oz5");
	CHECK_PARSE("o=-z1", "--output=-z1");
	CHECK_PARSE("f -z9", "-f", "--", "-z9");
}

static void test_many_arguments_stay_valid(void)
{
	const char *argv[2 * 200 + 2] = { "prog" };
	char names[200][16];
	const char *kept[200];
	int argc = 1, n = 0, rc;

	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		argv[argc++] = "-o";
		argv[argc++] = names[i];
	}
	vmt_cli_begin(argc, argv, table);
	while ((rc = vmt_cli_next(usage)) > 0)
		kept[n++] = vmt_cli_arg();
	CHECK_EQ(n, 200);
	for (int i = 0; i < n; i++)
		CHECK(kept[i] != names[i] && strcmp(kept[i], names[i]) == 0);
	vmt_cli_end();
}

static void test_compress_level_range(void)
{
	int status;
	pid_t pid;

	CHECK_EQ(vmt_cli_compress_level(NULL), VMT_CLI_DEFAULT_ZSTD_LEVEL);
	CHECK_EQ(vmt_cli_compress_level("1"), 1);
	CHECK_EQ(vmt_cli_compress_level("19"), 19);
	pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		vmt_cli_compress_level("20");
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == VMT_EXIT_USAGE);
}

/*
 * The loop every tool runs: each of its own options once, in order, with
 * its argument; the common ones handled inside; operands left as they were.
 */
static void parse_loop(const char **argv, char *buf, size_t len)
{
	const char *arg;
	int opt;

	vmt_cli_begin(7, argv, table);
	while ((opt = vmt_cli_next(usage)) > 0) {
		size_t used = strlen(buf);

		arg = vmt_cli_arg();
		snprintf(buf + used, len - used, "%s%d%s%s", used ? " " : "", opt, arg ? "=" : "",
			 arg ? arg : "");
	}
}

static void test_parse_loop(void)
{
	const char *argv[] = { "tool", "-f", "-v", "--output", "x", "op", "-z9", NULL };
	char buf[128] = "";
	int status;
	pid_t pid;

	parse_loop(argv, buf, sizeof(buf));
	CHECK(strcmp(buf, "2 1=x 3=9") == 0);
	CHECK(strcmp(vmt_cli_operand(), "op") == 0);
	/* None left: no error. */
	vmt_cli_no_operands();
	vmt_cli_end();
	vmt_log_adjust(-1);

	pid = fork();
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		parse_loop(argv, buf, sizeof(buf));
		vmt_cli_no_operands();
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == VMT_EXIT_USAGE);
}

/*
 * fn(arg) in a child, its stderr in err: the child's exit status (what fn
 * returns, or what it exit()s with).
 */
static int in_child(int (*fn)(const void *arg), const void *arg, char *err, size_t len)
{
	int p[2], status = -1;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	/* The child's exit() must not write what the parent has buffered. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		_exit(fn(arg));
	}
	close(p[1]);
	while (got < len - 1 && (n = read(p[0], err + got, len - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct exit_case {
	int code;
	const char *out; /* stdout, written to before the exit */
};

static int write_then_exit(const void *arg)
{
	const struct exit_case *c = arg;

	if (!freopen(c->out, "w", stdout))
		return 99;
	printf("what a tool wrote\n");
	return vmt_cli_exit(c->code);
}

static int exit_with(int code, const char *out, char *err, size_t len)
{
	const struct exit_case c = { .code = code, .out = out };

	return in_child(write_then_exit, &c, err, len);
}

/* The code; or, when it is 0 and stdout could not be written, 1: a failure said keeps its code. */
static void test_exit(void)
{
	char err[512];

	CHECK_EQ(exit_with(VMT_EXIT_OK, "/dev/null", err, sizeof(err)), VMT_EXIT_OK);
	CHECK(err[0] == '\0');
	CHECK_EQ(exit_with(VMT_EXIT_BADDATA, "/dev/null", err, sizeof(err)), VMT_EXIT_BADDATA);
	CHECK_EQ(exit_with(VMT_EXIT_OK, "/dev/full", err, sizeof(err)), VMT_EXIT_FAILURE);
	CHECK_STR_CONTAINS(err, "write error on standard output: No space left on device\n");
	CHECK_EQ(exit_with(VMT_EXIT_BADDATA, "/dev/full", err, sizeof(err)), VMT_EXIT_BADDATA);
	CHECK_EQ(exit_with(VMT_EXIT_USAGE, "/dev/full", err, sizeof(err)), VMT_EXIT_USAGE);
}

struct device_case {
	const char *name;
	enum vmt_cli_device_forms forms;
};

static int check_device(const void *arg)
{
	const struct device_case *c = arg;

	return vmt_cli_device_or_usage(c->name, c->forms) == c->name ? 0 : 99;
}

/*
 * What vmt_cli_device_or_usage() does with name, in a child: its exit
 * status, and its stderr in err.
 */
static int device_check(const char *name, enum vmt_cli_device_forms forms, char *err, size_t len)
{
	const struct device_case c = { .name = name, .forms = forms };

	return in_child(check_device, &c, err, len);
}

static void test_device_names(void)
{
	char err[512];

	CHECK_EQ(device_check("vfio3", VMT_CLI_DEVICE_NAMED, err, sizeof(err)), 0);
	CHECK_EQ(device_check("/dev/vfio/devices/vfio3", VMT_CLI_DEVICE_NAMED, err, sizeof(err)),
		 0);
	CHECK_EQ(device_check("fd:3", VMT_CLI_DEVICE_ANY, err, sizeof(err)), 0);
	CHECK_EQ(device_check("fd:3", VMT_CLI_DEVICE_NAMED, err, sizeof(err)), VMT_EXIT_USAGE);
	CHECK_STR_CONTAINS(err, "invalid device 'fd:3' (not vfioN, /dev/vfio/devices/vfioN, a PCI "
				"address or an mdev UUID)\n");
	CHECK_EQ(device_check("../../etc/passwd", VMT_CLI_DEVICE_ANY, err, sizeof(err)),
		 VMT_EXIT_USAGE);
	CHECK_STR_CONTAINS(err, "invalid device '../../etc/passwd' (not vfioN, "
				"/dev/vfio/devices/vfioN, a PCI address, an mdev UUID or fd:N)\n");
	/* One line, whatever the name holds. */
	CHECK_EQ(device_check("vfio0\nvfio-mig-save: forged", VMT_CLI_DEVICE_ANY, err, sizeof(err)),
		 VMT_EXIT_USAGE);
	CHECK_STR_CONTAINS(err, "invalid device 'vfio0\\x0avfio-mig-save: forged' (not ");
	CHECK(strchr(err, '\n') && !strstr(strchr(err, '\n') + 1, "forged"));
}

static void test_common_options_layout(void)
{
	char buf[512];

	snprintf(buf, sizeof(buf), VMT_USAGE_COMMON_OPTIONS(20));
	CHECK_STR_CONTAINS(buf, "\n -h, --help         display this help and exit\n");
	CHECK_STR_CONTAINS(buf, " -V, --version      display the version and exit\n");
	CHECK_STR_CONTAINS(buf, " -q, --quiet        ");
	CHECK_STR_CONTAINS(buf, " -v, --verbose      ");
	snprintf(buf, sizeof(buf), VMT_USAGE_TAIL);
	CHECK_STR_CONTAINS(buf, "\nSee test-cli(1).\n");
}

int main(void)
{
	vmt_log_init("test-cli");
	RUN(test_compress_level_attached_only);
	RUN(test_option_arguments_are_not_rewritten);
	RUN(test_many_arguments_stay_valid);
	RUN(test_compress_level_range);
	RUN(test_common_options_layout);
	RUN(test_parse_loop);
	RUN(test_exit);
	RUN(test_device_names);
	return unit_done();
}
