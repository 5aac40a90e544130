#define _GNU_SOURCE
#include "AllocationCounter.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// Under AddressSanitizer (Tools/test-asan) the sanitizer's allocator must own every heap
// block (it checks each free and malloc_usable_size against its own records), so the
// interposer is compiled out and quanta_allocation_counter_available() returns 0.
#if defined(__SANITIZE_ADDRESS__)
#define QUANTA_COUNTER_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUANTA_COUNTER_DISABLED 1
#endif
#endif

#ifndef QUANTA_COUNTER_DISABLED
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static atomic_int counting;
static atomic_long allocations;
static atomic_long frees;
static pthread_t counting_thread;

// dlsym itself may allocate: those requests are served from this static block.
static _Alignas(16) char bootstrap[16384];
static size_t bootstrap_used;
static atomic_int resolving;

static int is_bootstrap(const void *p) {
    return (const char *)p >= bootstrap && (const char *)p < bootstrap + sizeof bootstrap;
}

static void *bootstrap_alloc(size_t size) {
    size_t start = (bootstrap_used + 16 + 15) & ~(size_t)15;
    if (start + size > sizeof bootstrap) return NULL;
    memcpy(bootstrap + start - sizeof(size_t), &size, sizeof size);
    bootstrap_used = start + size;
    return bootstrap + start;
}

static size_t bootstrap_size(const void *p) {
    size_t size;
    memcpy(&size, (const char *)p - sizeof(size_t), sizeof size);
    return size;
}

static void resolve(void) {
    if (real_free) return;
    if (atomic_exchange(&resolving, 1)) return;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_free = dlsym(RTLD_NEXT, "free");
    atomic_store(&resolving, 0);
}

static inline int counted(void) {
    return atomic_load_explicit(&counting, memory_order_relaxed) && pthread_equal(pthread_self(), counting_thread);
}

static inline void note_allocation(void) {
    if (counted()) atomic_fetch_add(&allocations, 1);
}

void *malloc(size_t size) {
    resolve();
    if (!real_malloc) return bootstrap_alloc(size);
    note_allocation();
    return real_malloc(size);
}

void *calloc(size_t count, size_t size) {
    resolve();
    if (!real_calloc) {
        if (size && count > SIZE_MAX / size) return NULL;
        return bootstrap_alloc(count * size);  // static storage starts zeroed
    }
    note_allocation();
    return real_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    resolve();
    if (pointer && is_bootstrap(pointer)) {
        void *moved = malloc(size);
        if (moved) {
            size_t old = bootstrap_size(pointer);
            memcpy(moved, pointer, old < size ? old : size);
        }
        return moved;
    }
    if (!real_realloc) return bootstrap_alloc(size);
    note_allocation();
    return real_realloc(pointer, size);
}

void free(void *pointer) {
    if (!pointer || is_bootstrap(pointer)) return;
    resolve();
    if (counted()) atomic_fetch_add(&frees, 1);
    if (real_free) real_free(pointer);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    resolve();
    if (!real_posix_memalign) return ENOMEM;
    note_allocation();
    return real_posix_memalign(result, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    resolve();
    if (!real_aligned_alloc) return NULL;
    note_allocation();
    return real_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    resolve();
    if (!real_memalign) return NULL;
    note_allocation();
    return real_memalign(alignment, size);
}

#endif  // QUANTA_COUNTER_DISABLED

#ifdef QUANTA_COUNTER_DISABLED
static atomic_int counting;
static atomic_long allocations;
static atomic_long frees;
static pthread_t counting_thread;
int quanta_allocation_counter_available(void) { return 0; }
#else
int quanta_allocation_counter_available(void) { return 1; }
#endif

void quanta_allocation_counter_start(void) {
    atomic_store(&allocations, 0);
    atomic_store(&frees, 0);
    counting_thread = pthread_self();
    atomic_store(&counting, 1);
}

void quanta_allocation_counter_stop(void) { atomic_store(&counting, 0); }

long quanta_allocation_counter_allocations(void) { return atomic_load(&allocations); }

long quanta_allocation_counter_frees(void) { return atomic_load(&frees); }
