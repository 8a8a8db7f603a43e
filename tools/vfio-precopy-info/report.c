// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Text and JSON output of vfio-precopy-info.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "common/json-doc.h"
#include "common/strutils.h"
#include "vfio/mig.h"

#include "report.h"

/* A JSON line of type "type"; NULL without memory. */
static struct json_object *json_line(const char *type)
{
	struct json_object *doc =
		vmt_json_doc_new("vfio-precopy-info", PRECOPY_JSON_SCHEMA_VERSION);

	vmt_json_add_str(doc, "type", type);
	return doc;
}

static void add_u64_or_null(struct json_object *doc, const char *key, bool known, uint64_t value)
{
	if (known)
		vmt_json_add_u64(doc, key, value);
	else
		vmt_json_add_null(doc, key);
}

static void device_json(struct precopy_report *r, const struct precopy_device_facts *f)
{
	struct json_object *doc = json_line("device");

	vmt_json_add_str(doc, "device", f->name);
	vmt_json_add_str(doc, "node", f->node);
	vmt_json_add_str(doc, "access", f->access);
	vmt_json_add_flags(doc, "migration_flags", f->mig_flags, vmt_migration_flag_name);
	vmt_json_add_str(doc, "state", vmt_state_name(f->state));
	add_u64_or_null(doc, "stop_copy_bytes", f->stop_copy_known, f->stop_copy_bytes);
	vmt_json_add_bool(doc, "pre_copy", f->has_precopy);
	vmt_json_emit(r->out, doc);
}

void report_device(struct precopy_report *r, const struct precopy_device_facts *f)
{
	char flags[96], size[32];

	vmt_migration_flags_string(f->mig_flags, flags, sizeof(flags));
	if (r->json) {
		device_json(r, f);
		return;
	}
	fprintf(r->out, "device:           %s (%s, %s)\n", f->name, f->node, f->access);
	fprintf(r->out, "migration flags:  %s (0x%" PRIx64 ")\n", flags, f->mig_flags);
	fprintf(r->out, "state:            %s\n", vmt_state_name(f->state));
	if (f->stop_copy_known)
		fprintf(r->out, "stop-copy size:   %" PRIu64 " bytes (%s, MIG_DATA_SIZE)\n",
			f->stop_copy_bytes,
			vmt_format_size(f->stop_copy_bytes, size, sizeof(size)));
	else
		fprintf(r->out,
			"stop-copy size:   unknown (the device does not report MIG_DATA_SIZE)\n");
	if (!f->has_precopy)
		fprintf(r->out, "pre-copy:         not supported (no VFIO_MIGRATION_PRE_COPY)\n");
}

static void sample_json(struct precopy_report *r, const struct precopy_sample *s)
{
	struct json_object *doc = json_line("sample");

	vmt_json_add_double(doc, "time_s", s->t, 6);
	vmt_json_add_str(doc, "state", vmt_state_name(s->state));
	vmt_json_add_u64(doc, "initial_bytes", s->initial_bytes);
	vmt_json_add_u64(doc, "dirty_bytes", s->dirty_bytes);
	add_u64_or_null(doc, "stop_copy_bytes", s->stop_copy_known, s->stop_copy_bytes);
	vmt_json_add_u64(doc, "drained_bytes", s->drained_bytes);
	vmt_json_add_u64(doc, "drained_total_bytes", s->drained_total);
	vmt_json_add_double(doc, "new_bytes_per_s", s->rate_known ? s->rate : NAN, 0);
	if (s->reinit_known)
		vmt_json_add_bool(doc, "reinit", s->reinit);
	else
		vmt_json_add_null(doc, "reinit");
	vmt_json_emit(r->out, doc);
}

/* The REINIT column: yes or no with pre-copy info v2, "-" when the device cannot say. */
static const char *reinit_cell(const struct precopy_sample *s)
{
	if (!s->reinit_known)
		return "-";
	return s->reinit ? "yes" : "no";
}

void report_sample(struct precopy_report *r, const struct precopy_sample *s)
{
	char stop[24] = "-", rate[24] = "-";

	if (r->json) {
		sample_json(r, s);
		return;
	}
	if (!r->table) {
		fprintf(r->out,
			"pre-copy:         initial %" PRIu64 " bytes, dirty %" PRIu64
			" bytes (in %s)\n",
			s->initial_bytes, s->dirty_bytes, vmt_state_name(s->state));
		if (s->reinit)
			fprintf(r->out,
				"reinit:           new initial data (VFIO_PRECOPY_INFO_REINIT)\n");
		if (s->drained_bytes)
			fprintf(r->out, "drained:          %" PRIu64 " bytes\n", s->drained_bytes);
		return;
	}
	if (r->rows++ % 20 == 0)
		fprintf(r->out, "%9s %-12s %14s %14s %14s %14s %14s %6s\n", "TIME", "STATE",
			"INITIAL", "DIRTY", "STOP-COPY", "DRAINED", "NEW/s", "REINIT");
	if (s->stop_copy_known)
		snprintf(stop, sizeof(stop), "%" PRIu64, s->stop_copy_bytes);
	if (s->rate_known)
		snprintf(rate, sizeof(rate), "%.0f", s->rate);
	fprintf(r->out, "%9.3f %-12s %14" PRIu64 " %14" PRIu64 " %14s %14" PRIu64 " %14s %6s\n",
		s->t, vmt_state_name(s->state), s->initial_bytes, s->dirty_bytes, stop,
		s->drained_bytes, rate, reinit_cell(s));
}

static void estimate_json(struct precopy_report *r, const struct precopy_estimate_input *in,
			  const struct precopy_estimate *e, unsigned int samples)
{
	struct json_object *doc = json_line("estimate");
	bool converges = e->converges_known && e->converges;

	vmt_json_add_double(doc, "bandwidth_bytes_per_s", in->bandwidth, 0);
	vmt_json_add_double(doc, "downtime_target_s", in->downtime_target_s, 6);
	vmt_json_add_u64(doc, "samples", samples);
	vmt_json_add_u64(doc, "reinits", in->reinits);
	vmt_json_add_double(doc, "reinit_time_s", in->reinits ? in->since_s : NAN, 6);
	vmt_json_add_u64(doc, "pending_bytes", in->pending_bytes);
	vmt_json_add_double(doc, "new_bytes_per_s", in->rate_known ? in->rate : NAN, 0);
	if (e->converges_known)
		vmt_json_add_bool(doc, "converges", e->converges);
	else
		vmt_json_add_null(doc, "converges");
	vmt_json_add_double(doc, "precopy_time_s", converges ? e->precopy_time_s : NAN, 6);
	add_u64_or_null(doc, "stop_copy_bytes", e->stop_copy_known, in->stop_copy_bytes);
	vmt_json_add_double(doc, "stop_copy_time_s", e->stop_copy_known ? e->stop_copy_time_s : NAN,
			    6);
	if (e->stop_copy_known)
		vmt_json_add_bool(doc, "meets_downtime", e->meets_downtime);
	else
		vmt_json_add_null(doc, "meets_downtime");
	vmt_json_emit(r->out, doc);
}

void report_estimate(struct precopy_report *r, const struct precopy_estimate_input *in,
		     const struct precopy_estimate *e, unsigned int samples)
{
	char bw[32], pend[32], rate[32], stop[32];

	if (r->json) {
		estimate_json(r, in, e, samples);
		return;
	}
	vmt_format_size((uint64_t)in->bandwidth, bw, sizeof(bw));
	vmt_format_size(in->pending_bytes, pend, sizeof(pend));
	fprintf(r->out, "estimate (a first-order model, not a measurement of a migration):\n");
	fprintf(r->out, "  inputs:         bandwidth %s/s, downtime target %.3f s, %u sample(s)\n",
		bw, in->downtime_target_s, samples);
	if (in->reinits)
		fprintf(r->out,
			"  reinit:         %u new initial section(s); figures from the last,"
			" at %.3f s\n",
			in->reinits, in->since_s);
	if (!e->converges_known && in->reinits) {
		fprintf(r->out,
			"  pre-copy:       rate of new state unknown (no sample after the last"
			" REINIT)\n");
	} else if (!e->converges_known) {
		fprintf(r->out,
			"  pre-copy:       rate of new state unknown (one sample: use --watch"
			" or --count)\n");
	} else {
		vmt_format_size((uint64_t)in->rate, rate, sizeof(rate));
		if (e->converges)
			fprintf(r->out,
				"  pre-copy:       converges: new state %s/s is %.1f%% of the"
				" bandwidth; about %.3f s for the %s pending\n",
				rate, e->rate_share * 100, e->precopy_time_s, pend);
		else
			fprintf(r->out,
				"  pre-copy:       does NOT converge: new state %s/s is %.1f%%"
				" of the bandwidth\n",
				rate, e->rate_share * 100);
	}
	if (!e->stop_copy_known) {
		fprintf(r->out, "  stop-copy:      size unknown (no MIG_DATA_SIZE)\n");
	} else {
		vmt_format_size(in->stop_copy_bytes, stop, sizeof(stop));
		fprintf(r->out, "  stop-copy:      about %.6f s for %s: %s the %.3f s target\n",
			e->stop_copy_time_s, stop, e->meets_downtime ? "within" : "OVER",
			in->downtime_target_s);
	}
}

void report_failure(struct precopy_report *r, const struct vmt_failure *f, const char *line)
{
	if (r->json)
		vmt_failure_emit_json_line(r->out, json_line("error"), f, line);
}

int report_flush(struct precopy_report *r)
{
	errno = 0;
	if (fflush(r->out) == 0 && !ferror(r->out))
		return 0;
	return errno ? -errno : -EIO;
}

const char *report_name(const struct precopy_report *r)
{
	return r->out == stdout ? "<stdout>" : "<stderr>";
}
