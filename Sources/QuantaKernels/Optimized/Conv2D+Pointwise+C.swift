import CQuantaKernels

// The GEMM kernels in C (Sources/CQuantaKernels): the NEON kernels on ARM
// (Conv2D+Pointwise+NEON.swift) and the AVX-512 VNNI kernel on x86_64, chosen at run time.

extension PointwiseGEMM {
    /// The operands for the C kernels (with the operand check every entry needs).
    @inline(__always)
    static func cOperands(_ g: GEMMOperands) -> quanta_gemm {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        let r = g.requantization
        return quanta_gemm(
            a: g.a, a_stride: g.aRowStride, packed: g.packed, out: g.output, out_stride: g.outputRowStride,
            requantization: quanta_requantization(
                multipliers: r.multipliers, shifts: r.shifts, channel_count: r.channelCount,
                zero_point: r.outputZeroPoint, clamp_min: r.clampMin, clamp_max: r.clampMax),
            channel_offset: g.channelOffset, rows: g.rows, depth: g.depth, columns: g.columns,
            panel: g.panel, panel_bytes: panelByteCount(depth: g.depth, rows: g.rows))
    }

    #if arch(x86_64)
    /// `run`/`runDirect` on the AVX-512 VNNI kernel (`quanta_gemm_vnni`) when this CPU has
    /// it; false (nothing ran) otherwise or for a filled int16 panel, whose A rows may be
    /// incomplete (`Im2col.gatherRows`).
    @inline(never) @usableFromInline
    static func runVNNI(_ g: GEMMOperands) -> Bool {
        guard !g.panelFilled, g.rows >= 1 else { return false }
        var c = cOperands(g)
        return quanta_gemm_vnni(&c) != 0
    }
    #endif

    /// Whether this CPU (and QUANTA_ISA) lets the VNNI kernel run.
    public static var cpuHasVNNI: Bool {
        #if arch(x86_64)
        quanta_x86_has_vnni() != 0
        #else
        false
        #endif
    }

    /// Tests: 0 keeps the x86 GEMM on AVX2, 1 lets VNNI run where the CPU has it, -1 returns
    /// to QUANTA_ISA and the CPU.
    public static func forceX86ISA(_ level: Int32) {
        #if arch(x86_64)
        quanta_x86_force_isa(level)
        #endif
    }
}
