// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream-cat --timeline; see timeline.h and vfio-mig-events(5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <json-c/json_tokener.h>

#include "common/c.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/outfile.h"
#include "timeline.h"

/* In the order a moment is given to them: the first busy one takes it. */
enum phase {
	PH_QUIESCE,
	PH_STOP,
	PH_READ,
	PH_TRANSFER,
	PH_WRITE,
	PH_RESUME,
	PH_OTHER,
	PH_OVERHEAD, /* nothing busy */
	PH_COUNT
};

static const struct {
	const char *label;  /* in the text's breakdown */
	const char *colour; /* in the picture */
} phases[PH_COUNT] = {
	[PH_QUIESCE] = { "quiesce (P2P)", "#e69f00" },
	[PH_STOP] = { "stop (-> STOP_COPY)", "#d55e00" },
	[PH_READ] = { "stop-copy read", "#0072b2" },
	[PH_TRANSFER] = { "transfer tail", "#009e73" },
	[PH_WRITE] = { "destination write", "#8e44ad" },
	[PH_RESUME] = { "resume arcs", "#56b4e9" },
	[PH_OTHER] = { "other arcs", "#999999" },
	[PH_OVERHEAD] = { "toolkit overhead", "#ffffff" },
};

/* The downtime window's colour in the picture (a test looks for it). */
#define WINDOW_COLOUR "#fff1b8"

#define MAX_LANES 256

struct events_file {
	const char *name;
	bool is_load;
	char host[256];
	int64_t offset; /* added to its monotonic times: the common clock */
	struct json_object **lines;
	size_t nlines;
};

struct lane {
	char name[320];
	bool load;
};

struct span {
	unsigned int lane;
	enum phase phase;
	int64_t start, end;
	char label[96];
};

struct timeline {
	struct events_file files[2];
	int nfiles;
	bool one_host;
	/* The save's last clock-offset event: the load's clock minus the save's. */
	bool have_clock_offset;
	int64_t clock_offset_ns, clock_error_ns;
	struct lane lanes[MAX_LANES];
	unsigned int nlanes;
	struct span *spans;
	size_t nspans, spans_cap;
	bool have_switchover, have_end, end_is_running;
	int64_t win_start, win_end;
	char reason[64];
	uint64_t rounds;
	int64_t phase_ns[PH_COUNT];
};

/* ---- reading the files ---- */

static const char *str_of(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool int_of(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static bool is_kind(struct json_object *obj, const char *kind)
{
	const char *k = str_of(obj, "kind");

	return k && strcmp(k, kind) == 0;
}

static int keep_line(struct events_file *f, struct json_object *obj)
{
	struct json_object **l = realloc(f->lines, (f->nlines + 1) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	f->lines = l;
	f->lines[f->nlines++] = obj;
	return 0;
}

/*
 * Every line, each a JSON object with mono_ns and kind. Blank lines and a
 * last line without its line feed (a full disk) are skipped, as
 * vfio-mig-events(5) asks. Returns an exit code.
 */
static int read_events(struct events_file *f)
{
	FILE *in = fopen(f->name, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int code = VMT_EXIT_OK;

	if (!in) {
		vmt_err("%s: %s", f->name, strerror(errno));
		return VMT_EXIT_FAILURE;
	}
	while (code == VMT_EXIT_OK && (n = getline(&line, &cap, in)) > 0) {
		struct json_object *obj;
		int64_t mono;

		lineno++;
		if (line[n - 1] != '\n')
			break;
		/* the padding before a 4 KiB boundary */
		if (line[strspn(line, " \n")] == '\0')
			continue;
		obj = json_tokener_parse(line);
		if (!obj || !int_of(obj, "mono_ns", &mono) || !str_of(obj, "kind")) {
			vmt_err("%s: line %zu: not an event of vfio-mig-events(5)", f->name,
				lineno);
			code = VMT_EXIT_BADDATA;
		} else if (keep_line(f, obj) < 0) {
			vmt_err("out of memory");
			code = VMT_EXIT_FAILURE;
		}
		if (code != VMT_EXIT_OK)
			json_object_put(obj);
	}
	free(line);
	fclose(in);
	if (code == VMT_EXIT_OK && !f->nlines) {
		vmt_err("%s: no events", f->name);
		code = VMT_EXIT_BADDATA;
	}
	return code;
}

/* Which tool wrote it, and its host. */
static int identify(struct events_file *f)
{
	const char *tool = str_of(f->lines[0], "tool");
	const char *host = str_of(f->lines[0], "host");

	if (!tool || (strcmp(tool, "vfio-mig-save") && strcmp(tool, "vfio-mig-load"))) {
		vmt_err("%s: events of %s, not of vfio-mig-save or vfio-mig-load", f->name,
			tool ? tool : "an unknown tool");
		return VMT_EXIT_BADDATA;
	}
	f->is_load = strcmp(tool, "vfio-mig-load") == 0;
	snprintf(f->host, sizeof(f->host), "%s", host ? host : "");
	return VMT_EXIT_OK;
}

/* "2026-12-07T23:01:02.123456789Z" in ns since the epoch; false if it is not one. */
static bool parse_wall(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	char frac[16] = "";
	int64_t sub = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%9[0-9]Z", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac) != 7)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	for (int i = 0; i < 9; i++)
		sub = sub * 10 + (frac[i] ? frac[i] - '0' : 0);
	*ns = (int64_t)timegm(&tm) * NSEC_PER_SEC + sub;
	return true;
}

/*
 * The save's estimate of the loader's clock (vfio-mig-events(5),
 * clock-offset): its last event holds the best one. False without one.
 */
static bool find_clock_offset(struct timeline *tl)
{
	for (int i = 0; i < tl->nfiles; i++) {
		const struct events_file *f = &tl->files[i];

		if (f->is_load)
			continue;
		for (size_t n = f->nlines; n-- > 0;) {
			const char *kind = str_of(f->lines[n], "kind");

			if (kind && strcmp(kind, "clock-offset") == 0 &&
			    int_of(f->lines[n], "offset_ns", &tl->clock_offset_ns) &&
			    int_of(f->lines[n], "error_ns", &tl->clock_error_ns))
				return true;
		}
	}
	return false;
}

/*
 * One host: monotonic as it is. Two: each file on its wall clock, the
 * load's moved onto the save's by the estimated offset when the save's
 * file has one.
 */
static int set_clocks(struct timeline *tl)
{
	tl->one_host = tl->nfiles < 2 || strcmp(tl->files[0].host, tl->files[1].host) == 0;
	if (tl->one_host)
		return VMT_EXIT_OK;
	tl->have_clock_offset = find_clock_offset(tl);
	for (int i = 0; i < tl->nfiles; i++) {
		struct events_file *f = &tl->files[i];
		int64_t wall, mono;

		if (!parse_wall(str_of(f->lines[0], "time"), &wall) ||
		    !int_of(f->lines[0], "mono_ns", &mono)) {
			vmt_err("%s: line 1: no wall-clock time", f->name);
			return VMT_EXIT_BADDATA;
		}
		f->offset = wall - mono;
		if (f->is_load && tl->have_clock_offset)
			f->offset -= tl->clock_offset_ns;
	}
	return VMT_EXIT_OK;
}

/* ---- spans ---- */

static unsigned int lane_of(struct timeline *tl, bool load, const char *name)
{
	for (unsigned int i = 0; i < tl->nlanes; i++)
		if (tl->lanes[i].load == load && strcmp(tl->lanes[i].name, name) == 0)
			return i;
	if (tl->nlanes == MAX_LANES)
		return MAX_LANES - 1;
	snprintf(tl->lanes[tl->nlanes].name, sizeof(tl->lanes[0].name), "%s", name);
	tl->lanes[tl->nlanes].load = load;
	return tl->nlanes++;
}

static struct span *add_span(struct timeline *tl, unsigned int lane, enum phase phase,
			     int64_t start, int64_t end)
{
	struct span *s;

	if (tl->nspans == tl->spans_cap) {
		size_t n = tl->spans_cap ? 2 * tl->spans_cap : 64;
		struct span *p = realloc(tl->spans, n * sizeof(*p));

		if (!p)
			return NULL;
		tl->spans = p;
		tl->spans_cap = n;
	}
	s = &tl->spans[tl->nspans++];
	*s = (struct span){ .lane = lane, .phase = phase, .start = start, .end = end };
	return s;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && strcmp(s + ls - lt, tail) == 0;
}

static enum phase arc_phase(const struct timeline *tl, bool load, const char *from, const char *to,
			    int64_t start)
{
	if (load)
		return strcmp(from, "RESUMING") == 0 || strncmp(to, "RUNNING", 7) == 0 ? PH_RESUME
										       : PH_OTHER;
	if (!tl->have_switchover || start < tl->win_start)
		return PH_OTHER;
	if (ends_with(to, "_P2P"))
		return PH_QUIESCE;
	return strcmp(to, "STOP_COPY") == 0 ? PH_STOP : PH_OTHER;
}

static void add_arc(struct timeline *tl, const struct events_file *f, struct json_object *e)
{
	const char *from = str_of(e, "from"), *to = str_of(e, "to"), *dev = str_of(e, "device");
	const char *result = str_of(e, "result");
	int64_t start, duration;
	struct span *s;

	if (!from || !to || !dev || !int_of(e, "start_ns", &start) ||
	    !int_of(e, "duration_ns", &duration))
		return;
	start += f->offset;
	s = add_span(tl, lane_of(tl, f->is_load, dev), arc_phase(tl, f->is_load, from, to, start),
		     start, start + duration);
	if (s)
		snprintf(s->label, sizeof(s->label), "%s -> %s%s", from, to,
			 result && strcmp(result, "ok") ? " failed" : "");
	/* The guest runs again once the last destination device is RUNNING. */
	if (f->is_load && strcmp(to, "RUNNING") == 0 && result && !strcmp(result, "ok") &&
	    (!tl->end_is_running || start + duration > tl->win_end)) {
		tl->win_end = start + duration;
		tl->have_end = tl->end_is_running = true;
	}
}

static void add_device_data(struct timeline *tl, const struct events_file *f, struct json_object *e)
{
	const char *dev = str_of(e, "device"), *dir = str_of(e, "direction");
	int64_t start, duration, bytes = 0;
	struct span *s;

	if (!dev || !dir || !int_of(e, "start_ns", &start) || !int_of(e, "duration_ns", &duration))
		return;
	int_of(e, "bytes", &bytes);
	start += f->offset;
	s = add_span(tl, lane_of(tl, f->is_load, dev), f->is_load ? PH_WRITE : PH_READ, start,
		     start + duration);
	if (s)
		snprintf(s->label, sizeof(s->label), "%s %" PRId64 " bytes", dir, bytes);
}

/* The first stop-copy read's start: a channel carries the downtime's data from then on. */
static int64_t first_read_start(const struct timeline *tl)
{
	int64_t first = tl->win_start;
	bool any = false;

	for (size_t i = 0; i < tl->nspans; i++)
		if (tl->spans[i].phase == PH_READ && (!any || tl->spans[i].start < first)) {
			first = tl->spans[i].start;
			any = true;
		}
	return any ? first : tl->win_start;
}

static void add_channel_done(struct timeline *tl, const struct events_file *f,
			     struct json_object *e)
{
	const char *name = str_of(e, "name");
	int64_t ch, end, bytes = 0, start = first_read_start(tl);
	char lane[320];
	struct span *s;

	if (!int_of(e, "channel", &ch) || !int_of(e, "mono_ns", &end))
		return;
	int_of(e, "total_bytes", &bytes);
	end += f->offset;
	snprintf(lane, sizeof(lane), "channel %" PRId64 " %s", ch, name ? name : "");
	s = add_span(tl, lane_of(tl, false, lane), PH_TRANSFER, start < end ? start : end, end);
	if (s)
		snprintf(s->label, sizeof(s->label), "%" PRId64 " bytes", bytes);
}

static void find_switchover(struct timeline *tl, const struct events_file *f)
{
	for (size_t i = 0; i < f->nlines && !tl->have_switchover; i++) {
		struct json_object *e = f->lines[i];
		const char *reason = str_of(e, "reason");
		int64_t rounds = 0;

		if (!is_kind(e, "switchover") || !int_of(e, "mono_ns", &tl->win_start))
			continue;
		tl->win_start += f->offset;
		int_of(e, "rounds", &rounds);
		tl->rounds = (uint64_t)rounds;
		snprintf(tl->reason, sizeof(tl->reason), "%s", reason ? reason : "?");
		tl->have_switchover = true;
	}
}

static void add_device_spans(struct timeline *tl, const struct events_file *f)
{
	for (size_t j = 0; j < f->nlines; j++) {
		struct json_object *e = f->lines[j];

		if (is_kind(e, "arc"))
			add_arc(tl, f, e);
		else if (is_kind(e, "device-data"))
			add_device_data(tl, f, e);
	}
}

static void add_channel_spans(struct timeline *tl, const struct events_file *f)
{
	for (size_t j = 0; j < f->nlines; j++)
		if (is_kind(f->lines[j], "channel-done"))
			add_channel_done(tl, f, f->lines[j]);
}

/*
 * The lanes in the stream's order: the source devices, the channels (a
 * channel's span starts at the first read), the destination devices.
 */
static void add_spans(struct timeline *tl)
{
	for (int i = 0; i < tl->nfiles; i++)
		if (!tl->files[i].is_load)
			add_device_spans(tl, &tl->files[i]);
	for (int i = 0; i < tl->nfiles; i++)
		if (!tl->files[i].is_load)
			add_channel_spans(tl, &tl->files[i]);
	for (int i = 0; i < tl->nfiles; i++)
		if (tl->files[i].is_load)
			add_device_spans(tl, &tl->files[i]);
}

/* Without the load's RUNNING: the end of the last thing the save did in the downtime. */
static void fall_back_end(struct timeline *tl)
{
	if (tl->have_end)
		return;
	for (size_t i = 0; i < tl->nspans; i++) {
		const struct span *s = &tl->spans[i];

		if (s->phase != PH_OTHER && (!tl->have_end || s->end > tl->win_end)) {
			tl->win_end = s->end;
			tl->have_end = true;
		}
	}
	if (!tl->have_end)
		tl->win_end = tl->win_start;
}

/* ---- the breakdown ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The first phase busy over all of [a, b) (spans are clipped to the window). */
static enum phase busy_phase(const struct timeline *tl, int64_t a, int64_t b)
{
	enum phase best = PH_OVERHEAD;

	for (size_t i = 0; i < tl->nspans; i++) {
		const struct span *s = &tl->spans[i];

		if (s->start <= a && s->end >= b && s->phase < best)
			best = s->phase;
	}
	return best;
}

/* Each moment of the window to one phase, at every span's ends. 0 or -ENOMEM. */
static int split_window(struct timeline *tl)
{
	int64_t *cuts = malloc((2 * tl->nspans + 2) * sizeof(*cuts));
	size_t n = 0;

	if (!cuts)
		return -ENOMEM;
	cuts[n++] = tl->win_start;
	cuts[n++] = tl->win_end;
	for (size_t i = 0; i < tl->nspans; i++) {
		const struct span *s = &tl->spans[i];

		if (s->start > tl->win_start && s->start < tl->win_end)
			cuts[n++] = s->start;
		if (s->end > tl->win_start && s->end < tl->win_end)
			cuts[n++] = s->end;
	}
	qsort(cuts, n, sizeof(*cuts), cmp_i64);
	for (size_t i = 0; i + 1 < n; i++)
		if (cuts[i + 1] > cuts[i])
			tl->phase_ns[busy_phase(tl, cuts[i], cuts[i + 1])] += cuts[i + 1] - cuts[i];
	free(cuts);
	return 0;
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static void print_sources(const struct timeline *tl)
{
	for (int i = 0; i < tl->nfiles; i++)
		printf("%s events: %s (host %s)\n", tl->files[i].is_load ? "load" : "save",
		       tl->files[i].name, tl->files[i].host);
	if (tl->one_host)
		printf("clock: one host: the monotonic clock, as it is\n");
	else if (tl->have_clock_offset)
		printf("clock: two hosts: the load's put on the save's wall clock, offset %+.3f ms "
		       "+/- %.3f ms (from the return path's round trips)\n",
		       (double)tl->clock_offset_ns / 1e6, (double)tl->clock_error_ns / 1e6);
	else
		printf("clock: two hosts: each on its wall clock, as it is (their offset is not known "
		       "here)\n");
}

static void print_breakdown(const struct timeline *tl)
{
	int64_t total = tl->win_end - tl->win_start;

	printf("downtime: %.3f ms, from the switchover (%s, after %" PRIu64 " pre-copy round%s) "
	       "to %s\n",
	       ms(total), tl->reason, tl->rounds, tl->rounds == 1 ? "" : "s",
	       tl->end_is_running
		       ? "the last destination device RUNNING"
		       : "the save's last step (no destination RUNNING in these events)");
	for (int p = 0; p < PH_COUNT; p++)
		printf("  %-22s %10.3f ms %5.1f%%%s\n", phases[p].label, ms(tl->phase_ns[p]),
		       total ? 100.0 * (double)tl->phase_ns[p] / (double)total : 0.0,
		       p == PH_OVERHEAD ? "  (no device or channel busy)" : "");
}

/* Every span that touches the window, by lane, at its offset from the switchover. */
static void print_lanes(const struct timeline *tl)
{
	printf("lanes (ms from the switchover: start, duration):\n");
	for (unsigned int l = 0; l < tl->nlanes; l++) {
		printf("  %s %s\n", tl->lanes[l].load ? "load" : "save", tl->lanes[l].name);
		for (size_t i = 0; i < tl->nspans; i++) {
			const struct span *s = &tl->spans[i];

			if (s->lane != l || s->end < tl->win_start || s->start > tl->win_end)
				continue;
			/* A channel's span is the whole transfer; only its tail is the phase's. */
			printf("    %+10.3f %10.3f  %-20s %s\n", ms(s->start - tl->win_start),
			       ms(s->end - s->start),
			       s->phase == PH_TRANSFER ? "transfer" : phases[s->phase].label,
			       s->label);
		}
	}
}

/* ---- the picture ---- */

enum {
	SVG_WIDTH = 1000,
	SVG_LABELS = 300, /* the lanes' names, left of the plot */
	SVG_TOP = 50,
	SVG_LANE = 30,
	SVG_BAR = 18,
};

struct svg_scale {
	int64_t from, to;
};

static double svg_x(const struct svg_scale *sc, int64_t t)
{
	double plot = SVG_WIDTH - SVG_LABELS - 20;

	if (t < sc->from)
		t = sc->from;
	if (t > sc->to)
		t = sc->to;
	return SVG_LABELS + plot * (double)(t - sc->from) / (double)(sc->to - sc->from);
}

static void svg_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static void svg_window(FILE *out, const struct timeline *tl, const struct svg_scale *sc)
{
	double x0 = svg_x(sc, tl->win_start), x1 = svg_x(sc, tl->win_end);
	double y0 = SVG_TOP - 10, h = tl->nlanes * SVG_LANE + 20;

	fprintf(out,
		"<rect id=\"downtime\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
		"fill=\"%s\" stroke=\"#c00000\" stroke-dasharray=\"4 3\"/>\n",
		x0, y0, x1 - x0 > 1 ? x1 - x0 : 1, h, WINDOW_COLOUR);
	fprintf(out,
		"<text x=\"%.2f\" y=\"%d\" font-size=\"12\" fill=\"#c00000\">downtime %.3f ms</text>\n",
		x0, SVG_TOP - 16, ms(tl->win_end - tl->win_start));
}

static void svg_lanes(FILE *out, const struct timeline *tl, const struct svg_scale *sc)
{
	for (unsigned int l = 0; l < tl->nlanes; l++) {
		fprintf(out, "<text x=\"8\" y=\"%d\" font-size=\"12\">%s ",
			SVG_TOP + l * SVG_LANE + 19, tl->lanes[l].load ? "load" : "save");
		svg_text(out, tl->lanes[l].name);
		fputs("</text>\n", out);
	}
	for (size_t i = 0; i < tl->nspans; i++) {
		const struct span *s = &tl->spans[i];
		double x0 = svg_x(sc, s->start), x1 = svg_x(sc, s->end);

		if (s->end < sc->from || s->start > sc->to)
			continue;
		fprintf(out,
			"<rect class=\"span phase-%d\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
			"fill=\"%s\"><title>",
			s->phase, x0, SVG_TOP + s->lane * SVG_LANE + (SVG_LANE - SVG_BAR) / 2,
			x1 - x0 > 1 ? x1 - x0 : 1, SVG_BAR, phases[s->phase].colour);
		svg_text(out, s->label);
		fprintf(out, " (%.3f ms)</title></rect>\n", ms(s->end - s->start));
	}
}

static void svg_legend(FILE *out, const struct timeline *tl)
{
	int y = SVG_TOP + tl->nlanes * SVG_LANE + 30;

	for (int p = 0; p < PH_OVERHEAD; p++) {
		int x = 8 + (p % 4) * 240, row = y + (p / 4) * 20;

		fprintf(out,
			"<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%d\" font-size=\"12\">%s %.3f ms</text>\n",
			x, row, phases[p].colour, x + 20, row + 12, phases[p].label,
			ms(tl->phase_ns[p]));
	}
	fprintf(out, "<text x=\"8\" y=\"%d\" font-size=\"12\">%s %.3f ms</text>\n", y + 52,
		phases[PH_OVERHEAD].label, ms(tl->phase_ns[PH_OVERHEAD]));
}

static int svg_height(const struct timeline *tl)
{
	return SVG_TOP + tl->nlanes * SVG_LANE + 100;
}

/* The picture: self-contained (no script, no external reference). 0 or -errno. */
static int write_svg(const struct timeline *tl, FILE *out)
{
	int64_t pad = (tl->win_end - tl->win_start) / 10 + 1000;
	struct svg_scale sc = { .from = tl->win_start - pad, .to = tl->win_end + pad };

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		SVG_WIDTH, svg_height(tl), SVG_WIDTH, svg_height(tl), SVG_WIDTH, svg_height(tl));
	fprintf(out,
		"<text x=\"8\" y=\"20\" font-size=\"14\">where the downtime went: %.3f ms "
		"(switchover by %s)</text>\n",
		ms(tl->win_end - tl->win_start), tl->reason);
	svg_window(out, tl, &sc);
	svg_lanes(out, tl, &sc);
	svg_legend(out, tl);
	fputs("</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

/* Through lib/common/outfile: the picture is under its name whole or not at all. */
static int save_svg(const struct timeline *tl, const char *name)
{
	struct vmt_outfile of;
	FILE *out;
	int ret = vmt_outfile_open(&of, name);

	if (ret < 0) {
		vmt_err("%s: cannot open for writing: %s", name, strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	out = fdopen(dup(of.fd), "w");
	ret = out ? write_svg(tl, out) : -errno;
	if (out && fclose(out) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0)
		ret = vmt_outfile_commit(&of);
	else
		vmt_outfile_abort(&of);
	vmt_outfile_free(&of);
	if (ret < 0) {
		vmt_err("%s: write error: %s", name, strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

/* ---- the whole ---- */

/*
 * A save's file alone may hold its loader's side too (load-event lines,
 * vfio-mig-events(5)): those become the load's file. An exit code.
 */
static int take_load_events(struct timeline *tl)
{
	struct events_file *save = &tl->files[0], *load = &tl->files[1];
	struct json_object *event;
	int64_t mono;
	int code;

	for (size_t i = 0; i < save->nlines; i++) {
		const char *kind = str_of(save->lines[i], "kind");

		if (!kind || strcmp(kind, "load-event") ||
		    !json_object_object_get_ex(save->lines[i], "event", &event) ||
		    !json_object_is_type(event, json_type_object) ||
		    !int_of(event, "mono_ns", &mono) || !str_of(event, "kind"))
			continue;
		if (keep_line(load, json_object_get(event)) < 0) {
			json_object_put(event);
			vmt_err("out of memory");
			return VMT_EXIT_FAILURE;
		}
	}
	if (!load->nlines)
		return VMT_EXIT_OK;
	load->name = save->name;
	tl->nfiles = 2;
	code = identify(load);
	if (code == VMT_EXIT_OK && !load->is_load) {
		vmt_err("%s: its load-event lines are not of vfio-mig-load", save->name);
		code = VMT_EXIT_BADDATA;
	}
	return code;
}

static int load_files(struct timeline *tl, const char *const *files, int nfiles)
{
	int code = VMT_EXIT_OK;

	for (int i = 0; i < nfiles && code == VMT_EXIT_OK; i++) {
		tl->files[i].name = files[i];
		tl->nfiles = i + 1;
		code = read_events(&tl->files[i]);
		if (code == VMT_EXIT_OK)
			code = identify(&tl->files[i]);
	}
	if (code == VMT_EXIT_OK && nfiles == 2 && tl->files[0].is_load == tl->files[1].is_load) {
		vmt_err("%s and %s: both are events of %s: give a save's and its load's", files[0],
			files[1], tl->files[0].is_load ? "vfio-mig-load" : "vfio-mig-save");
		code = VMT_EXIT_USAGE;
	}
	if (code == VMT_EXIT_OK && nfiles == 1 && !tl->files[0].is_load)
		code = take_load_events(tl);
	return code == VMT_EXIT_OK ? set_clocks(tl) : code;
}

static int analyse(struct timeline *tl)
{
	for (int i = 0; i < tl->nfiles; i++)
		if (!tl->files[i].is_load)
			find_switchover(tl, &tl->files[i]);
	if (!tl->have_switchover) {
		vmt_err("no switchover in these events: the save's events are needed (and a save "
			"that reached the switchover)");
		return VMT_EXIT_BADDATA;
	}
	add_spans(tl);
	fall_back_end(tl);
	if (split_window(tl) < 0) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

static void free_timeline(struct timeline *tl)
{
	for (int i = 0; i < tl->nfiles; i++) {
		for (size_t j = 0; j < tl->files[i].nlines; j++)
			json_object_put(tl->files[i].lines[j]);
		free(tl->files[i].lines);
	}
	free(tl->spans);
}

int cat_timeline(const char *const *files, int nfiles, const char *svg)
{
	static struct timeline tl; /* large: the lanes */
	int code;

	memset(&tl, 0, sizeof(tl));
	code = load_files(&tl, files, nfiles);
	if (code == VMT_EXIT_OK)
		code = analyse(&tl);
	if (code == VMT_EXIT_OK) {
		print_sources(&tl);
		print_breakdown(&tl);
		print_lanes(&tl);
		if (svg)
			code = save_svg(&tl, svg);
	}
	free_timeline(&tl);
	return code;
}
