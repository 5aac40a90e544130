// Run-time CPU features for the kernels' dispatch (aarch64 Linux: getauxval(AT_HWCAP) for
// the dot product, AT_HWCAP2 for i8mm), and the dispatching entry points. armv7 has
// neither: the NEON mlal kernel.
#if defined(__ARM_NEON)
#include "quanta_kernels.h"

#if defined(__aarch64__)
// glibc's <sys/auxv.h>, declared here so that the file needs no libc headers.
extern unsigned long getauxval(unsigned long type);
#define QUANTA_AT_HWCAP 16
#define QUANTA_HWCAP_ASIMDDP (1UL << 20)
#define QUANTA_AT_HWCAP2 26
#define QUANTA_HWCAP2_I8MM (1UL << 13)

static int dotprod_state = -1;  // -1: not read yet (idempotent, so a race is harmless)
static int i8mm_state = -1;

int quanta_cpu_has_i8mm(void) {
    int state = __atomic_load_n(&i8mm_state, __ATOMIC_RELAXED);
    if (state < 0) {
        state = (getauxval(QUANTA_AT_HWCAP2) & QUANTA_HWCAP2_I8MM) != 0;
        __atomic_store_n(&i8mm_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

int quanta_cpu_has_dotprod(void) {
    int state = __atomic_load_n(&dotprod_state, __ATOMIC_RELAXED);
    if (state < 0) {
        state = (getauxval(QUANTA_AT_HWCAP) & QUANTA_HWCAP_ASIMDDP) != 0;
        __atomic_store_n(&dotprod_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

void quanta_gemm_neon(const quanta_gemm *g) {
    if (quanta_cpu_has_dotprod()) {
        quanta_gemm_neondot(g);
    } else {
        quanta_gemm_neon_mlal(g);
    }
}
#else
int quanta_cpu_has_dotprod(void) { return 0; }
int quanta_cpu_has_i8mm(void) { return 0; }

void quanta_gemm_neon(const quanta_gemm *g) { quanta_gemm_neon_mlal(g); }
#endif
#endif
