/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tool's --summary-file: its JSON summary, whole under the name, or no
 * summary there at all.
 *
 * The document is written as lib/common/outfile writes every output: a temporary
 * beside the name, renamed into place once complete, so a reader never
 * sees half a summary and a failure destroys nothing. That alone would
 * leave an earlier run's summary under the name when this one cannot be
 * written (a full disk): a reader would take it for this run's. So after
 * a failed write, a summary an earlier run of the same tool left there (a
 * regular file holding one JSON document whose "schema" names the tool
 * of the document being written) is removed; anything else under the name
 * was not made by the tool and stays as it was. The tool then fails: what
 * it was asked to write is missing.
 */
#ifndef VMT_SUMMARY_FILE_H
#define VMT_SUMMARY_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_object.h>

#include "common/failure.h"

/* What a write did; for a failed one, what became of the name. */
struct vmt_summary_file {
	const char *name; /* as given */
	int err;	  /* 0: written; -errno of the write */
	bool stale;	  /* an earlier run's summary was under the name */
	int remove_err;	  /* stale: 0 when it was removed, -errno when it is still there */
};

/*
 * Writes doc (a vmt_json_doc_new() document, freed) to name as
 * vmt_json_emit_file() does; when that fails, removes an earlier summary
 * of the same tool from the name (not when -EEXIST says that someone else
 * put a file there meanwhile). 0, or the write's -errno; sf says the rest.
 */
int vmt_summary_file_write(struct vmt_summary_file *sf, const char *name, struct json_object *doc);

/*
 * What a failed write means for the user, in one phrase: "cannot write the
 * summary: No space left on device; the summary an earlier run left there
 * was removed". Into buf; returns buf.
 */
const char *vmt_summary_file_why(const struct vmt_summary_file *sf, char *buf, size_t len);

/*
 * Records a failed write as the run's failure (vmt_refuse(), the file its
 * place): the run did not give what it was asked for. Returns sf->err.
 */
int vmt_summary_file_fail(struct vmt_failure *f, const struct vmt_summary_file *sf);

/*
 * --summary-file as every tool reports it, before anything is said: doc
 * written to name. A write that fails after a run that succeeded is the
 * run's failure (vmt_summary_file_fail(), its line led by lead, e.g.
 * "every device loaded, but "): what the user asked for is missing. After
 * a run that failed it is one more warning, none when quiet (the JSON
 * document on stderr says the run's own error). true when it failed the
 * run.
 */
bool vmt_summary_file_report(struct vmt_failure *f, const char *name, struct json_object *doc,
			     bool quiet, const char *lead);

#endif
