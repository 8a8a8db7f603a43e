/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The allocator set up for tools that move records of up to
 * MIGSTREAM_MAX_PAYLOAD bytes between threads.
 */
#ifndef VMT_RECORD_ALLOC_H
#define VMT_RECORD_ALLOC_H

/*
 * Call once at the start of main(), before any thread: record buffers (1
 * to 8 MiB, allocated by one thread and freed by another) are then served
 * from the heap and reused, instead of each being a mapping of its own.
 */
void vmt_record_alloc_init(void);

#endif
