import QuantaKernels

/// `gemm-check`: `PointwiseGEMM.run` (the kernel this target and CPU select: on aarch64
/// `sdot` where the CPU has the dot product, else the NEON `smull`/`smlal`/`sadalp` kernel;
/// the same on armv7; AVX2 on the host), each NEON kernel by name where the CPU runs it,
/// and `runPortable`, `runDirect` (no panel, even depths), and `run` and `runPortable` of
/// `PointwiseU8GEMM` (pair-bounded weights), bit for
/// bit against a scalar evaluation of the GEMM's definition, on pseudo-random operands:
/// every depth 1...40 (all tails of the 16-, 4- and 2-wide steps) and some larger ones,
/// 1...19 rows (every tile height and remainder) and 21...31 (full 8-row tiles before a
/// last tile of 5 to 7, with the block's weights zipped beforehand), 1...35 columns (partial channel
/// blocks), row strides wider than the rows, a channel offset into per-channel or
/// per-tensor requantization, int8 extremes in A (-128 included) and the weights (-127 and
/// 127: `PointwiseGEMM`'s weights are in -127...127, which the loader checks).
///
/// A's last row ends at a page that is made inaccessible (mprotect), so a kernel reading
/// past `a[(rows-1) * aRowStride + depth - 1]` stops with SIGSEGV.
///
/// Prints one line and exits 0 when every case agrees, else prints the first mismatch
/// and exits 1. Targets/check runs it on every target (under the target's emulator).
@_cdecl("main")
func gemmCheckMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var random = SplitMix(seed: 0x5D07_2026)
    var cases = 0
    var shapes: [(rows: Int, depth: Int, columns: Int)] = []
    for depth in 1...40 {
        shapes.append((rows: 1 + depth % 19, depth: depth, columns: 1 + (depth * 7) % 35))
    }
    for rows in 1...19 { shapes.append((rows: rows, depth: 16 + rows, columns: 8 + rows)) }
    for rows in [21, 22, 23, 24, 26, 31] { shapes.append((rows: rows, depth: 6 + 5 * rows % 37, columns: 3 + rows)) }
    for depth in [48, 64, 96, 144, 27, 75, 147] {
        shapes.append((rows: 9, depth: depth, columns: 24))
        shapes.append((rows: 3, depth: depth, columns: 17))
    }
    for u8 in [false, true] {
        for shape in shapes {
            if let failure = check(rows: shape.rows, depth: shape.depth, columns: shape.columns, u8: u8, random: &random) {
                writeLine("gemm-check: FAILED: \(u8 ? "PointwiseU8GEMM" : "PointwiseGEMM") \(failure)", fd: 2)
                return 1
            }
            cases += 1
        }
    }
    let (depthwiseCases, depthwiseFailure) = checkDepthwise(random: &random)
    if let failure = depthwiseFailure {
        writeLine("gemm-check: FAILED: \(failure)", fd: 2)
        return 1
    }
    writeLine("gemm-check: \(depthwiseCases) depthwise 3×3 convolutions (DepthwiseConv.run3x3) identical to Int8Reference.conv2D")
    let (kernelCases, kernelFailure) = checkDepthwiseKernels(random: &random)
    if let failure = kernelFailure {
        writeLine("gemm-check: FAILED: \(failure)", fd: 2)
        return 1
    }
    writeLine("gemm-check: \(kernelCases) depthwise 5×5, 7×7, 1×5, 5×1, dilated and stride-3 3×3 convolutions (DepthwiseConv.run) identical to Int8Reference.conv2D")
    let (im2colCases, im2colFailure) = checkIm2col(random: &random)
    if let failure = im2colFailure {
        writeLine("gemm-check: FAILED: \(failure)", fd: 2)
        return 1
    }
    writeLine("gemm-check: \(im2colCases) im2col convolutions (OptimizedConv2D: .im2col, .im2colDirect) identical to Int8Reference.conv2D")
    let (layoutCases, layoutFailure) = checkLayout(random: &random)
    if let failure = layoutFailure {
        writeLine("gemm-check: FAILED: \(failure)", fd: 2)
        return 1
    }
    writeLine("gemm-check: \(layoutCases) max and average pools, concats, slices, shuffles, interleaves, input quantizations and adds (VectorPool, VectorLayout, VectorQuantize, VectorAdd) identical to the reference loops")
    #if arch(arm64) || arch(arm)
    let kernels = PointwiseGEMM.cpuHasMatrixMultiply ? "NEON smmla/sdot and smull/smlal kernels, run, runDirect"
        : PointwiseGEMM.cpuHasDotProduct ? "NEON sdot and smull/smlal kernels, run, runDirect" : "NEON smull/smlal kernel, run, runDirect"
    #else
    let kernels = "run, runPortable and runDirect"
    #endif
    writeLine("gemm-check: \(cases) GEMMs (PointwiseGEMM: \(kernels); PointwiseU8GEMM: run, runPortable) identical to the scalar definition")
    return 0
}

/// One GEMM of the given shape with random operands; nil when both kernels agree with the
/// definition, else the first mismatch. With `u8`, the uint8 GEMM (`PointwiseU8GEMM`) on
/// weights whose pairs are cut to `|w0| + |w1| ≤ 128`.
func check(rows: Int, depth k: Int, columns n: Int, u8: Bool, random: inout SplitMix) -> String? {
    let aRowStride = k + random.next(below: 4)
    let outputRowStride = n + random.next(below: 3)
    let channelOffset = random.next(below: 3)
    let perChannel = random.next(below: 4) != 0
    let inputZeroPoint = Int32(random.next(below: 256)) - 128

    var weights = [Int8](repeating: 0, count: n * k)
    for i in weights.indices { weights[i] = max(random.int8(), u8 ? Int8.min : -127) }
    if u8 {
        for j in 0..<n {
            for i in stride(from: 0, to: k - 1, by: 2) {
                let w0 = Int(weights[j * k + i]), w1 = Int(weights[j * k + i + 1])
                let room = 128 - abs(w0)
                if abs(w1) > room { weights[j * k + i + 1] = Int8(w1 < 0 ? -room : room) }
            }
        }
    }
    var bias = [Int32](repeating: 0, count: n)
    for i in bias.indices { bias[i] = Int32(random.next(below: 1 << 16)) - (1 << 15) }
    let channels = perChannel ? channelOffset + n : 1
    var multipliers = [Int32](repeating: 0, count: channels)
    var shifts = [Int32](repeating: 0, count: channels)
    for i in 0..<channels {
        multipliers[i] = Int32(1 << 30) + Int32(random.next(below: 1 << 30))
        // Right shifts that keep some outputs inside int8 for these depths, a few left.
        shifts[i] = Int32(random.next(below: 14)) - 12
    }
    let outputZeroPoint = Int32(random.next(below: 64)) - 32
    let clampMin = Int32(random.next(below: 2) == 0 ? -128 : -100)
    let clampMax = Int32(random.next(below: 2) == 0 ? 127 : 90)

    // A: rows of `aRowStride` bytes ending exactly at a protected page.
    let aBytes = (rows - 1) * aRowStride + k
    let guarded = GuardedBytes(count: aBytes)
    defer { guarded.release() }
    let a = guarded.start
    for i in 0..<aBytes { a[i] = random.int8() }

    let packedBytes = u8 ? PointwiseU8GEMM.packedByteCount(depth: k, columns: n) : PointwiseGEMM.packedByteCount(depth: k, columns: n)
    let packed = UnsafeMutableRawPointer.allocate(byteCount: packedBytes, alignment: 16)
    defer { packed.deallocate() }
    let panelBytes = u8 ? PointwiseU8GEMM.panelByteCount(depth: k, rows: rows) : PointwiseGEMM.panelByteCount(depth: k)
    let panel = UnsafeMutableRawPointer.allocate(byteCount: panelBytes, alignment: 16)
    defer { panel.deallocate() }
    let outputCount = (rows - 1) * outputRowStride + n
    var expected = [Int8](repeating: 0, count: outputCount)
    var fromRun = expected, fromPortable = expected

    return weights.withUnsafeBufferPointer { w -> String? in
        bias.withUnsafeBufferPointer { b -> String? in
            multipliers.withUnsafeBufferPointer { m -> String? in
                shifts.withUnsafeBufferPointer { s -> String? in
                    if u8 {
                        PointwiseU8GEMM.pack(weights: w.baseAddress!, weightRowStride: k, depth: k, columns: n,
                                             bias: b.baseAddress!, inputZeroPoint: inputZeroPoint, into: packed)
                    } else {
                        PointwiseGEMM.pack(weights: w.baseAddress!, weightRowStride: k, depth: k, columns: n,
                                           bias: b.baseAddress!, inputZeroPoint: inputZeroPoint, into: packed)
                    }
                    let requantization = Requantization(
                        multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: channels,
                        outputZeroPoint: outputZeroPoint, clampMin: clampMin, clampMax: clampMax)
                    for p in 0..<rows {
                        for j in 0..<n {
                            var acc = b[j]
                            for i in 0..<k { acc &+= Int32(w[j * k + i]) &* (Int32(a[p * aRowStride + i]) &- inputZeroPoint) }
                            let c = perChannel ? channelOffset + j : 0
                            let y = Int64(outputZeroPoint) + Int64(FixedPoint.multiplyByQuantizedMultiplier(acc, m[c], s[c]))
                            expected[p * outputRowStride + j] = Int8(min(max(y, Int64(clampMin)), Int64(clampMax)))
                        }
                    }
                    func operands(_ out: UnsafeMutablePointer<Int8>) -> GEMMOperands {
                        GEMMOperands(rows: rows, depth: k, columns: n, a: UnsafePointer(a), aRowStride: aRowStride,
                                     packed: UnsafeRawPointer(packed), output: out, outputRowStride: outputRowStride,
                                     requantization: requantization, channelOffset: perChannel ? channelOffset : 0,
                                     panel: panel)
                    }
                    fromRun.withUnsafeMutableBufferPointer {
                        if u8 { PointwiseU8GEMM.run(operands($0.baseAddress!)) } else { PointwiseGEMM.run(operands($0.baseAddress!)) }
                    }
                    fromPortable.withUnsafeMutableBufferPointer {
                        if u8 {
                            PointwiseU8GEMM.runPortable(operands($0.baseAddress!))
                        } else {
                            #if arch(arm64) || arch(arm)
                            // (No portable int16 kernel in ARM builds: the Armv8.0 NEON kernel by name.)
                            PointwiseGEMM.runNEONMultiplyAccumulate(operands($0.baseAddress!))
                            #else
                            PointwiseGEMM.runPortable(operands($0.baseAddress!))
                            #endif
                        }
                    }
                    // Each NEON kernel by name (the one `run` did not pick included).
                    var fromNEON: [(String, [Int8])] = []
                    if !u8 && k % 2 == 0 {
                        // Without a panel (KernelVariant.directGEMM), on every target.
                        var direct = expected
                        direct.withUnsafeMutableBufferPointer {
                            var g = operands($0.baseAddress!)
                            g.panel = nil
                            PointwiseGEMM.runDirect(g)
                        }
                        fromNEON.append(("runDirect", direct))
                    }
                    #if arch(arm64) || arch(arm)
                    if !u8 {
                        var mlal = expected
                        mlal.withUnsafeMutableBufferPointer { PointwiseGEMM.runNEONMultiplyAccumulate(operands($0.baseAddress!)) }
                        fromNEON.append(("runNEONMultiplyAccumulate", mlal))
                        var dot = expected
                        if dot.withUnsafeMutableBufferPointer({ PointwiseGEMM.runNEONDotProduct(operands($0.baseAddress!)) }) {
                            fromNEON.append(("runNEONDotProduct", dot))
                        }
                    }
                    #endif
                    for (name, result) in fromNEON {
                        for p in 0..<rows {
                            for j in 0..<n where result[p * outputRowStride + j] != expected[p * outputRowStride + j] {
                                return "rows \(rows) depth \(k) columns \(n) (aRowStride \(aRowStride), perChannel \(perChannel)): "
                                    + "out[\(p), \(j)] = \(result[p * outputRowStride + j]) (\(name)), expected \(expected[p * outputRowStride + j])"
                            }
                        }
                    }
                    for p in 0..<rows {
                        for j in 0..<n {
                            let e = expected[p * outputRowStride + j]
                            let r = fromRun[p * outputRowStride + j], q = fromPortable[p * outputRowStride + j]
                            if r != e || q != e {
                                return "rows \(rows) depth \(k) columns \(n) (aRowStride \(aRowStride), perChannel \(perChannel)): "
                                    + "out[\(p), \(j)] = \(r) (run), \(q) (runPortable), expected \(e)"
                            }
                        }
                    }
                    return nil
                }
            }
        }
    }
}

/// SplitMix64: a small deterministic generator (the same sequence on every target).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform enough in `0 ..< bound` (bound ≤ 2^31).
    mutating func next(below bound: Int) -> Int { Int(next() >> 33) % bound }

    /// An int8, with -128, -127 and 127 more often than uniform.
    mutating func int8() -> Int8 {
        switch next(below: 16) {
        case 0: return -128
        case 1: return 127
        case 2: return -127
        default: return Int8(truncatingIfNeeded: next())
        }
    }
}

@_extern(c, "mprotect")
func c_mprotect(_ address: UnsafeMutableRawPointer, _ length: Int, _ protection: Int32) -> Int32

let pageSize = 65536  // a multiple of the page size on every target (4 KiB, 16 KiB, 64 KiB)
let PROT_NONE: Int32 = 0
let PROT_READ_WRITE: Int32 = 3

/// `count` bytes that end where an inaccessible page begins.
struct GuardedBytes {
    let base: UnsafeMutableRawPointer
    let body: Int
    let start: UnsafeMutablePointer<Int8>

    init(count: Int) {
        body = (count + pageSize - 1) / pageSize * pageSize
        base = UnsafeMutableRawPointer.allocate(byteCount: body + pageSize, alignment: pageSize)
        start = (base + body - count).assumingMemoryBound(to: Int8.self)
        precondition(c_mprotect(base + body, pageSize, PROT_NONE) == 0, "gemm-check: mprotect failed")
    }

    func release() {
        precondition(c_mprotect(base + body, pageSize, PROT_READ_WRITE) == 0, "gemm-check: mprotect failed")
        base.deallocate()
    }
}
