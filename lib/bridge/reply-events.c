// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replies as events; see reply-events.h.
 */
#include "bridge/reply-events.h"
#include "common/json-doc.h"

static enum vmt_event_kind kind_of(bool sent)
{
	return sent ? VMT_EV_REPLY_SENT : VMT_EV_REPLY_RECEIVED;
}

void vmt_events_ack(struct vmt_events *ev, bool sent, const char *device,
		    const struct migstream_switchover_ack *ack)
{
	struct json_object *f;

	if (!ev)
		return;
	f = vmt_event_fields();
	vmt_json_add_str(f, "record", "SWITCHOVER_ACK");
	vmt_json_add_u64(f, "stream_device", ack->device);
	vmt_json_add_u64(f, "generation", ack->generation);
	vmt_json_add_u64(f, "bytes", ack->bytes);
	vmt_events_emit(ev, kind_of(sent), device, f);
}

void vmt_events_load_result(struct vmt_events *ev, bool sent,
			    const struct migstream_load_result *result)
{
	struct json_object *f;

	if (!ev)
		return;
	f = vmt_event_fields();
	vmt_json_add_str(f, "record", "LOAD_RESULT");
	vmt_json_add_u64(f, "exit_code", result->exit_code);
	vmt_json_add_u64(f, "devices", result->device_count);
	if (result->message[0])
		vmt_json_add_str(f, "message", result->message);
	vmt_events_emit(ev, kind_of(sent), NULL, f);
}
