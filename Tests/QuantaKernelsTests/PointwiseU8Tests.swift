import XCTest
@testable import QuantaKernels

/// `KernelVariant.pointwiseU8` (`PointwiseU8GEMM`): bit-exact with `Int8Reference.conv2D`
/// for pair-bounded weights on every tile, panel and column edge, on both kernels; the
/// pair bound's checks; the upgrade rule.
final class PointwiseU8Tests: XCTestCase {
    /// Random 1×1 weights whose adjacent pairs fit `|w0| + |w1| ≤ 128`, a third of the pairs
    /// at the bound exactly (127 + 1, -128 + 0, ±64 ± 64, ...), and an odd depth's last weight
    /// anywhere in -128...127.
    static func pairBoundedWeights(columns: Int, depth: Int, using g: inout SeededGenerator) -> [Int8] {
        var w = [Int8](repeating: 0, count: columns * depth)
        for j in 0..<columns {
            var i = 0
            while i < depth {
                if i + 1 == depth {
                    w[j * depth + i] = Int8.random(in: -128...127, using: &g)
                    break
                }
                let a: Int, b: Int
                if Int.random(in: 0..<3, using: &g) == 0 {
                    a = [-128, -127, -64, 0, 1, 64, 127][Int.random(in: 0..<7, using: &g)]
                    let rest = 128 - abs(a)
                    b = Bool.random(using: &g) && rest <= 127 ? rest : -rest
                } else {
                    a = Int.random(in: -128...127, using: &g)
                    let rest = 128 - abs(a)
                    b = Int.random(in: -rest...min(rest, 127), using: &g)
                }
                let swap = Bool.random(using: &g)
                w[j * depth + i] = Int8(swap ? b : a)
                w[j * depth + i + 1] = Int8(swap ? a : b)
                i += 2
            }
        }
        return w
    }

    /// A random 1×1 case with pair-bounded weights; with `extreme`, inputs at -128 and 127
    /// only (uint8 0 and 255), so every `vpmaddubsw` pair reaches its largest sums.
    static func u8Case(rows: Int, depth: Int, columns: Int, perChannel: Bool, hasBias: Bool, extreme: Bool = false,
                       using g: inout SeededGenerator) -> ConvCase {
        var c = ConvCase(inputShape: TensorShape(h: rows, w: 1, c: depth),
                         filter: FilterShape(outputChannels: columns, kernelH: 1, kernelW: 1, inputChannelsPerGroup: depth),
                         parameters: Conv2DParameters(), perChannel: perChannel, hasBias: hasBias, using: &g)
        c.weights = pairBoundedWeights(columns: columns, depth: depth, using: &g)
        if extreme { c.input = c.input.map { $0 < 0 ? -128 : 127 } }
        return c
    }

    /// `kernel` (a `PointwiseU8GEMM` entry) on the case's own packed weights, with a panel
    /// `slack` bytes longer than `panelByteCount` (returned, to check for overruns).
    func u8GEMM(_ c: ConvCase, slack: Int = 16, _ kernel: (GEMMOperands) -> Void) -> (output: [Int8], panel: [UInt8]) {
        let depth = c.filter.inputChannelsPerGroup, columns = c.filter.outputChannels
        let rows = c.inputShape.n * c.inputShape.h * c.inputShape.w
        let packed = OptimizedConv2D.packWeights(variant: .pointwiseU8, weights: c.weights, filter: c.filter, bias: c.bias,
                                                 inputShape: c.inputShape, inputZeroPoint: c.inputZeroPoint, parameters: c.parameters)
        var panel = [UInt8](repeating: 0, count: PointwiseU8GEMM.panelByteCount(depth: depth, rows: rows) + slack)
        var out = [Int8](repeating: 0, count: c.outputShape.elementCount)
        c.withRequantization { r in
            c.input.withUnsafeBufferPointer { i in
                packed.withUnsafeBytes { p in
                    panel.withUnsafeMutableBytes { s in
                        out.withUnsafeMutableBufferPointer { o in
                            kernel(GEMMOperands(
                                rows: rows, depth: depth, columns: columns, a: i.baseAddress!, aRowStride: depth,
                                packed: p.baseAddress!, output: o.baseAddress!, outputRowStride: columns,
                                requantization: r, panel: s.baseAddress!))
                        }
                    }
                }
            }
        }
        return (out, panel)
    }

    /// Both kernels (`run`: AVX2 on x86_64; `runPortable`) and the variant through
    /// `OptimizedConv2D.run` (guard bytes) on rows around the tile height 6 and the panel
    /// heights, depths of every residue mod 4, column tails 1...7 and odd 8-column blocks,
    /// the single-row 32-column path, per-tensor and per-channel parameters.
    func testU8GEMMKernelsEqualReferenceOnPanelAndTileEdges() {
        var g = SeededGenerator(seed: 71)
        let rowChoices = [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 29, 31, 47, 48, 49, 53, 97, 101]
        let depthChoices = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 24, 31, 33, 64, 66, 95, 96, 97, 600]
        let columnChoices = [1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 64, 65]
        for trial in 0..<60 {
            let rows = rowChoices[trial % rowChoices.count]
            let depth = depthChoices[Int.random(in: 0..<depthChoices.count, using: &g)]
            let columns = columnChoices[Int.random(in: 0..<columnChoices.count, using: &g)]
            let test = Self.u8Case(rows: rows, depth: depth, columns: columns, perChannel: trial % 3 != 0,
                                   hasBias: trial % 4 != 0, extreme: trial % 5 == 0, using: &g)
            let reference = test.reference()
            XCTAssertEqual(test.optimized(.pointwiseU8), reference, test.description)
            for portable in [false, true] {
                let (out, panel) = u8GEMM(test) { portable ? PointwiseU8GEMM.runPortable($0) : PointwiseU8GEMM.run($0) }
                XCTAssertEqual(out, reference, "\(portable ? "portable" : "run") \(test.description)")
                XCTAssertEqual(Array(panel.suffix(16)), [UInt8](repeating: 0, count: 16), "panel overrun \(test.description)")
            }
        }
    }

    /// The largest pair sums: every input 127 (uint8 255) against pairs (127, 1), (-128, 0),
    /// (64, 64), (-64, -64): 255 · 128 = 32640, `vpmaddubsw`'s largest exact sum.
    func testPairsAtTheBoundWithTheLargestInputsStayExact() {
        var g = SeededGenerator(seed: 72)
        for depth in [4, 8, 16, 64] {
            var test = Self.u8Case(rows: 13, depth: depth, columns: 24, perChannel: true, hasBias: true, using: &g)
            let pairs: [(Int8, Int8)] = [(127, 1), (-128, 0), (64, 64), (-64, -64), (1, 127), (0, -128)]
            for j in 0..<24 {
                for i in stride(from: 0, to: depth, by: 2) {
                    let pair = pairs[(i / 2 + j) % pairs.count]
                    test.weights[j * depth + i] = pair.0
                    test.weights[j * depth + i + 1] = pair.1
                }
            }
            for value: Int8 in [127, -128] {
                test.input = [Int8](repeating: value, count: test.input.count)
                XCTAssertEqual(test.optimized(.pointwiseU8), test.reference(), "input \(value), depth \(depth)")
            }
        }
    }

    func testPairsFitChecksEveryAdjacentPairAndNamesTheFirstChannelBeyond() {
        func fits(_ w: [Int8], depth: Int) -> Bool {
            w.withUnsafeBufferPointer { PointwiseU8GEMM.pairsFit(weights: $0.baseAddress!, weightRowStride: depth, depth: depth, columns: w.count / depth) }
        }
        func firstUnfit(_ w: [Int8], depth: Int) -> Int? {
            let columns = w.count / depth
            let packed = w.withUnsafeBufferPointer { wp in
                var p = [UInt8](repeating: 0, count: PointwiseU8GEMM.packedByteCount(depth: depth, columns: columns))
                p.withUnsafeMutableBytes {
                    PointwiseU8GEMM.pack(weights: wp.baseAddress!, weightRowStride: depth, depth: depth, columns: columns,
                                         bias: nil, inputZeroPoint: 0, into: $0.baseAddress!)
                }
                return p
            }
            return packed.withUnsafeBytes { PointwiseU8GEMM.firstUnfitChannel($0.baseAddress!, depth: depth, columns: columns) }
        }
        XCTAssertTrue(fits([127, 1, -128, 0, 64, -64], depth: 6))
        XCTAssertFalse(fits([127, 2, 0, 0], depth: 4))
        XCTAssertFalse(fits([0, 0, -128, -1], depth: 4))
        // Pairs are (0, 1), (2, 3): 127 next to 127 across pairs is fine.
        XCTAssertTrue(fits([0, 127, 127, 0], depth: 4))
        // An odd depth's last weight has no partner.
        XCTAssertTrue(fits([100, 28, -128], depth: 3))
        XCTAssertNil(firstUnfit([100, 28, -128], depth: 3))
        // 11 columns of depth 5: the one beyond is column 9 (second 8-column block, lane 1).
        var w = [Int8](repeating: 64, count: 11 * 5)
        w[9 * 5 + 2] = 65
        XCTAssertFalse(fits(w, depth: 5))
        XCTAssertEqual(firstUnfit(w, depth: 5), 9)
        w[9 * 5 + 2] = 64
        XCTAssertEqual(firstUnfit(w, depth: 5), nil)
        w[3 * 5 + 1] = -65
        XCTAssertEqual(firstUnfit(w, depth: 5), 3)
    }

    func testOnlyPointwiseLayersWhoseWeightsFitAreUpgraded() {
        let fit: [Int8] = [127, 1, -64, -64], unfit: [Int8] = [127, 2, 0, 0]
        for variant in KernelVariant.allCases {
            let up = fit.withUnsafeBufferPointer { variant.upgradedForWeights($0.baseAddress!, depth: 4, columns: 1) }
            XCTAssertEqual(up, variant == .pointwise ? .pointwiseU8 : variant)
            let kept = unfit.withUnsafeBufferPointer { variant.upgradedForWeights($0.baseAddress!, depth: 4, columns: 1) }
            XCTAssertEqual(kept, variant)
        }
        // Same shapes as `.pointwise`, never chosen by shape alone.
        let input = TensorShape(h: 4, w: 4, c: 8)
        let filter = FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 8)
        XCTAssertTrue(KernelVariant.pointwiseU8.applies(inputShape: input, filter: filter, parameters: Conv2DParameters(), inputZeroPoint: 5))
        XCTAssertFalse(KernelVariant.pointwiseU8.applies(inputShape: input, filter: filter, parameters: Conv2DParameters(strideH: 2, strideW: 2), inputZeroPoint: 5))
        XCTAssertFalse(KernelVariant.pointwiseU8.applies(inputShape: input, filter: FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 8),
                                                        parameters: Conv2DParameters(padding: .uniform(1)), inputZeroPoint: 5))
        XCTAssertEqual(KernelVariant.choose(inputShape: input, filter: filter, parameters: Conv2DParameters(), inputZeroPoint: 5), .pointwise)
        // The uint8 panel holds one byte per (4-padded) element, never more than the int16 panel.
        for depth in 1...70 {
            XCTAssertLessThanOrEqual(PointwiseU8GEMM.panelByteCount(depth: depth, rows: 1000), PointwiseGEMM.panelByteCount(depth: depth))
        }
    }
}
