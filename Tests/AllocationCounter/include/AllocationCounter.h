#ifndef QUANTA_ALLOCATION_COUNTER_H
#define QUANTA_ALLOCATION_COUNTER_H

/// Heap allocation counting for tests. Linking this target interposes malloc, calloc,
/// realloc, free, posix_memalign, aligned_alloc and memalign (forwarding to the next
/// definitions, found with dlsym(RTLD_NEXT)); while counting is enabled, calls made by
/// the thread that enabled it are counted.

/// Starts counting on the calling thread (resets the counts).
void quanta_allocation_counter_start(void);
/// Stops counting.
void quanta_allocation_counter_stop(void);
/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) counted.
long quanta_allocation_counter_allocations(void);
/// Frees counted.
long quanta_allocation_counter_frees(void);

#endif
