#if arch(arm64) || arch(arm)
import CQuantaKernels

// The NEON GEMM kernels (aarch64 and armv7) live in C with arm_neon.h intrinsics and, for
// the Armv8.0 4×16 inner loop, inline assembly: Sources/CQuantaKernels/gemm-*.c. Swift's
// portable SIMD code compiled to `ld1r` + `smlal .4h` (4 products per instruction) and
// never to `sdot` by lane; docs/PERFORMANCE-KERNELS.md has the instruction counts.

extension PointwiseGEMM {
    /// The best NEON kernel for this CPU: `sdot` tiles where the CPU has the dot product
    /// (aarch64 `AT_HWCAP` ASIMDDP, read once; with `smmla` full tiles where it also has
    /// I8MM, `AT_HWCAP2`), else `smull`/`smlal`/`sadalp` tiles. Same
    /// results as `Int8Reference.conv2D`. Reads A where it lies; the `sdot` kernel may keep a
    /// column block's zipped weights in `g.panel` (nothing is read from it).
    /// - Precondition: no packed weight is -128 (`firstMinimumWeight`).
    public static func runNEON(_ g: GEMMOperands) {
        var c = cOperands(g)
        quanta_gemm_neon(&c)
    }

    /// `runDirect` on ARM: the kernels of `runNEON` given no scratch (the `sdot` kernel
    /// then zips each block's weights in its loop).
    public static func runNEONDirect(_ g: GEMMOperands) {
        var c = cOperands(g)
        c.panel = nil
        c.panel_bytes = 0
        quanta_gemm_neon(&c)
    }

    /// The Armv8.0 / armv7 kernel on any CPU (for gemm-check).
    public static func runNEONMultiplyAccumulate(_ g: GEMMOperands) {
        var c = cOperands(g)
        quanta_gemm_neon_mlal(&c)
    }

    /// The dot-product kernel, when this CPU has it (false: nothing ran). For gemm-check.
    public static func runNEONDotProduct(_ g: GEMMOperands) -> Bool {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        #if arch(arm64)
        guard quanta_cpu_has_dotprod() != 0 else { return false }
        var c = cOperands(g)
        quanta_gemm_neondot(&c)
        return true
        #else
        return false
        #endif
    }

    /// Whether this CPU runs the dot-product kernel.
    public static var cpuHasDotProduct: Bool { quanta_cpu_has_dotprod() != 0 }

    /// Whether this CPU has the int8 matrix multiply (`smmla`), which the dot-product
    /// kernel then uses for its full 8-row tiles.
    public static var cpuHasMatrixMultiply: Bool { quanta_cpu_has_i8mm() != 0 }
}
#endif
