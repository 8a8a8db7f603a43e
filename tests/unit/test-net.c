// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/net without a network: the addresses parsed and refused, and the
 * admission of a set (which channel may join, and which is refused why).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/address.h"
#include "net/admission.h"
#include "unit.h"

static int parse(const char *s, struct vmt_net_address *a, char *err)
{
	return vmt_net_address_parse(s, a, err, 256);
}

static void test_address_forms(void)
{
	struct vmt_net_address a;
	char err[256];

	CHECK_EQ(parse("tcp:example.org:4444", &a, err), 0);
	CHECK_EQ(a.kind, VMT_NET_TCP);
	CHECK(strcmp(a.host, "example.org") == 0 && strcmp(a.port, "4444") == 0);
	CHECK_EQ(parse("tcp:127.0.0.1:1", &a, err), 0);
	CHECK(strcmp(a.host, "127.0.0.1") == 0 && strcmp(a.port, "1") == 0);
	CHECK_EQ(parse("tcp:[::1]:65535", &a, err), 0);
	CHECK(strcmp(a.host, "::1") == 0 && strcmp(a.port, "65535") == 0);
	CHECK_EQ(parse("tcp::4444", &a, err), 0);
	CHECK(a.host[0] == '\0' && strcmp(a.port, "4444") == 0);
	CHECK_EQ(parse("unix:/run/x.sock", &a, err), 0);
	CHECK_EQ(a.kind, VMT_NET_UNIX);
	CHECK(strcmp(a.path, "/run/x.sock") == 0);
	CHECK(vmt_net_is_address("tcp:x") && vmt_net_is_address("unix:"));
	CHECK(!vmt_net_is_address("fd:3") && !vmt_net_is_address("tcpfile") &&
	      !vmt_net_is_address("-"));
}

static void test_address_refused(void)
{
	static const char *const bad[] = {
		"tcp:host",    "tcp:host:",	"tcp:host:0",	"tcp:host:65536",
		"tcp:host:-1", "tcp:host:4x",	"tcp:::1:4444", "tcp:[::1]",
		"tcp:[]:4444", "tcp:[::1]4444", "unix:",	"file.vms",
	};
	struct vmt_net_address a;
	char err[256], longpath[300] = "unix:";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i], &a, err) != -EINVAL || !err[0]) {
			printf("#   '%s' was not refused with a reason\n", bad[i]);
			CHECK(0);
		}
	}
	memset(longpath + 5, 'a', 250);
	longpath[255] = '\0';
	CHECK_EQ(parse(longpath, &a, err), -EINVAL);
	CHECK_STR_CONTAINS(err, "too long");
}

static struct vmt_net_first channel_of(uint8_t id, uint32_t k, uint32_t n)
{
	struct vmt_net_first f = { .has_channel = true };

	memset(f.channel.set_id, id, sizeof(f.channel.set_id));
	f.channel.channel = k;
	f.channel.channel_count = n;
	return f;
}

static void test_admission_of_a_set(void)
{
	struct vmt_net_set set = { 0 };
	struct vmt_net_first f;
	char err[256];

	f = channel_of(7, 2, 3);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), 2); /* names the set */
	CHECK(!vmt_net_set_complete(&set));
	f = channel_of(8, 0, 3);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), -EPERM);
	CHECK_STR_CONTAINS(err, "another set");
	f = channel_of(7, 2, 3);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), -EPERM);
	CHECK_STR_CONTAINS(err, "taken already");
	f = channel_of(7, 1, 4);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), -EPERM);
	CHECK_STR_CONTAINS(err, "the set has 3 channels");
	f = (struct vmt_net_first){ 0 };
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), -EPERM);
	f = channel_of(7, 0, 3);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), 0);
	f = channel_of(7, 1, 3);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), 1);
	CHECK(vmt_net_set_complete(&set));
	f = channel_of(7, 1, 3);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), -EPERM);
	CHECK_STR_CONTAINS(err, "beyond the set's 3 channels");
}

static void test_admission_of_one_stream(void)
{
	struct vmt_net_set set = { 0 };
	struct vmt_net_first plain = { 0 }, f = channel_of(1, 0, 2);
	char err[256];

	CHECK_EQ(vmt_net_set_admit(&set, &plain, err, sizeof(err)), 0);
	CHECK(vmt_net_set_complete(&set));
	CHECK_EQ(vmt_net_set_admit(&set, &plain, err, sizeof(err)), -EPERM);
	CHECK_EQ(vmt_net_set_admit(&set, &f, err, sizeof(err)), -EPERM);
}

int main(void)
{
	RUN(test_address_forms);
	RUN(test_address_refused);
	RUN(test_admission_of_a_set);
	RUN(test_admission_of_one_stream);
	return unit_done();
}
