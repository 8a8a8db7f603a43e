/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migstream-cat --timeline: where the downtime went, from the flight
 * recorder's files (vfio-mig-events(5)) of a save and of its load.
 *
 * The downtime is the time from the switchover (the save's "switchover"
 * event: pre-copy ends, the source devices are quiesced and stopped) to
 * the last destination device RUNNING (the end of the load's last arc to
 * RUNNING). Each moment of it is given to the first of these that was
 * busy then: quiesce (source arcs to *_P2P), stop (source arcs to
 * STOP_COPY), the stop-copy read of a source device, the transfer tail (a
 * channel still carrying the stream after every read ended), the write
 * of a destination device, the destination's resume arcs, other arcs;
 * a moment nothing was busy is the toolkit's own overhead.
 *
 * Clocks: two files of one host share CLOCK_MONOTONIC and are used as
 * they are. Files of two hosts are put on their wall clocks (each file's
 * monotonic times moved by its own wall - monotonic offset), whose offset
 * is not known here: the text says so.
 */
#ifndef VMT_CAT_TIMELINE_H
#define VMT_CAT_TIMELINE_H

/*
 * The breakdown of files[0..nfiles) (one or two events files) on
 * standard output; with svg, the same as an SVG picture in that file.
 * Returns the exit code.
 */
int cat_timeline(const char *const *files, int nfiles, const char *svg);

#endif
