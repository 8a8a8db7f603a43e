// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/json-doc and lib/common/failure: the schema key, UTF-8 passed through and
 * invalid bytes escaped, control characters, units, flags, the ok/error
 * part, and the one error line for many devices.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json_tokener.h>

#include "common/c.h"
#include "common/failure.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "vfio/device.h"
#include "vfio/uapi/vfio-uapi.h"
#include "unit.h"

/* The one line vmt_json_write() prints for doc (freed); malloc'd. */
static char *line_of(struct json_object *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m != NULL);
	CHECK_EQ(vmt_json_emit(m, doc), 0);
	fclose(m);
	return buf;
}

/* doc with one string field, as written and parsed back; returns the parsed value. */
static char *string_round_trip(const char *value, char **line)
{
	struct json_object *doc = vmt_json_doc_new("test", 1), *back, *field;
	char *text;

	vmt_json_add_str(doc, "name", value);
	*line = line_of(doc);
	back = json_tokener_parse(*line);
	CHECK(back != NULL);
	if (!back)
		return strdup("(unparsed)");
	CHECK(json_object_object_get_ex(back, "name", &field));
	text = strdup(json_object_get_string(field));
	json_object_put(back);
	return text;
}

static void test_schema_first(void)
{
	char *line = line_of(vmt_json_doc_new("vfio-mig-save", 2));

	CHECK(strncmp(line, "{ \"schema\": \"vfio-mig-save/2\"", 29) == 0);
	CHECK(line[strlen(line) - 1] == '\n');
	free(line);
}

static void test_utf8_passes_through(void)
{
	const char *names[] = { "café", "日本語", "\xf0\x9f\x98\x80", "\xc2\xa0 NBSP",
				"\xef\xbf\xbf" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *line, *back = string_round_trip(names[i], &line);

		CHECK(strcmp(back, names[i]) == 0);
		/* Raw UTF-8 in the output, not \u escapes of its bytes. */
		CHECK_STR_CONTAINS(line, names[i]);
		free(back);
		free(line);
	}
}

static void check_cleaned(const char *in, const char *want)
{
	char *line, *back = string_round_trip(in, &line);

	if (strcmp(back, want) != 0)
		printf("#   \"%s\" came back as \"%s\", want \"%s\"\n", in, back, want);
	CHECK(strcmp(back, want) == 0);
	free(back);
	free(line);
}

static void test_invalid_utf8_escaped(void)
{
	check_cleaned("caf\xe9", "caf\\xE9"); /* Latin-1 */
	check_cleaned("\xff\xfe", "\\xFF\\xFE");
	check_cleaned("a\x80z", "a\\x80z");			   /* stray continuation */
	check_cleaned("\xc0\xaf", "\\xC0\\xAF");		   /* overlong '/' */
	check_cleaned("\xe0\x80\xaf", "\\xE0\\x80\\xAF");	   /* overlong, 3 bytes */
	check_cleaned("\xed\xa0\x80", "\\xED\\xA0\\x80");	   /* surrogate U+D800 */
	check_cleaned("\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"); /* > U+10FFFF */
	check_cleaned("\xf5\x80", "\\xF5\\x80");
	check_cleaned("end\xe2\x82", "end\\xE2\\x82");	 /* truncated at the end */
	check_cleaned("\xe2\x82 x", "\\xE2\\x82 x");	 /* truncated in the middle */
	check_cleaned("ok \xc3\xa9 \xff", "ok é \\xFF"); /* valid kept next to invalid */
}

static void test_control_characters(void)
{
	char *line, *back = string_round_trip("a\x1b]0;x\x07\nb\t\"\\/", &line);

	CHECK(strcmp(back, "a\x1b]0;x\x07\nb\t\"\\/") == 0);
	CHECK_STR_CONTAINS(line, "\\u001b");
	CHECK_STR_CONTAINS(line, "\\u0007");
	CHECK_STR_CONTAINS(line, "\\n");
	CHECK(!strchr(line, '\x1b'));
	CHECK(strchr(line, '\n') == line + strlen(line) - 1);
	free(back);
	free(line);

	/* DEL and C1 controls (U+0085, U+009B CSI) are escaped too; other UTF-8 stays raw. */
	back = string_round_trip("x\x7f\xc2\x85\xc2\x9b[2J\xc2\xa0é\"\\", &line);
	CHECK(strcmp(back, "x\x7f\xc2\x85\xc2\x9b[2J\xc2\xa0é\"\\") == 0);
	CHECK_STR_CONTAINS(line, "\"x\\u007f\\u0085\\u009b[2J\xc2\xa0é\\\"\\\\\"");
	free(back);
	free(line);
	back = string_round_trip("a\x1b]0;x\x07\nb\t\"\\/", &line);
	/* Paths stay readable: "/" is not escaped. */
	CHECK_STR_CONTAINS(line, "\\\\/\"");
	free(back);
	free(line);
}

static const char *test_flag_name(unsigned int bit)
{
	return bit == 0 ? "STOP_COPY" : bit == 2 ? "PRE_COPY" : NULL;
}

static void test_units_and_flags(void)
{
	struct json_object *doc = vmt_json_doc_new("test", 1);
	char *line;

	vmt_json_add_seconds(doc, "total_s", 1500000001);
	vmt_json_add_rate(doc, "rate_bytes_per_s", 3000, 1500000000);
	vmt_json_add_rate(doc, "none_bytes_per_s", 3000, 0);
	vmt_json_add_double(doc, "ratio", 0.25, 4);
	vmt_json_add_double(doc, "nan", 0.0 / 0.0, 4);
	vmt_json_add_u64(doc, "big", UINT64_MAX);
	vmt_json_add_flags(doc, "flags", 0x15, test_flag_name);
	line = line_of(doc);
	CHECK_STR_CONTAINS(line, "\"total_s\": 1.500000001");
	CHECK_STR_CONTAINS(line, "\"rate_bytes_per_s\": 2000,");
	CHECK_STR_CONTAINS(line, "\"none_bytes_per_s\": null");
	CHECK_STR_CONTAINS(line, "\"ratio\": 0.2500");
	CHECK_STR_CONTAINS(line, "\"nan\": null");
	CHECK_STR_CONTAINS(line, "\"big\": 18446744073709551615");
	CHECK_STR_CONTAINS(
		line, "\"flags\": 21, \"flags_names\": [ \"STOP_COPY\", \"PRE_COPY\", \"bit 4\" ]");
	free(line);
}

static void test_first_failure_wins(void)
{
	struct vmt_failure f = { 0 };
	const struct vmt_where at = {
		.file = "s.vms",
		.has_record = true,
		.record = 7,
		.record_type = "DATA",
		.offset = 4096,
	};
	struct vmt_device_fate fate = { .name = "vfio0", .state = "ERROR", .touched = false };
	char *line;

	CHECK(!vmt_failed(&f));
	CHECK_EQ(vmt_fail(&f, &at, -EIO, 0, "writing the state"), -EIO);
	CHECK_EQ(vmt_refuse(&f, NULL, -EINVAL, 2, "a consequence"), -EINVAL);
	CHECK_EQ(vmt_failure_exit_code(&f), 1);
	line = vmt_failure_line(&f, &fate, 1);
	CHECK(strcmp(line,
		     "s.vms: record 7 (DATA) at byte 4096: writing the state: Input/output error; device vfio0 untouched, ERROR") ==
	      0);
	free(line);
	vmt_failure_free(&f);
	CHECK(!vmt_failed(&f));
}

static void test_failure_json(void)
{
	struct vmt_failure f = { 0 };
	const struct vmt_where at = { .device = "vfio0" };
	struct json_object *doc = vmt_json_doc_new("test", 1);
	char *line;

	vmt_refuse(&f, &at, -EBADMSG, 0, "bad");
	vmt_failure_add_json(doc, &f, "vfio0: bad");
	line = line_of(doc);
	CHECK_STR_CONTAINS(
		line,
		"\"ok\": false, \"error\": { \"message\": \"vfio0: bad\", \"errno\": \"EBADMSG\", \"exit_code\": 4, \"file\": null, \"record\": null, \"record_type\": null, \"offset\": null, \"device\": \"vfio0\" }");
	free(line);
	vmt_failure_free(&f);

	doc = vmt_json_doc_new("test", 1);
	vmt_failure_add_json(doc, &f, NULL);
	line = line_of(doc);
	CHECK_STR_CONTAINS(line, "\"ok\": true, \"error\": null");
	free(line);
}

/* The last line of a line-oriented output: the tool's leading keys, then ok and error. */
static void test_failure_json_line(void)
{
	struct vmt_failure f = { 0 };
	struct json_object *doc;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m != NULL);
	/* Nothing failed: nothing written. */
	CHECK_EQ(vmt_failure_emit_json_line(m, vmt_json_doc_new("tool", 1), &f, NULL), 0);
	vmt_refuse(&f, &(struct vmt_where){ .device = "vfio0" }, -EIO, 0, "café gone");
	doc = vmt_json_doc_new("tool", 1);
	vmt_json_add_str(doc, "type", "error");
	CHECK_EQ(vmt_failure_emit_json_line(m, doc, &f, "vfio0: café gone"), 0);
	doc = vmt_json_doc_new("tool", 1);
	CHECK_EQ(vmt_error_emit_json_line(m, doc, -EPIPE, 0, "write error"), 0);
	fclose(m);
	CHECK(strcmp(buf,
		     "{ \"schema\": \"tool/1\", \"type\": \"error\", \"ok\": false, \"error\": { "
		     "\"message\": \"vfio0: café gone\", \"errno\": \"EIO\", \"exit_code\": 1, "
		     "\"file\": null, \"record\": null, \"record_type\": null, \"offset\": null, "
		     "\"device\": \"vfio0\" } }\n"
		     "{ \"schema\": \"tool/1\", \"ok\": false, \"error\": { \"message\": \"write error\", "
		     "\"errno\": \"EPIPE\", \"exit_code\": 1, \"file\": null, \"record\": null, "
		     "\"record_type\": null, \"offset\": null, \"device\": null } }\n") == 0);
	free(buf);
	vmt_failure_free(&f);
}

static void test_line_for_many_devices(void)
{
	struct vmt_device_fate fates[64];
	char names[64][32];
	struct vmt_failure f = { 0 };
	char *line;

	for (int i = 0; i < 64; i++) {
		snprintf(names[i], sizeof(names[i]), "/dev/vfio/devices/vfio%d", i);
		fates[i] = (struct vmt_device_fate){
			.name = names[i],
			.state = "RUNNING",
			.touched = true,
			.reset = true,
		};
	}
	fates[7].recovery_failed = true;
	fates[7].state = "ERROR";
	fates[63].touched = false;
	vmt_refuse(&f, NULL, -EIO, 0, "it broke");
	line = vmt_failure_line(&f, fates, 64);
	CHECK(strcmp(line, "it broke; 62 devices reset, now RUNNING"
			   "; device /dev/vfio/devices/vfio7 reset, recovery failed, now ERROR"
			   "; device /dev/vfio/devices/vfio63 untouched, RUNNING") == 0);
	CHECK(!strchr(line, '\n'));
	free(line);

	/* Up to four devices, each is named. */
	line = vmt_failure_line(&f, fates, 2);
	CHECK(strcmp(line, "it broke; device /dev/vfio/devices/vfio0 reset, now RUNNING"
			   "; device /dev/vfio/devices/vfio1 reset, now RUNNING") == 0);
	free(line);
	vmt_failure_free(&f);
}

/* lib/common/log: an error line is printed whole, however long (no 2048-byte cut). */
static void test_log_line_not_cut(void)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char msg[6001], got[7000];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	vmt_err("%s", msg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	CHECK(fgets(got, sizeof(got), tmp) != NULL);
	CHECK_EQ(strlen(got), strlen("test-json: error: ") + 6000 + 1);
	CHECK(fgets(got, sizeof(got), tmp) == NULL);
	fclose(tmp);
}

int main(void)
{
	vmt_log_init("test-json");
	RUN(test_schema_first);
	RUN(test_utf8_passes_through);
	RUN(test_invalid_utf8_escaped);
	RUN(test_control_characters);
	RUN(test_units_and_flags);
	RUN(test_first_failure_wins);
	RUN(test_failure_json);
	RUN(test_failure_json_line);
	RUN(test_line_for_many_devices);
	RUN(test_log_line_not_cut);
	return unit_done();
}
