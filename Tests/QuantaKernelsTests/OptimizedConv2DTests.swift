import XCTest
@testable import QuantaKernels

/// Seeded generator (SplitMix64) so every randomized case is reproducible from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// TFLite's output stage for one accumulator: `clamp(zp + MBQM(acc, m, s), lo, hi)`, the
/// zero point added in 64 bits (the expected value of every vectorized output stage).
func tfliteOutput(_ acc: Int32, _ m: Int32, _ s: Int32, zp: Int32, lo: Int32, hi: Int32) -> Int32 {
    let v = Int64(FixedPoint.multiplyByQuantizedMultiplier(acc, m, s)) + Int64(zp)
    return Int32(min(max(v, Int64(lo)), Int64(hi)))
}

/// `body` with a per-channel `Requantization` over `multipliers` and `shifts` (one entry
/// per channel).
func withRequantization<R>(_ multipliers: [Int32], _ shifts: [Int32], zp: Int32, lo: Int32 = -128, hi: Int32 = 127,
                           _ body: (Requantization) -> R) -> R {
    multipliers.withUnsafeBufferPointer { mp in
        shifts.withUnsafeBufferPointer { sp in
            body(Requantization(multipliers: mp.baseAddress!, shifts: sp.baseAddress!, channelCount: multipliers.count,
                                outputZeroPoint: zp, clampMin: lo, clampMax: hi))
        }
    }
}

/// One random int8 convolution: data, constants and the reference result.
struct ConvCase {
    var inputShape: TensorShape
    var filter: FilterShape
    var parameters: Conv2DParameters
    var outputShape: TensorShape
    var inputZeroPoint: Int32
    var input: [Int8]
    var weights: [Int8]
    var bias: [Int32]?
    var multipliers: [Int32]
    var shifts: [Int32]
    var outputZeroPoint: Int32
    var clampMin: Int32
    var clampMax: Int32

    init(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters,
         perChannel: Bool = true, hasBias: Bool = true, using g: inout SeededGenerator) {
        self.inputShape = inputShape
        self.filter = filter
        self.parameters = parameters
        outputShape = parameters.outputShape(input: inputShape, filter: filter)
        inputZeroPoint = Int32.random(in: -128...127, using: &g)
        input = (0..<inputShape.elementCount).map { _ in Int8.random(in: -128...127, using: &g) }
        // Weights mostly in the symmetric range, occasionally -128: the x86 and portable GEMM
        // kernels accept any int8; the depthwise and NEON GEMM kernels need -127...127 (the
        // quantizer's range, which the loader checks), see DepthwiseConv and PointwiseGEMM.run.
        let depthwise = parameters.groups == inputShape.c && filter.inputChannelsPerGroup == 1
        weights = (0..<filter.elementCount).map { _ in
            !depthwise && Int.random(in: 0..<50, using: &g) == 0 ? -128 : Int8.random(in: -127...127, using: &g)
        }
        bias = hasBias ? (0..<filter.outputChannels).map { _ in Int32.random(in: -(1 << 20)...(1 << 20), using: &g) } : nil
        let count = perChannel ? filter.outputChannels : 1
        // The accumulators reach ~K·2^15; shifts from -20 to +1 (left shifts included) with
        // Q31 multipliers spread the outputs over the whole int8 range and beyond (clamped).
        let k = filter.kernelH * filter.kernelW * filter.inputChannelsPerGroup
        let base = Int32(max(1, 64 - (k * 32768).leadingZeroBitCount)) - 8 - 1   // log2(acc range) - 8
        // A third exactly 2^30 and a third with 20 low zero bits, so that SRDHM and RDBPOT
        // often see exact ties (their rounding direction is what differs between schemes).
        multipliers = (0..<count).map { _ in
            switch Int.random(in: 0..<3, using: &g) {
            case 0: return 1 << 30
            case 1: return (1 << 30) + Int32.random(in: 0..<1024, using: &g) << 20
            default: return Int32.random(in: (1 << 30)...Int32.max, using: &g)
            }
        }
        shifts = (0..<count).map { _ in max(-31, min(1, -base + Int32.random(in: -3...3, using: &g))) }
        outputZeroPoint = Int32.random(in: -128...127, using: &g)
        if Bool.random(using: &g) {
            clampMin = -128
            clampMax = 127
        } else {
            let lo = Int32.random(in: -128...100, using: &g)
            clampMin = lo
            clampMax = Int32.random(in: lo...127, using: &g)
        }
        // Half the cases carry what `quanta quantize` writes by default: right shifts of at
        // most 12 and multipliers in `ShortMultiplier`'s 32-bit form, which the x86 kernels
        // requantize on their short path.
        if Bool.random(using: &g) {
            for i in 0..<count {
                (multipliers[i], shifts[i]) = ShortMultiplier.shortened(multiplier: multipliers[i], shift: min(0, max(-12, shifts[i])))
            }
        }
    }

    func withRequantization<R>(_ body: (Requantization) -> R) -> R {
        QuantaKernelsTests.withRequantization(multipliers, shifts, zp: outputZeroPoint, lo: clampMin, hi: clampMax, body)
    }

    /// A 1×1 case run through `kernel` (a `PointwiseGEMM` entry point) on its own packed
    /// weights, one GEMM row per pixel; returns the output and the panel, which is
    /// `panelSlack` bytes longer than the GEMM needs (to check for overruns).
    /// With `prefilled`, the rows of A are widened into the panel here (`PointwiseGEMM.widenRow`)
    /// and the kernel gets `panelFilled` with `a` pointing at other values (0x55 bytes), so
    /// a kernel that read A would give other outputs.
    func gemm(panelSlack: Int = 0, prefilled: Bool = false, _ kernel: (GEMMOperands) -> Void) -> (output: [Int8], panel: [UInt8]) {
        let depth = filter.inputChannelsPerGroup, columns = filter.outputChannels
        let rows = inputShape.n * inputShape.h * inputShape.w
        let packed = OptimizedConv2D.packWeights(variant: .pointwise, weights: weights, filter: filter, bias: bias,
                                                 inputShape: inputShape, inputZeroPoint: inputZeroPoint, parameters: parameters)
        var panel = [UInt8](repeating: 0, count: PointwiseGEMM.panelByteCount(depth: depth) + panelSlack)
        var out = [Int8](repeating: 0, count: outputShape.elementCount)
        let decoy = [Int8](repeating: 0x55, count: input.count)
        withRequantization { r in
            (prefilled ? decoy : input).withUnsafeBufferPointer { i in
                packed.withUnsafeBytes { p in
                    panel.withUnsafeMutableBytes { s in
                        if prefilled {
                            input.withUnsafeBufferPointer { a in
                                for row in 0..<rows {
                                    PointwiseGEMM.widenRow(a.baseAddress! + row * depth, depth: depth,
                                                           into: s.baseAddress! + row * PointwiseGEMM.paddedDepth(depth) * 2)
                                }
                            }
                        }
                        out.withUnsafeMutableBufferPointer { o in
                            kernel(GEMMOperands(
                                rows: rows, depth: depth, columns: columns,
                                a: i.baseAddress!, aRowStride: depth, packed: p.baseAddress!, output: o.baseAddress!,
                                outputRowStride: columns, requantization: r, panel: s.baseAddress!, panelFilled: prefilled))
                        }
                    }
                }
            }
        }
        return (out, panel)
    }

    func reference() -> [Int8] {
        var out = [Int8](repeating: 0, count: outputShape.elementCount)
        withRequantization { r in
            input.withUnsafeBufferPointer { i in
                weights.withUnsafeBufferPointer { w in
                    withBias { b in
                        out.withUnsafeMutableBufferPointer { o in
                            Int8Reference.conv2D(
                                input: i.baseAddress!, inputShape: inputShape, inputZeroPoint: inputZeroPoint,
                                weights: w.baseAddress!, filter: filter, bias: b, output: o.baseAddress!,
                                outputShape: outputShape, parameters: parameters, requantization: r)
                        }
                    }
                }
            }
        }
        return out
    }

    func withBias<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
        if let bias { return bias.withUnsafeBufferPointer { body($0.baseAddress) } }
        return body(nil)
    }

    /// Runs `variant` through `OptimizedConv2D.run` with guard bytes after the output and
    /// the scratch; fails the test if a guard byte changed.
    func optimized(_ variant: KernelVariant, file: StaticString = #filePath, line: UInt = #line) -> [Int8] {
        let guardBytes = 64
        let packed = OptimizedConv2D.packWeights(
            variant: variant, weights: weights, filter: filter, bias: bias, inputShape: inputShape,
            inputZeroPoint: inputZeroPoint, parameters: parameters)
        let scratchCount = variant.scratchBytes(inputShape: inputShape, filter: filter, parameters: parameters)
        var scratch = [UInt8](repeating: 0xA5, count: scratchCount + guardBytes + 1)
        var out = [Int8](repeating: 0x5A, count: outputShape.elementCount + guardBytes)
        withRequantization { r in
            input.withUnsafeBufferPointer { i in
                weights.withUnsafeBufferPointer { w in
                    withBias { b in
                        packed.withUnsafeBytes { p in
                            scratch.withUnsafeMutableBytes { s in
                                out.withUnsafeMutableBufferPointer { o in
                                    // Odd offset: kernels must not assume scratch alignment.
                                    OptimizedConv2D.run(
                                        variant: variant, input: i.baseAddress!, inputShape: inputShape,
                                        inputZeroPoint: inputZeroPoint, weights: w.baseAddress!, filter: filter,
                                        bias: b, output: o.baseAddress!, outputShape: outputShape,
                                        parameters: parameters, requantization: r,
                                        packedWeights: p.baseAddress, scratch: s.baseAddress! + 1)
                                }
                            }
                        }
                    }
                }
            }
        }
        XCTAssert(out[outputShape.elementCount...].allSatisfy { $0 == 0x5A }, "output guard overwritten", file: file, line: line)
        XCTAssert(scratch[(scratchCount + 1)...].allSatisfy { $0 == 0xA5 }, "scratch guard overwritten", file: file, line: line)
        return Array(out[..<outputShape.elementCount])
    }

    var description: String {
        "in \(inputShape) filter \(filter) \(parameters) zp \(inputZeroPoint) bias \(bias != nil) channels \(multipliers.count)"
    }
}

final class OptimizedConv2DTests: XCTestCase {
    /// Checks the chosen variant (and, if given, a forced one) against the reference.
    func check(_ c: ConvCase, expect: KernelVariant? = nil, also: [KernelVariant] = [], file: StaticString = #filePath, line: UInt = #line) {
        let chosen = KernelVariant.choose(inputShape: c.inputShape, filter: c.filter, parameters: c.parameters, inputZeroPoint: c.inputZeroPoint)
        if let expect { XCTAssertEqual(chosen, expect, c.description, file: file, line: line) }
        let reference = c.reference()
        for variant in [chosen] + also {
            let result = c.optimized(variant, file: file, line: line)
            if result != reference {
                let first = result.indices.first { result[$0] != reference[$0] }!
                XCTFail("\(variant) differs from reference at \(first): \(result[first]) vs \(reference[first]); \(c.description)", file: file, line: line)
            }
        }
    }

    func testPointwiseEqualsReferenceOnRandomShapes() {
        var g = SeededGenerator(seed: 1)
        for _ in 0..<40 {
            let c = Int.random(in: 1...45, using: &g)
            let o = Int.random(in: 1...40, using: &g)
            let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: Int.random(in: 1...7, using: &g), w: Int.random(in: 1...7, using: &g), c: c)
            let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                parameters: Conv2DParameters(), perChannel: Bool.random(using: &g), hasBias: Bool.random(using: &g), using: &g)
            check(test, expect: .pointwise, also: [.im2col, .grouped])
        }
    }

    func testPointwiseEqualsReferenceOnMobileNetShape() {
        var g = SeededGenerator(seed: 2)
        let test = ConvCase(inputShape: TensorShape(h: 7, w: 7, c: 96), filter: FilterShape(outputChannels: 576, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 96),
                            parameters: Conv2DParameters(), using: &g)
        check(test, expect: .pointwise)
    }

    func testPortableGEMMEqualsReferenceOnRandomShapes() {
        var g = SeededGenerator(seed: 3)
        for _ in 0..<30 {
            let c = Int.random(in: 1...40, using: &g)
            let o = Int.random(in: 1...35, using: &g)
            let shape = TensorShape(h: Int.random(in: 1...5, using: &g), w: Int.random(in: 1...6, using: &g), c: c)
            let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                parameters: Conv2DParameters(), perChannel: Bool.random(using: &g), using: &g)
            XCTAssertEqual(test.gemm(PointwiseGEMM.runPortable).output, test.reference(), test.description)
        }
    }

    /// Both GEMM kernels (the one `run` picks, AVX2 on x86_64, and `runPortable`) on the
    /// panel and tile edges: rows around the tile height 6 and the panel heights (48 rows
    /// up to K = 64, 30 at K = 96, 6 from K = 513), odd K, column tails of 1...7 and odd
    /// 8-column blocks, per-tensor and per-channel parameters, left shifts.
    func testGEMMKernelsEqualReferenceOnPanelAndTileEdges() {
        var g = SeededGenerator(seed: 21)
        let rowChoices = [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 29, 31, 47, 48, 49, 53, 97, 101]
        let depthChoices = [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 65, 95, 96, 97, 600]
        let columnChoices = [1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 33, 40]
        for trial in 0..<48 {
            let rows = rowChoices[trial % rowChoices.count]
            let c = depthChoices[Int.random(in: 0..<depthChoices.count, using: &g)]
            let o = columnChoices[Int.random(in: 0..<columnChoices.count, using: &g)]
            let shape = TensorShape(h: rows, w: 1, c: c)
            let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                parameters: Conv2DParameters(), perChannel: trial % 3 != 0, hasBias: trial % 4 != 0, using: &g)
            let reference = test.reference()
            XCTAssertEqual(test.optimized(.pointwise), reference, test.description)
            for portable in [false, true] {
                let (out, panel) = test.gemm(panelSlack: 16) { portable ? PointwiseGEMM.runPortable($0) : PointwiseGEMM.run($0) }
                XCTAssertEqual(out, reference, "\(portable ? "portable" : "run") \(test.description)")
                XCTAssertEqual(Array(panel.suffix(16)), [UInt8](repeating: 0, count: 16), "panel overrun")
            }
        }
    }

    /// Every x86 GEMM path this host can run, forced in turn (`PointwiseGEMM.forceX86ISA`):
    /// AVX2, and the AVX-512 VNNI kernel where the CPU has it — `run` and `runDirect`, on the
    /// tile edges (rows around its 12- and 4-row tiles), odd and partial-quad depths (k mod 4 =
    /// 1, 2, 3), column
    /// tails and odd 8-column blocks, -128 weights. A path the host cannot run is named in
    /// the test's output (XCTSkip after the paths that ran), not passed over silently.
    func testEveryX86GEMMPathEqualsReference() throws {
        #if arch(x86_64)
        var g = SeededGenerator(seed: 29)
        // VNNI takes 8 rows or more of depth 32 or more, and 64 rows or more of any depth
        // (`quanta_gemm_vnni`); the rest, and every case on the AVX2 level, runs AVX2.
        let rowChoices = [1, 5, 8, 9, 11, 12, 13, 16, 20, 23, 24, 25, 49, 56, 64, 70]
        let depthChoices = [3, 16, 32, 33, 34, 35, 38, 39, 96, 144, 250, 960]
        let columnChoices = [1, 7, 8, 9, 15, 16, 17, 24, 25, 40, 41]
        defer { PointwiseGEMM.forceX86ISA(-1) }
        var ran: [String] = []
        for (level, name) in [(Int32(0), "AVX2"), (Int32(1), "AVX-512 VNNI")] {
            PointwiseGEMM.forceX86ISA(level)
            if level == 1 && !PointwiseGEMM.cpuHasVNNI { continue }
            ran.append(name)
            for trial in 0..<40 {
                let rows = rowChoices[trial % rowChoices.count]
                let c = depthChoices[Int.random(in: 0..<depthChoices.count, using: &g)]
                let o = columnChoices[Int.random(in: 0..<columnChoices.count, using: &g)]
                let test = ConvCase(inputShape: TensorShape(h: rows, w: 1, c: c),
                                    filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                    parameters: Conv2DParameters(), perChannel: trial % 3 != 0, hasBias: trial % 4 != 0, using: &g)
                let reference = test.reference()
                XCTAssertEqual(test.gemm(panelSlack: 16, PointwiseGEMM.run).output, reference, "\(name) run \(test.description)")
                if c % 2 == 0 {
                    XCTAssertEqual(test.gemm(PointwiseGEMM.runDirect).output, reference, "\(name) runDirect \(test.description)")
                }
            }
        }
        if !ran.contains("AVX-512 VNNI") {
            throw XCTSkip("ran \(ran.joined(separator: ", ")); this CPU has no AVX-512 VNNI, so that path was not run")
        }
        #else
        throw XCTSkip("not an x86_64 host: no x86 GEMM path to run")
        #endif
    }

    /// The output stages' rounding ties on every x86 path: small weights and activations
    /// keep the accumulators within a few hundred, and multipliers of 2^30 and 3·2^29 with
    /// right shifts 0...3 (ShortMultiplier's 32-bit form, which the kernels take when every
    /// channel of a block has it), 2^30 + 256 (the full stage) and a left shift of 1 land
    /// many of them exactly half-way between two outputs, on both signs.
    func testX86GEMMOutputStagesRoundTiesAsTheReference() {
        #if arch(x86_64)
        var g = SeededGenerator(seed: 31)
        defer { PointwiseGEMM.forceX86ISA(-1) }
        for level in [Int32(0), 1] {
            PointwiseGEMM.forceX86ISA(level)
            for trial in 0..<24 {
                let c = [16, 32, 40, 64][trial % 4], o = [8, 16, 24, 17][trial % 4], rows = [64, 70, 12, 9][trial % 4]
                var test = ConvCase(inputShape: TensorShape(h: rows, w: 1, c: c),
                                    filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                    parameters: Conv2DParameters(), perChannel: true, using: &g)
                test.inputZeroPoint = 0
                test.input = test.input.map { $0 / 16 }
                test.weights = test.weights.map { $0 / 43 }
                test.bias = test.bias.map { $0.map { $0 / 4096 } }
                // 2^30 + 256 has no 32-bit form: the full 64-bit stage, its ties in RDBPOT.
                test.multipliers = (0..<o).map { _ in [1 << 30, 3 << 29, (1 << 30) + 256][trial % 3] }
                test.shifts = (0..<o).map { _ in trial % 5 == 4 ? 1 : -Int32.random(in: 0...3, using: &g) }
                test.outputZeroPoint = Int32.random(in: -20...20, using: &g)
                test.clampMin = -128
                test.clampMax = 127
                let reference = test.reference()
                XCTAssertEqual(test.gemm(panelSlack: 16, PointwiseGEMM.run).output, reference, "level \(level) \(test.description)")
            }
        }
        #endif
    }

    /// A panel the caller filled (`GEMMOperands.panelFilled`, as `Im2col` does where the
    /// kernel reads an int16 panel): both kernels take the rows from it and never read A;
    /// rows up to one whole panel, odd and even depths.
    func testGEMMKernelsUseACallerFilledPanel() {
        var g = SeededGenerator(seed: 23)
        for trial in 0..<24 {
            let c = [1, 3, 8, 9, 16, 17, 27, 48, 64, 96][trial % 10]
            let rows = Int.random(in: 1...PointwiseGEMM.panelRows(depth: c), using: &g)
            let test = ConvCase(inputShape: TensorShape(h: rows, w: 1, c: c),
                                filter: FilterShape(outputChannels: Int.random(in: 1...40, using: &g), kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                parameters: Conv2DParameters(), perChannel: trial % 2 == 0, using: &g)
            let reference = test.reference()
            XCTAssertEqual(test.gemm(prefilled: true, PointwiseGEMM.run).output, reference, "run \(test.description)")
            XCTAssertEqual(test.gemm(prefilled: true, PointwiseGEMM.runPortable).output, reference, "portable \(test.description)")
        }
    }

    /// `widenThreeRows` writes what `widenRow` writes for the three rows back to back
    /// (n = 8...16 bytes per row, rows apart in the input), including the odd-depth zero.
    func testWidenThreeRowsEqualsWidenRowOfTheConcatenatedRows() {
        var g = SeededGenerator(seed: 24)
        for n in 8...16 {
            let stride = n + Int.random(in: 0...9, using: &g)
            let source = (0..<(3 * stride)).map { _ in Int8.random(in: -128...127, using: &g) }
            let rows = (0..<3).flatMap { r in source[(r * stride)..<(r * stride + n)] }
            let bytes = PointwiseGEMM.paddedDepth(3 * n) * 2
            var three = [UInt8](repeating: 0xAA, count: bytes), one = [UInt8](repeating: 0xBB, count: bytes)
            source.withUnsafeBufferPointer { s in three.withUnsafeMutableBytes { PointwiseGEMM.widenThreeRows(s.baseAddress!, stride, n, into: $0.baseAddress!) } }
            rows.withUnsafeBufferPointer { s in one.withUnsafeMutableBytes { PointwiseGEMM.widenRow(s.baseAddress!, depth: 3 * n, into: $0.baseAddress!) } }
            XCTAssertEqual(three, one, "n = \(n)")
        }
    }

    /// A single row (a fully connected layer; the AVX2 kernel takes 32 columns per pass):
    /// every column tail past 32, odd and long depths, and the classifier's 1280 → 1000.
    func testSingleRowGEMMEqualsReferenceForEveryColumnTail() {
        var g = SeededGenerator(seed: 22)
        let cases = [(1, 32), (7, 33), (16, 39), (33, 40), (17, 41), (64, 47), (3, 48), (96, 63), (31, 64), (65, 65),
                     (600, 97), (1280, 1000)]
        for (trial, (c, o)) in cases.enumerated() {
            let test = ConvCase(inputShape: TensorShape(h: 1, w: 1, c: c),
                                filter: FilterShape(outputChannels: o, kernelH: 1, kernelW: 1, inputChannelsPerGroup: c),
                                parameters: Conv2DParameters(), perChannel: trial % 3 != 0, hasBias: trial % 4 != 0, using: &g)
            let reference = test.reference()
            let (out, panel) = test.gemm(panelSlack: 16) { PointwiseGEMM.run($0) }
            XCTAssertEqual(out, reference, test.description)
            XCTAssertEqual(Array(panel.suffix(16)), [UInt8](repeating: 0, count: 16), "panel overrun")
        }
    }

    func testPanelRowsAreADeterministicFunctionOfDepth() {
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: 1), 48)
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: 64), 48)
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: 65), 42)
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: 96), 30)
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: 512), 6)
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: 960), 6)
        XCTAssertEqual(PointwiseGEMM.panelRows(depth: Int64(Int32.max)), 6)
        for k in 1...1200 {
            let rows = PointwiseGEMM.panelRows(depth: k)
            XCTAssertEqual(rows % 6, 0)
            XCTAssertTrue(rows >= 6 && rows <= 48)
            XCTAssertTrue(rows == 6 || PointwiseGEMM.panelByteCount(depth: k) <= PointwiseGEMM.panelBudgetBytes, "\(k)")
            XCTAssertEqual(PointwiseGEMM.panelByteCount(depth: k), rows * PointwiseGEMM.paddedDepth(k) * 2)
        }
    }

    func testGroupedEqualsReferenceFor1x1And3x3() {
        var g = SeededGenerator(seed: 4)
        for trial in 0..<24 {
            let groups = Int.random(in: 2...4, using: &g)
            let ci = Int.random(in: 2...9, using: &g)   // 1 would be depthwise
            let co = Int.random(in: 1...11, using: &g)
            let k = trial % 2 == 0 ? 1 : 3
            let stride = Int.random(in: 1...2, using: &g)
            let pad = k == 3 ? Padding(top: Int.random(in: 0...1, using: &g), left: Int.random(in: 0...1, using: &g),
                                       bottom: Int.random(in: 0...1, using: &g), right: Int.random(in: 0...1, using: &g)) : .zero
            let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: Int.random(in: 3...8, using: &g), w: Int.random(in: 3...8, using: &g), c: groups * ci)
            let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: groups * co, kernelH: k, kernelW: k, inputChannelsPerGroup: ci),
                                parameters: Conv2DParameters(strideH: stride, strideW: stride, padding: pad, groups: groups),
                                perChannel: Bool.random(using: &g), hasBias: Bool.random(using: &g), using: &g)
            check(test, expect: .grouped)
        }
    }

    func testIm2colEqualsReferenceOnGeneralGeometries() {
        var g = SeededGenerator(seed: 5)
        // (kernelH, kernelW, stride, dilation, input channels): first layer, 1×K, K×1, 5×5
        // dilated, 2×2 even kernel, strided 1×1.
        let shapes: [(Int, Int, Int, Int, Int)] = [(3, 3, 2, 1, 3), (1, 5, 1, 1, 6), (5, 1, 1, 1, 5), (5, 5, 1, 2, 4),
                                                   (2, 2, 2, 1, 7), (1, 1, 2, 1, 9), (3, 3, 1, 1, 17), (7, 7, 2, 1, 3)]
        for (kh, kw, stride, dilation, c) in shapes {
            for _ in 0..<3 {
                let pad = Padding(top: Int.random(in: 0...kh / 2 + 1, using: &g), left: Int.random(in: 0...kw / 2 + 1, using: &g),
                                  bottom: Int.random(in: 0...kh / 2, using: &g), right: Int.random(in: 0...kw / 2, using: &g))
                let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: Int.random(in: kh * dilation...kh * dilation + 9, using: &g),
                                        w: Int.random(in: kw * dilation...kw * dilation + 9, using: &g), c: c)
                let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: Int.random(in: 1...20, using: &g), kernelH: kh, kernelW: kw, inputChannelsPerGroup: c),
                                    parameters: Conv2DParameters(strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation, padding: pad),
                                    perChannel: Bool.random(using: &g), hasBias: Bool.random(using: &g), using: &g)
                check(test, expect: .im2col)
            }
        }
    }

    /// Narrow window rows (stems over RGB and other inputs of 1–5 channels, copied 1–16 bytes
    /// at a time): every padding side, strides 1–3, vertical dilation, batches of 2, maps
    /// spanning several panels.
    func testIm2colWithNarrowWindowRowsEqualsReference() {
        var g = SeededGenerator(seed: 55)
        for trial in 0..<80 {
            let c = Int.random(in: 1...5, using: &g)
            let kw = Int.random(in: 1...max(1, min(5, 16 / c)), using: &g)
            let kh = Int.random(in: 1...5, using: &g)
            let stride = Int.random(in: 1...3, using: &g)
            let dilationH = trial % 4 == 0 ? 2 : 1
            let pad = Padding(top: Int.random(in: 0...2, using: &g), left: Int.random(in: 0...2, using: &g),
                              bottom: Int.random(in: 0...2, using: &g), right: Int.random(in: 0...2, using: &g))
            let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: Int.random(in: kh * dilationH...kh * dilationH + 12, using: &g),
                                    w: Int.random(in: kw...kw + 20, using: &g), c: c)
            let filter = FilterShape(outputChannels: Int.random(in: 1...40, using: &g), kernelH: kh, kernelW: kw, inputChannelsPerGroup: c)
            let parameters = Conv2DParameters(strideH: stride, strideW: stride, dilationH: dilationH, dilationW: 1, padding: pad)
            let out = parameters.outputShape(input: shape, filter: filter)
            guard out.h >= 1 && out.w >= 1, !(kh == 1 && kw == 1 && stride == 1 && pad == .uniform(0)) else { continue }
            let test = ConvCase(inputShape: shape, filter: filter, parameters: parameters,
                                perChannel: Bool.random(using: &g), hasBias: Bool.random(using: &g), using: &g)
            check(test, expect: .im2col)
        }
    }

    func testDepthwise3x3EqualsReferenceForEveryPaddingEdgeAndStride() {
        var g = SeededGenerator(seed: 6)
        for stride in 1...2 {
            for padMask in 0..<16 {
                let pad = Padding(top: padMask & 1, left: (padMask >> 1) & 1, bottom: (padMask >> 2) & 1, right: (padMask >> 3) & 1)
                let c = [1, 3, 8, 16, 17, 33, 40][Int.random(in: 0..<7, using: &g)]
                let multiplier = padMask % 5 == 0 ? 2 : 1
                let shape = TensorShape(h: Int.random(in: 3...9, using: &g), w: Int.random(in: 3...9, using: &g), c: c)
                let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: c * multiplier, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                                    parameters: Conv2DParameters(strideH: stride, strideW: stride, padding: pad, groups: c),
                                    perChannel: Bool.random(using: &g), hasBias: Bool.random(using: &g), using: &g)
                check(test, expect: c > 1 ? .depthwise3x3 : .im2col, also: c > 1 ? [.depthwise] : [])
            }
        }
    }

    func testDepthwiseEqualsReferenceWithMultiplierDilationAndLargeKernels() {
        var g = SeededGenerator(seed: 7)
        // (kernel, stride, dilation, multiplier)
        let geometries: [(Int, Int, Int, Int)] = [(5, 1, 1, 1), (5, 2, 1, 1), (3, 1, 2, 1), (3, 2, 1, 3), (5, 1, 1, 2), (2, 2, 1, 1), (3, 3, 1, 1), (7, 1, 3, 1)]
        for (k, stride, dilation, multiplier) in geometries {
            for _ in 0..<3 {
                let c = Int.random(in: 2...37, using: &g)
                let span = (k - 1) * dilation + 1
                let pad = Padding(top: Int.random(in: 0...k / 2, using: &g), left: Int.random(in: 0...k / 2, using: &g),
                                  bottom: Int.random(in: 0...k / 2, using: &g), right: Int.random(in: 0...k / 2, using: &g))
                let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: Int.random(in: span...span + 6, using: &g), w: Int.random(in: span...span + 6, using: &g), c: c)
                let test = ConvCase(inputShape: shape, filter: FilterShape(outputChannels: c * multiplier, kernelH: k, kernelW: k, inputChannelsPerGroup: 1),
                                    parameters: Conv2DParameters(strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation, padding: pad, groups: c),
                                    perChannel: Bool.random(using: &g), hasBias: Bool.random(using: &g), using: &g)
                let expected: KernelVariant = (k == 3 && dilation == 1 && stride <= 2) ? .depthwise3x3 : .depthwise
                check(test, expect: expected, also: [.grouped])
            }
        }
    }

    /// The extreme products: x = -128 everywhere and |w| = 127 give int16 pair sums of
    /// ±32512, the largest the depthwise kernels add before widening.
    func testDepthwiseExtremeProductsStayExactInInt16Pairs() {
        var g = SeededGenerator(seed: 9)
        for (k, stride) in [(3, 1), (3, 2), (5, 1)] {
            var test = ConvCase(inputShape: TensorShape(h: 9, w: 9, c: 32), filter: FilterShape(outputChannels: 32, kernelH: k, kernelW: k, inputChannelsPerGroup: 1),
                                parameters: Conv2DParameters(strideH: stride, strideW: stride, padding: .uniform(1), groups: 32), using: &g)
            test.input = [Int8](repeating: -128, count: test.input.count)
            test.weights = (0..<test.weights.count).map { i in (i / 32) % 2 == 0 ? -127 : 127 }
            check(test, expect: k == 3 ? .depthwise3x3 : .depthwise)
            test.weights = [Int8](repeating: -127, count: test.weights.count)
            check(test, expect: k == 3 ? .depthwise3x3 : .depthwise)
        }
    }

    func testGlobalDepthwiseEqualsReference() {
        var g = SeededGenerator(seed: 8)
        let test = ConvCase(inputShape: TensorShape(h: 7, w: 7, c: 29), filter: FilterShape(outputChannels: 29, kernelH: 7, kernelW: 7, inputChannelsPerGroup: 1),
                            parameters: Conv2DParameters(groups: 29), using: &g)
        check(test, expect: .depthwise)
    }

    func testChooseFallsBackToReferenceForZeroPointOutsideInt8() {
        let v = KernelVariant.choose(inputShape: TensorShape(h: 4, w: 4, c: 8), filter: FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 8),
                                     parameters: Conv2DParameters(), inputZeroPoint: 128)
        XCTAssertEqual(v, .reference)
        XCTAssertEqual(KernelVariant.reference.rawValue, 0)
    }
}
