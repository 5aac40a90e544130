#ifndef QUANTA_ALLOCATION_COUNTER_H
#define QUANTA_ALLOCATION_COUNTER_H

/// Heap allocation counting for tests. Linking this target interposes malloc, calloc,
/// realloc, free, posix_memalign, aligned_alloc and memalign (forwarding to the next
/// definitions, found with dlsym(RTLD_NEXT)); while counting is enabled, calls made by
/// the thread that enabled it are counted.

/// 1 when the interposer is linked in; 0 in AddressSanitizer builds, where it is compiled
/// out (the sanitizer's allocator must own every block) and nothing is counted.
int quanta_allocation_counter_available(void);
/// Starts counting on the calling thread (resets the counts).
void quanta_allocation_counter_start(void);
/// Stops counting.
void quanta_allocation_counter_stop(void);
/// Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) counted.
long quanta_allocation_counter_allocations(void);
/// Frees counted.
long quanta_allocation_counter_frees(void);

#endif
