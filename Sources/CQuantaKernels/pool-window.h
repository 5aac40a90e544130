// The pooling kernels' window (layout-neon.c's max pool, average-pool.c): the taps of a
// window that lie inside the input, one axis at a time.
#ifndef QUANTA_POOL_WINDOW_H
#define QUANTA_POOL_WINDOW_H

/// The window starting at `origin` (kernel taps) on an axis of `size` values: its taps inside,
/// first ..< end (padding never counts).
static inline void quanta_pool_span(long origin, long kernel, long size, long *first, long *end) {
    *first = origin < 0 ? 0 : origin;
    *end = origin + kernel > size ? size : origin + kernel;
}

#endif
