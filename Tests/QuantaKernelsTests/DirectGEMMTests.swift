import Glibc
import XCTest
@testable import QuantaKernels

/// `KernelVariant.directGEMM` and `PointwiseGEMM.runDirect`: the 1×1 GEMM without a panel,
/// reading A where it lies. Bit for bit against `Int8Reference.conv2D` through the variant
/// (pointwise and grouped shapes), the vector kernel against the scalar form on tile and
/// panel edges with A ending at an inaccessible page, and where the variant applies.
final class DirectGEMMTests: XCTestCase {
    func testDirectGEMMEqualsReferenceOnPointwiseAndGroupedShapes() {
        var g = SeededGenerator(seed: 0xD1EC7)
        for trial in 0..<40 {
            let groups = trial % 3 == 0 ? Int.random(in: 2...4, using: &g) : 1
            let ci = 2 * Int.random(in: 1...(groups == 1 ? 40 : 6), using: &g)
            let co = Int.random(in: 1...(groups == 1 ? 41 : 11), using: &g)
            let shape = TensorShape(n: Int.random(in: 1...2, using: &g), h: Int.random(in: 1...9, using: &g),
                                    w: Int.random(in: 1...9, using: &g), c: groups * ci)
            let test = ConvCase(inputShape: shape,
                                filter: FilterShape(outputChannels: groups * co, kernelH: 1, kernelW: 1, inputChannelsPerGroup: ci),
                                parameters: Conv2DParameters(groups: groups), perChannel: Bool.random(using: &g),
                                hasBias: Bool.random(using: &g), using: &g)
            XCTAssertTrue(KernelVariant.directGEMM.applies(inputShape: shape, filter: test.filter, parameters: test.parameters,
                                                           inputZeroPoint: test.inputZeroPoint))
            XCTAssertEqual(test.optimized(.directGEMM), test.reference(), test.description)
        }
    }

    /// `runDirect` (AVX2 on x86_64 builds) and `runDirectPortable` against the reference on
    /// rows around the AVX2 tile height 6 and the panel heights, even depths with every
    /// 16/2 tail, column tails 1...7 and odd 8-column blocks, a single row (the 32-column
    /// pass), with A's last row ending where an inaccessible page begins (a kernel reading
    /// past A's last value stops with SIGSEGV) and a row stride wider than the depth.
    func testDirectKernelsEqualReferenceAndReadNothingPastA() throws {
        var g = SeededGenerator(seed: 0xD1EC8)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for (rows, depth, columns) in [(1, 2, 1), (1, 64, 45), (5, 2, 7), (6, 16, 16), (7, 18, 17), (13, 30, 9), (48, 32, 24),
                                       (49, 96, 33), (31, 96, 8), (12, 514, 10), (2, 1280, 40), (61, 24, 144)] {
            for stride in [depth, depth + 3] {
                let bytes = (rows - 1) * stride + depth
                let span = (bytes + page - 1) / page * page + page
                let base = try XCTUnwrap(mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
                defer { munmap(base, span) }
                XCTAssertEqual(mprotect(base + span - page, page, PROT_NONE), 0)
                let a = (base + span - page - bytes).assumingMemoryBound(to: Int8.self)
                var input = [Int8](repeating: 0, count: rows * depth)
                for r in 0..<rows {
                    for k in 0..<depth {
                        let v = Int8.random(in: -128...127, using: &g)
                        a[r * stride + k] = v
                        input[r * depth + k] = v
                    }
                }
                var test = ConvCase(inputShape: TensorShape(h: 1, w: rows, c: depth),
                                    filter: FilterShape(outputChannels: columns, kernelH: 1, kernelW: 1, inputChannelsPerGroup: depth),
                                    parameters: Conv2DParameters(), perChannel: columns % 2 == 1, using: &g)
                test.input = input
                let expected = test.reference()
                let packed = OptimizedConv2D.packWeights(variant: .directGEMM, weights: test.weights, filter: test.filter, bias: test.bias,
                                                         inputShape: test.inputShape, inputZeroPoint: test.inputZeroPoint,
                                                         parameters: test.parameters)
                for (name, kernel) in [("runDirect", PointwiseGEMM.runDirect), ("runDirectPortable", PointwiseGEMM.runDirectPortable)] {
                    var out = [Int8](repeating: 0x5A, count: rows * columns + 16)
                    test.withRequantization { r in
                        packed.withUnsafeBytes { p in
                            out.withUnsafeMutableBufferPointer { o in
                                kernel(GEMMOperands(rows: rows, depth: depth, columns: columns, a: UnsafePointer(a), aRowStride: stride,
                                                    packed: p.baseAddress!, output: o.baseAddress!, outputRowStride: columns,
                                                    requantization: r, panel: nil))
                            }
                        }
                    }
                    XCTAssertEqual(Array(out[..<(rows * columns)]), expected, "\(name) rows \(rows) depth \(depth) columns \(columns) stride \(stride)")
                    XCTAssert(out[(rows * columns)...].allSatisfy { $0 == 0x5A }, "\(name) wrote past the output")
                }
            }
        }
    }

    func testDirectGEMMAppliesTo1x1EvenDepthOnlyAndNeedsNoScratch() {
        let shape = TensorShape(h: 4, w: 4, c: 12)
        func applies(_ f: FilterShape, _ p: Conv2DParameters, _ input: TensorShape = shape, zp: Int32 = 0) -> Bool {
            KernelVariant.directGEMM.applies(inputShape: input, filter: f, parameters: p, inputZeroPoint: zp)
        }
        let pointwise = FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 12)
        XCTAssertTrue(applies(pointwise, Conv2DParameters()))
        XCTAssertTrue(applies(FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 6), Conv2DParameters(groups: 2)))
        XCTAssertFalse(applies(FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 3), Conv2DParameters(groups: 4)),
                       "odd depth per group")
        XCTAssertFalse(applies(FilterShape(outputChannels: 9, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 9),
                               Conv2DParameters(), TensorShape(h: 4, w: 4, c: 9)), "odd depth")
        XCTAssertFalse(applies(FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 12), Conv2DParameters()))
        XCTAssertFalse(applies(pointwise, Conv2DParameters(strideH: 2, strideW: 2)))
        XCTAssertFalse(applies(pointwise, Conv2DParameters(padding: Padding(top: 1, left: 0, bottom: 0, right: 0))))
        XCTAssertFalse(applies(pointwise, Conv2DParameters(), zp: 128), "zero point outside int8")
        XCTAssertFalse(applies(FilterShape(outputChannels: 12, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1),
                               Conv2DParameters(groups: 12)), "depthwise")
        let p = Conv2DParameters()
        XCTAssertEqual(KernelVariant.directGEMM.scratchBytes(inputShape: shape, filter: pointwise, parameters: p), 0)
        XCTAssertEqual(KernelVariant.directGEMM.packedWeightsByteCount(inputShape: shape, filter: pointwise, parameters: p),
                       KernelVariant.pointwise.packedWeightsByteCount(inputShape: shape, filter: pointwise, parameters: p))
        let counts = KernelVariant.directGEMM.checkedByteCounts(inputShape: shape, filter: pointwise, parameters: p)
        XCTAssertEqual(counts?.scratch, 0)
        XCTAssertEqual(counts?.packedWeights, PointwiseGEMM.packedByteCount(depth: 12, columns: 8))
        XCTAssertTrue(KernelVariant.directGEMM.packsGEMMWeights)
        XCTAssertNotEqual(KernelVariant.choose(inputShape: shape, filter: pointwise, parameters: p, inputZeroPoint: 0), .directGEMM,
                          "choose never picks it; the memory passes do")
    }
}
