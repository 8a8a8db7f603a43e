// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Why: glibc's malloc gives a request of more than M_MMAP_THRESHOLD bytes
 * (128 KiB until the first such free moves it) a mapping of its own, and
 * free() unmaps it; a heap that was given back (trimmed) is faulted in
 * again. A record buffer allocated in a reader thread and freed in a
 * writer thread then costs a page fault every 4 KiB it carries: measured
 * on vfio-mig-load over four channels, about half of its CPU time and a
 * third of its throughput (bench/parallel, NEWS). With every record buffer
 * below the threshold and the trim threshold above what the tools keep in
 * flight, a freed buffer is the next one: the pages are faulted in once.
 *
 * Memory stays bounded: what the tools hold at once is bounded by their
 * queue and reorder limits, and the heap keeps at most the trim threshold
 * of free memory above that. One heap (arena) for every thread: with one
 * per thread, as glibc gives up to 8 per CPU, a buffer freed by one thread
 * stays in its arena's free memory, and a set of 64 channels read at once
 * touched each arena's own peak: measured 380 MB of RSS for a read-ahead
 * bounded at 17 MiB (lib/stream/channel-set), 58 MB with one arena. The
 * allocations are few and large (a record each), so one lock costs nothing.
 */
#include <malloc.h>

#include "stream/migstream.h"
#include "stream/record-alloc.h"

/* Above the largest record plus its bookkeeping. */
#define RECORD_MMAP_THRESHOLD (2 * MIGSTREAM_MAX_PAYLOAD)
/* Free heap kept for reuse: a default --queue-size worth. */
#define RECORD_TRIM_THRESHOLD (64u << 20)

void vmt_record_alloc_init(void)
{
	/* Each a hint: with another allocator (ASan's) they do nothing, and nothing needs them. */
	mallopt(M_MMAP_THRESHOLD, (int)RECORD_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, (int)RECORD_TRIM_THRESHOLD);
	mallopt(M_ARENA_MAX, 1);
}
