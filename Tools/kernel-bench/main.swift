// quanta-kernel-bench: times the int8 convolution kernels, reference vs optimized, on
// MobileNetV2-like shapes, one thread, and prints GMAC/s. Run with Tools/bench-kernels.
// Options: --tile-loops (the GEMM tile's inner loop on the int16 and the u8×s8 path), --mobilenetv2 [--layers] (every layer of MobileNetV2 1.0/224), --only SHAPE (one
// shape, for perf), --pointwise H C O, --depthwise H C STRIDE or --stem (one shape, quietly: µs per call), --q31 (TFLite's full 31-bit multipliers instead of the short ones
// `quanta quantize` writes by default, so the 64-bit output stage is timed).
import QuantaKernels
import Glibc

/// Thread CPU time: the development machine is shared, and wall time under load measures
/// the scheduler; CPU time measures the kernel (caches are still shared).
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

struct Generator {
    var state: UInt64 = 0x1234_5678
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int8() -> Int8 { Int8(truncatingIfNeeded: next()) }
}

/// Best of `repeats` timings of `body`, each running at least ~0.2 s worth of calls.
func seconds(repeats: Int = 5, _ body: () -> Void) -> Double {
    body()
    var calls = 1
    while true {
        let t0 = now()
        for _ in 0..<calls { body() }
        if now() - t0 > 0.05 { break }
        calls *= 2
    }
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = now()
        for _ in 0..<calls { body() }
        best = min(best, (now() - t0) / Double(calls))
    }
    return best
}

/// Times one convolution; returns the optimized kernel's seconds per call.
@discardableResult
func bench(_ name: String, input inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters, skipReference: Bool = false, quiet: Bool = false) -> Double {
    var g = Generator()
    let zp: Int32 = -5
    let input = (0..<inputShape.elementCount).map { _ in g.int8() }
    let weights = (0..<filter.elementCount).map { _ in Int8(clamping: Int(g.int8())) == -128 ? 0 : g.int8() }
    let bias = (0..<filter.outputChannels).map { _ in Int32(truncatingIfNeeded: g.next() % 2000) - 1000 }
    // Multipliers in `ShortMultiplier`'s form, as `quanta quantize` writes them by default
    // (`--q31` times TFLite's full 31-bit ones, the 64-bit output stage).
    let q31 = CommandLine.arguments.contains("--q31")
    let multipliers = (0..<filter.outputChannels).map { _ in
        let m = Int32(1 << 30) + Int32(truncatingIfNeeded: g.next() % (1 << 29))
        return q31 ? m : m & ~((1 << 18) - 1)
    }
    let shifts = [Int32](repeating: -9, count: filter.outputChannels)
    let outputShape = parameters.outputShape(input: inputShape, filter: filter)
    let variant = KernelVariant.choose(inputShape: inputShape, filter: filter, parameters: parameters, inputZeroPoint: zp)
    let packed = OptimizedConv2D.packWeights(variant: variant, weights: weights, filter: filter, bias: bias, inputShape: inputShape, inputZeroPoint: zp, parameters: parameters)
    var scratch = [UInt8](repeating: 0, count: variant.scratchBytes(inputShape: inputShape, filter: filter, parameters: parameters) + 1)
    var outRef = [Int8](repeating: 0, count: outputShape.elementCount)
    var outOpt = [Int8](repeating: 0, count: outputShape.elementCount)
    let macs = Double(OpCounts.conv2D(input: inputShape, filter: filter, parameters: parameters).multiplyAccumulates)
    var result = 0.0
    multipliers.withUnsafeBufferPointer { m in
        shifts.withUnsafeBufferPointer { s in
            let r = Requantization(multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: m.count, outputZeroPoint: 3, clampMin: -128, clampMax: 127)
            input.withUnsafeBufferPointer { i in
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        packed.withUnsafeBytes { p in
                            scratch.withUnsafeMutableBytes { sc in
                                outRef.withUnsafeMutableBufferPointer { oRef in
                                    outOpt.withUnsafeMutableBufferPointer { oOpt in
                                        let reference = {
                                            Int8Reference.conv2D(input: i.baseAddress!, inputShape: inputShape, inputZeroPoint: zp, weights: w.baseAddress!, filter: filter, bias: b.baseAddress, output: oRef.baseAddress!, outputShape: outputShape, parameters: parameters, requantization: r)
                                        }
                                        let optimized = {
                                            OptimizedConv2D.run(variant: variant, input: i.baseAddress!, inputShape: inputShape, inputZeroPoint: zp, weights: w.baseAddress!, filter: filter, bias: b.baseAddress, output: oOpt.baseAddress!, outputShape: outputShape, parameters: parameters, requantization: r, packedWeights: p.baseAddress, scratch: sc.baseAddress)
                                        }
                                        let tOpt = seconds(optimized)
                                        if quiet {
                                            result = tOpt
                                            return
                                        }
                                        let tRef = seconds(repeats: 2, reference)
                                        let same = Array(oRef) == Array(oOpt)
                                        let pad = String(repeating: " ", count: max(0, 34 - name.count))
                                        result = tOpt
                                        print("\(name)\(pad) \(variant)  ref \(fmt(macs / tRef / 1e9)) GMAC/s  opt \(fmt(macs / tOpt / 1e9)) GMAC/s  (\(fmt(tOpt * 1e3)) ms, x\(fmt(tRef / tOpt)))  bit-exact: \(same)")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return result
}

func fmt(_ x: Double) -> String {
    let scaled = Int((x * 100).rounded())
    let frac = scaled % 100
    return "\(scaled / 100).\(frac < 10 ? "0" : "")\(frac)"
}

@discardableResult
func pointwise(_ h: Int, _ c: Int, _ o: Int, quiet: Bool = false) -> Double {
    bench("pointwise \(h)x\(h)x\(c)->\(o)", input: TensorShape(h: h, w: h, c: c),
          filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c), parameters: Conv2DParameters(),
          quiet: quiet)
}

@discardableResult
func depthwise(_ h: Int, _ c: Int, stride: Int, quiet: Bool = false) -> Double {
    bench("depthwise3x3 s\(stride) \(h)x\(h)x\(c)", input: TensorShape(h: h, w: h, c: c),
          filter: FilterShape(outputChannels: c, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
          parameters: Conv2DParameters(strideH: stride, strideW: stride, padding: stride == 1 ? .uniform(1) : Padding(top: 0, left: 0, bottom: 1, right: 1), groups: c),
          quiet: quiet)
}

/// Every convolution of MobileNetV2 1.0/224 (NHWC, symmetric padding as exported from
/// PyTorch), timed with the variant the writer would choose; prints totals by kind.
func mobileNetV2() {
    var layers: [(String, TensorShape, FilterShape, Conv2DParameters)] = []
    func conv(_ kind: String, _ h: Int, _ c: Int, _ o: Int, k: Int, stride: Int, groups: Int = 1) {
        layers.append((kind, TensorShape(h: h, w: h, c: c),
                       FilterShape(outputChannels: o, kernelH: k, kernelW: k, inputChannelsPerGroup: c / groups),
                       Conv2DParameters(strideH: stride, strideW: stride, padding: .uniform(k / 2), groups: groups)))
    }
    conv("first 3x3", 224, 3, 32, k: 3, stride: 2)
    var h = 112, c = 32
    conv("depthwise", h, c, c, k: 3, stride: 1, groups: c)
    conv("pointwise", h, c, 16, k: 1, stride: 1)
    c = 16
    for (t, out, n, s) in [(6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)] {
        for i in 0..<n {
            let stride = i == 0 ? s : 1
            conv("pointwise", h, c, c * t, k: 1, stride: 1)
            conv("depthwise", h, c * t, c * t, k: 3, stride: stride, groups: c * t)
            h = (h + 2 - 3) / stride + 1
            conv("pointwise", h, c * t, out, k: 1, stride: 1)
            c = out
        }
    }
    conv("pointwise", h, c, 1280, k: 1, stride: 1)
    var time: [String: Double] = [:], macs: [String: Int] = [:]
    for (kind, input, filter, parameters) in layers {
        let t = bench(kind, input: input, filter: filter, parameters: parameters, quiet: true)
        time[kind, default: 0] += t
        if CommandLine.arguments.contains("--layers") {
            let m = OpCounts.conv2D(input: input, filter: filter, parameters: parameters).multiplyAccumulates
            print("  \(kind) \(input.h)x\(input.w)x\(input.c) -> \(filter.outputChannels) k\(filter.kernelH) s\(parameters.strideH): \(fmt(t * 1e3)) ms  \(fmt(Double(m) / t / 1e9)) GMAC/s  \(fmt(t * 1e6)) us")
        }
        macs[kind, default: 0] += OpCounts.conv2D(input: input, filter: filter, parameters: parameters).multiplyAccumulates
    }
    print("MobileNetV2 1.0/224, \(layers.count) convolutions:")
    for kind in ["first 3x3", "depthwise", "pointwise"] {
        print("  \(kind): \(fmt(Double(macs[kind]!) / 1e6)) M MACs  \(fmt(time[kind]! * 1e3)) ms  \(fmt(Double(macs[kind]!) / time[kind]! / 1e9)) GMAC/s")
    }
    print("  all convolutions: \(fmt(Double(macs.values.reduce(0, +)) / 1e6)) M MACs  \(fmt(time.values.reduce(0, +) * 1e3)) ms")
}

if let i = CommandLine.arguments.firstIndex(of: "--only"), i + 1 < CommandLine.arguments.count {
    // One shape, for profiling: --only dw56 | pw56 | pw112 | pw7 | first
    switch CommandLine.arguments[i + 1] {
    case "dw56": for _ in 0..<20 { depthwise(56, 144, stride: 1) }
    case "pw56": for _ in 0..<20 { pointwise(56, 24, 144) }
    case "pw112": for _ in 0..<20 { pointwise(112, 16, 96) }
    case "pw7": for _ in 0..<20 { pointwise(7, 320, 1280) }
    default: for _ in 0..<20 { bench("first", input: TensorShape(h: 224, w: 224, c: 3), filter: FilterShape(outputChannels: 32, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3), parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: .uniform(1)), quiet: true) }
    }
    exit(0)
}

// One pointwise shape, quietly: --pointwise H C O prints the optimized kernel's microseconds
// per call (for alternating A/B runs of two builds).
if let i = CommandLine.arguments.firstIndex(of: "--pointwise"), i + 3 < CommandLine.arguments.count,
   let h = Int(CommandLine.arguments[i + 1]), let c = Int(CommandLine.arguments[i + 2]), let o = Int(CommandLine.arguments[i + 3]) {
    print(fmt(pointwise(h, c, o, quiet: true) * 1e6))
    exit(0)
}

#if arch(x86_64) && QUANTA_AVX2
// The 6 × 16 tile loop on the int16 and on the u8 × s8 path, operands in L1: --tile-loops.
if CommandLine.arguments.contains("--tile-loops") {
    // K = 256 per tile call: panel 6 × 512 bytes, weights 16 columns × 256 bytes (all in L1).
    let k = 256
    // Both buffers in one page-aligned block (the same placement in every run).
    let block = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 4096)
    let panel = block, weights = block + 8192
    panel.initializeMemory(as: UInt8.self, repeating: 3, count: 6 * 2 * k)
    weights.initializeMemory(as: UInt8.self, repeating: 1, count: 16 * 2 * k)
    var s: Int32 = 0
    let calls = 20_000
    let tU = seconds { for _ in 0..<calls { s &+= u8s8TileLoop(panel, weights, quads: k / 4, rowBytes: k) } }
    let tI = seconds { for _ in 0..<calls { s &+= int16TileLoop(panel, weights, pairs: k / 2, rowBytes: 2 * k) } }
    let tU4 = seconds { for _ in 0..<calls { s &+= u8s8TileLoop(panel, weights, quads: k / 4, rowBytes: k, rows6: false) } }
    let tW = seconds { for _ in 0..<calls { s &+= int16TileLoop(panel, weights, pairs: k / 2, rowBytes: 2 * k, wide: true) } }
    let macs = Double(calls * 6 * 16 * k)
    print("6x16 tile loop, K = \(k), operands in L1: int16 vpmaddwd \(fmt(macs / tI / 1e9)) GMAC/s, u8s8 vpmaddubsw \(fmt(macs / tU / 1e9)) GMAC/s, u8s8 4x16 \(fmt(macs * 4 / 6 / tU4 / 1e9)) GMAC/s, int16 with int16 weights \(fmt(macs / tW / 1e9)) GMAC/s (sink \(s & 1))")
    exit(0)
}
#endif

// The stem (3×3 stride 2 over 224×224×3, 32 channels, im2col), quietly: --stem (µs per call).
if CommandLine.arguments.contains("--stem") {
    let t = bench("stem", input: TensorShape(h: 224, w: 224, c: 3), filter: FilterShape(outputChannels: 32, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
                  parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: .uniform(1)), quiet: true)
    print(fmt(t * 1e6))
    exit(0)
}

// One depthwise 3×3 shape, quietly: --depthwise H C STRIDE (µs per call).
if let i = CommandLine.arguments.firstIndex(of: "--depthwise"), i + 3 < CommandLine.arguments.count,
   let h = Int(CommandLine.arguments[i + 1]), let c = Int(CommandLine.arguments[i + 2]), let stride = Int(CommandLine.arguments[i + 3]) {
    print(fmt(depthwise(h, c, stride: stride, quiet: true) * 1e6))
    exit(0)
}

if CommandLine.arguments.contains("--mobilenetv2") {
    mobileNetV2()
    exit(0)
}

print("int8 conv kernels, one thread (GMAC/s = 1e9 multiply-accumulates per second, padding taps counted)")
pointwise(56, 24, 144)
pointwise(14, 96, 576)
pointwise(7, 320, 1280)
pointwise(28, 144, 32)
depthwise(56, 144, stride: 1)
depthwise(112, 96, stride: 2)
depthwise(14, 576, stride: 1)
bench("conv3x3 s2 224x224x3->32 (im2col)", input: TensorShape(h: 224, w: 224, c: 3),
      filter: FilterShape(outputChannels: 32, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
      parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1)))
bench("grouped 1x1 g3 28x28x240->240", input: TensorShape(h: 28, w: 28, c: 240),
      filter: FilterShape(outputChannels: 240, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 80), parameters: Conv2DParameters(groups: 3))

#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

/// The `vpmaddwd` + `vpaddd` peak on this machine: 12 independent register accumulators,
/// no memory traffic (the ceiling for the exact int16 GEMM path), measured like the kernels.
@inline(never)
func maddwdPeak(iterations: Int, _ seed: Int32) -> Int32 {
    let a = _mm256_set1_epi32(seed), b = _mm256_set1_epi32(seed &+ 1), c = _mm256_set1_epi32(seed &+ 2)
    var s0 = a, s1 = b, s2 = c, s3 = a, s4 = b, s5 = c, s6 = a, s7 = b, s8 = c, s9 = a, s10 = b, s11 = c
    // Each accumulator feeds its own next multiply (12 chains of 4 cycles latency), so
    // nothing is loop-invariant and the loop is bound by vpmaddwd throughput.
    for _ in 0..<iterations {
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(s0, a)); s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(s1, b))
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(s2, c)); s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(s3, a))
        s4 = _mm256_add_epi32(s4, _mm256_madd_epi16(s4, b)); s5 = _mm256_add_epi32(s5, _mm256_madd_epi16(s5, c))
        s6 = _mm256_add_epi32(s6, _mm256_madd_epi16(s6, a)); s7 = _mm256_add_epi32(s7, _mm256_madd_epi16(s7, b))
        s8 = _mm256_add_epi32(s8, _mm256_madd_epi16(s8, c)); s9 = _mm256_add_epi32(s9, _mm256_madd_epi16(s9, a))
        s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(s10, b)); s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(s11, c))
    }
    var t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)), _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)))
    t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(s8, s9), _mm256_add_epi32(s10, s11)))
    return unsafeBitCast(t, to: SIMD8<Int32>.self).wrappedSum()
}

/// `vpmaddubsw` (u8 × s8 pairs → int16) + `vpmaddwd` with ones (→ int32) + `vpaddd`: the
/// ONNX Runtime u8s8 path, 32 MACs per step.
@inline(never)
func maddubsPeak(iterations: Int, _ seed: Int32) -> Int32 {
    let ones = _mm256_set1_epi16(1)
    let a = _mm256_set1_epi32(seed), b = _mm256_set1_epi32(seed &+ 1), c = _mm256_set1_epi32(seed &+ 2)
    var s0 = a, s1 = b, s2 = c, s3 = a, s4 = b, s5 = c, s6 = a, s7 = b, s8 = c, s9 = a, s10 = b, s11 = c
    for _ in 0..<iterations {
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(s0, a), ones)); s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(s1, b), ones))
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(_mm256_maddubs_epi16(s2, c), ones)); s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(_mm256_maddubs_epi16(s3, a), ones))
        s4 = _mm256_add_epi32(s4, _mm256_madd_epi16(_mm256_maddubs_epi16(s4, b), ones)); s5 = _mm256_add_epi32(s5, _mm256_madd_epi16(_mm256_maddubs_epi16(s5, c), ones))
        s6 = _mm256_add_epi32(s6, _mm256_madd_epi16(_mm256_maddubs_epi16(s6, a), ones)); s7 = _mm256_add_epi32(s7, _mm256_madd_epi16(_mm256_maddubs_epi16(s7, b), ones))
        s8 = _mm256_add_epi32(s8, _mm256_madd_epi16(_mm256_maddubs_epi16(s8, c), ones)); s9 = _mm256_add_epi32(s9, _mm256_madd_epi16(_mm256_maddubs_epi16(s9, a), ones))
        s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(_mm256_maddubs_epi16(s10, b), ones)); s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(_mm256_maddubs_epi16(s11, c), ones))
    }
    var t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)), _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)))
    t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(s8, s9), _mm256_add_epi32(s10, s11)))
    return unsafeBitCast(t, to: SIMD8<Int32>.self).wrappedSum()
}

/// fp32 `vfmadd231ps`, 8 lanes, 12 independent accumulators.
@inline(never)
func fmaPeak(iterations: Int, _ seed: Float) -> Float {
    let a = _mm256_set1_ps(seed), b = _mm256_set1_ps(seed * 0.5), c = _mm256_set1_ps(seed * 0.25)
    var s0 = a, s1 = b, s2 = c, s3 = a, s4 = b, s5 = c, s6 = a, s7 = b, s8 = c, s9 = a, s10 = b, s11 = c
    for _ in 0..<iterations {
        s0 = _mm256_fmadd_ps(s0, a, b); s1 = _mm256_fmadd_ps(s1, a, c); s2 = _mm256_fmadd_ps(s2, a, b); s3 = _mm256_fmadd_ps(s3, a, c)
        s4 = _mm256_fmadd_ps(s4, a, b); s5 = _mm256_fmadd_ps(s5, a, c); s6 = _mm256_fmadd_ps(s6, a, b); s7 = _mm256_fmadd_ps(s7, a, c)
        s8 = _mm256_fmadd_ps(s8, a, b); s9 = _mm256_fmadd_ps(s9, a, c); s10 = _mm256_fmadd_ps(s10, a, b); s11 = _mm256_fmadd_ps(s11, a, c)
    }
    let t = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)), _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s4, s5), _mm256_add_ps(s6, s7)), _mm256_add_ps(_mm256_add_ps(s8, s9), _mm256_add_ps(s10, s11))))
    return unsafeBitCast(t, to: SIMD8<Float>.self).sum()
}

/// A 6 × 16 tile's inner loop on the u8 × s8 path as ONNX Runtime's AVX2 kernel runs it:
/// per step 4 k, 2 weight loads (16 columns × 4 bytes), 6 broadcasts of 4 activation bytes,
/// 12 `vpmaddubsw` + 12 `vpmaddwd`(ones) + 12 `vpaddd`; operands from L1. (Feasibility
/// only: exact just when no u8 × s8 pair can exceed int16, i.e. pair-bounded weights.)
@inline(never)
func u8s8TileLoop(_ panel: UnsafeRawPointer, _ weights: UnsafeRawPointer, quads: Int, rowBytes: Int, rows6: Bool = true) -> Int32 {
    let ones = _mm256_set1_epi16(1)
    var c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00
    var c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00
    @inline(__always) func step(_ c0: inout __m256i, _ c1: inout __m256i, _ wa: __m256i, _ wb: __m256i, _ x: __m256i) {
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(x, wa), ones))
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(x, wb), ones))
    }
    for q in 0..<quads {
        let wa = _mm256_loadu_si256((weights + 64 &* q).assumingMemoryBound(to: __m256i.self))
        let wb = _mm256_loadu_si256((weights + (64 &* q &+ 32)).assumingMemoryBound(to: __m256i.self))
        @inline(__always) func x(_ r: Int) -> __m256i { _mm256_set1_epi32(panel.loadUnaligned(fromByteOffset: r &* rowBytes &+ 4 &* q, as: Int32.self)) }
        step(&c00, &c01, wa, wb, x(0)); step(&c10, &c11, wa, wb, x(1)); step(&c20, &c21, wa, wb, x(2))
        step(&c30, &c31, wa, wb, x(3))
        if rows6 { step(&c40, &c41, wa, wb, x(4)); step(&c50, &c51, wa, wb, x(5)) }
    }
    var t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c00, c01), _mm256_add_epi32(c10, c11)), _mm256_add_epi32(_mm256_add_epi32(c20, c21), _mm256_add_epi32(c30, c31)))
    t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(c40, c41), _mm256_add_epi32(c50, c51)))
    return unsafeBitCast(t, to: SIMD8<Int32>.self).wrappedSum()
}

/// The same tile on the exact int16 path as `PointwiseGEMM.tile16AVX2` runs it: per k-pair
/// 2 `vpmovsxbw` weight loads, 6 `vpbroadcastd` of int16 pairs, 12 `vpmaddwd` + 12 `vpaddd`.
@inline(never)
func int16TileLoop(_ panel: UnsafeRawPointer, _ weights: UnsafeRawPointer, pairs: Int, rowBytes: Int, wide: Bool = false) -> Int32 {
    var c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00
    var c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00
    @inline(__always) func step(_ c0: inout __m256i, _ c1: inout __m256i, _ wa: __m256i, _ wb: __m256i, _ x: __m256i) {
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(wa, x))
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(wb, x))
    }
    for p in 0..<pairs {
        let wa: __m256i, wb: __m256i
        if wide {
            wa = _mm256_loadu_si256((weights + 64 &* p).assumingMemoryBound(to: __m256i.self))
            wb = _mm256_loadu_si256((weights + (64 &* p &+ 32)).assumingMemoryBound(to: __m256i.self))
        } else {
            wa = _mm256_cvtepi8_epi16(_mm_loadu_si128((weights + 32 &* p).assumingMemoryBound(to: __m128i.self)))
            wb = _mm256_cvtepi8_epi16(_mm_loadu_si128((weights + (32 &* p &+ 16)).assumingMemoryBound(to: __m128i.self)))
        }
        @inline(__always) func x(_ r: Int) -> __m256i { _mm256_set1_epi32(panel.loadUnaligned(fromByteOffset: r &* rowBytes &+ 4 &* p, as: Int32.self)) }
        step(&c00, &c01, wa, wb, x(0)); step(&c10, &c11, wa, wb, x(1)); step(&c20, &c21, wa, wb, x(2))
        step(&c30, &c31, wa, wb, x(3)); step(&c40, &c41, wa, wb, x(4)); step(&c50, &c51, wa, wb, x(5))
    }
    var t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c00, c01), _mm256_add_epi32(c10, c11)), _mm256_add_epi32(_mm256_add_epi32(c20, c21), _mm256_add_epi32(c30, c31)))
    t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(c40, c41), _mm256_add_epi32(c50, c51)))
    return unsafeBitCast(t, to: SIMD8<Int32>.self).wrappedSum()
}

let peakIterations = 1 << 22
var sink: Int32 = 0
let peakTime = seconds { sink &+= maddwdPeak(iterations: peakIterations, 3) }
print("vpmaddwd+vpaddd register peak: \(fmt(Double(peakIterations * 12 * 16) / peakTime / 1e9)) GMAC/s (sink \(sink & 1))")

var sinkF: Float = 0
let ubsTime = seconds { sink &+= maddubsPeak(iterations: peakIterations, 3) }
print("vpmaddubsw+vpmaddwd(ones)+vpaddd register peak: \(fmt(Double(peakIterations * 12 * 32) / ubsTime / 1e9)) GMAC/s")
let fmaTime = seconds { sinkF += fmaPeak(iterations: peakIterations, 0.999) }
print("fp32 vfmadd231ps register peak: \(fmt(Double(peakIterations * 12 * 8) / fmaTime / 1e9)) GMAC/s (sink \(sinkF > 0 ? 1 : 0))")
#endif
