// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/vfio/mig's notes as events; see mig-events.h.
 */
#include <string.h>

#include "common/json-doc.h"
#include "vfio/mig-events.h"
#include "vfio/mig.h"
#include "vfio/state.h"

/* "ok", or the errno's name and its text: what every event with a result carries. */
static void add_result(struct json_object *f, int err)
{
	vmt_json_add_str(f, "result", err ? "failed" : "ok");
	if (!err)
		return;
	vmt_json_add_i64(f, "errno", -err);
	vmt_json_add_str(f, "error", strerror(-err));
}

static void record_arc(struct vmt_events *ev, const struct vmt_mig_event *e, struct json_object *f)
{
	vmt_json_add_str(f, "from", vmt_state_name(e->from));
	vmt_json_add_str(f, "to", vmt_state_name(e->to));
	vmt_json_add_u64(f, "start_ns", e->start_ns);
	vmt_json_add_u64(f, "duration_ns", e->duration_ns);
	add_result(f, e->err);
	vmt_events_emit(ev, VMT_EV_ARC, e->dev->name, f);
}

static void record_ioctl_failure(struct vmt_events *ev, const struct vmt_mig_event *e,
				 struct json_object *f)
{
	vmt_json_add_str(f, "ioctl", e->what);
	vmt_json_add_str(f, "state", vmt_state_name(e->from));
	add_result(f, e->err);
	vmt_events_emit(ev, VMT_EV_IOCTL_FAILED, e->dev->name, f);
}

static void record_recovery(struct vmt_events *ev, const struct vmt_mig_event *e,
			    struct json_object *f)
{
	vmt_json_add_str(f, "step", e->what);
	vmt_json_add_str(f, "state", vmt_state_name(e->from));
	vmt_json_add_str(f, "target", vmt_state_name(e->to));
	add_result(f, e->err);
	vmt_events_emit(ev, VMT_EV_RECOVERY, e->dev->name, f);
}

static void observe(const struct vmt_mig_event *e, void *arg)
{
	struct vmt_events *ev = arg;
	struct json_object *f = vmt_event_fields();

	switch (e->note) {
	case VMT_MIG_NOTE_ARC:
		record_arc(ev, e, f);
		break;
	case VMT_MIG_NOTE_IOCTL_FAILED:
		record_ioctl_failure(ev, e, f);
		break;
	case VMT_MIG_NOTE_RECOVERY:
	default:
		record_recovery(ev, e, f);
		break;
	}
}

void vmt_mig_record_events(struct vmt_events *ev)
{
	vmt_mig_set_observer(ev ? observe : NULL, ev);
}
