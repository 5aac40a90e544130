import XCTest
@testable import QuantaKernels

/// `KernelVariant.im2colDirect` and `Im2col.runDirect`: im2col + GEMM with the rows gathered
/// into a stack tile instead of arena scratch. Bit for bit against `Int8Reference.conv2D`
/// (and `.im2col`) on random geometries, and where the variant applies.
final class Im2colDirectTests: XCTestCase {
    /// Stems (3×3 stride 2 over 3 channels: odd depth 27), 1×K / K×1, dilations, strides,
    /// every padding, groups 1...3, depths from 1 to a one-row tile, pixel counts across
    /// several tiles and partial last tiles, per-tensor and per-channel requantization.
    func testIm2colDirectEqualsReferenceAndIm2col() {
        var g = SeededGenerator(seed: 0x1D2C)
        var cases: [(TensorShape, FilterShape, Conv2DParameters)] = [
            (TensorShape(h: 32, w: 32, c: 3), FilterShape(outputChannels: 16, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
             Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 1, left: 1, bottom: 1, right: 1))),
            (TensorShape(h: 17, w: 19, c: 3), FilterShape(outputChannels: 24, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
             Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1))),
            // Depth 1020 (tile of one row of 1020 bytes) and 1024 (the largest that applies).
            (TensorShape(h: 3, w: 4, c: 340), FilterShape(outputChannels: 9, kernelH: 1, kernelW: 3, inputChannelsPerGroup: 340),
             Conv2DParameters(padding: Padding(top: 0, left: 1, bottom: 0, right: 1))),
            (TensorShape(h: 4, w: 3, c: 512), FilterShape(outputChannels: 5, kernelH: 2, kernelW: 1, inputChannelsPerGroup: 512),
             Conv2DParameters()),
        ]
        for trial in 0..<36 {
            let groups = trial % 4 == 3 ? Int.random(in: 2...3, using: &g) : 1
            let ci = Int.random(in: 1...(groups == 1 ? 8 : 4), using: &g)
            let kh = Int.random(in: 1...5, using: &g), kw = Int.random(in: 1...5, using: &g)
            let p = Conv2DParameters(
                strideH: Int.random(in: 1...3, using: &g), strideW: Int.random(in: 1...3, using: &g),
                dilationH: trial % 5 == 0 ? 2 : 1, dilationW: trial % 7 == 0 ? 2 : 1,
                padding: Padding(top: Int.random(in: 0...2, using: &g), left: Int.random(in: 0...2, using: &g),
                                 bottom: Int.random(in: 0...2, using: &g), right: Int.random(in: 0...2, using: &g)),
                groups: groups)
            let shape = TensorShape(n: trial % 6 == 0 ? 2 : 1, h: Int.random(in: 5...20, using: &g), w: Int.random(in: 5...20, using: &g),
                                    c: groups * ci)
            let filter = FilterShape(outputChannels: groups * Int.random(in: 1...20, using: &g), kernelH: kh, kernelW: kw, inputChannelsPerGroup: ci)
            let out = p.outputShape(input: shape, filter: filter)
            if out.h >= 1 && out.w >= 1 { cases.append((shape, filter, p)) }
        }
        for (shape, filter, parameters) in cases {
            let test = ConvCase(inputShape: shape, filter: filter, parameters: parameters, perChannel: Bool.random(using: &g), using: &g)
            XCTAssertTrue(KernelVariant.im2colDirect.applies(inputShape: shape, filter: filter, parameters: parameters,
                                                             inputZeroPoint: test.inputZeroPoint), test.description)
            let expected = test.reference()
            XCTAssertEqual(test.optimized(.im2colDirect), expected, test.description)
            XCTAssertEqual(test.optimized(.im2col), expected, test.description)
        }
    }

    func testIm2colDirectAppliesUpToTheTileAndNeedsNoScratch() {
        XCTAssertEqual(Im2col.directTileRows(depth: 27), 32, "the stem: 36 rows of 28 bytes fit, a multiple of 8")
        XCTAssertEqual(Im2col.directTileRows(depth: 8), Im2col.chunkRows)
        XCTAssertEqual(Im2col.directTileRows(depth: 200), 5)
        XCTAssertEqual(Im2col.directTileRows(depth: 1024), 1)
        XCTAssertEqual(Im2col.directTileRows(depth: 1025), 0)
        let shape = TensorShape(h: 8, w: 8, c: 3)
        let stem = FilterShape(outputChannels: 16, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3)
        let p = Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 1, left: 1, bottom: 1, right: 1))
        XCTAssertTrue(KernelVariant.im2colDirect.applies(inputShape: shape, filter: stem, parameters: p, inputZeroPoint: -128))
        XCTAssertFalse(KernelVariant.im2colDirect.applies(inputShape: shape, filter: stem, parameters: p, inputZeroPoint: 128),
                       "zero point outside int8")
        let wide = FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 114)  // depth 1026
        XCTAssertFalse(KernelVariant.im2colDirect.applies(inputShape: TensorShape(h: 4, w: 4, c: 114), filter: wide,
                                                          parameters: Conv2DParameters(), inputZeroPoint: 0), "depth past the tile")
        XCTAssertEqual(KernelVariant.im2colDirect.scratchBytes(inputShape: shape, filter: stem, parameters: p), 0)
        XCTAssertEqual(KernelVariant.im2colDirect.packedWeightsByteCount(inputShape: shape, filter: stem, parameters: p),
                       KernelVariant.im2col.packedWeightsByteCount(inputShape: shape, filter: stem, parameters: p))
        let counts = KernelVariant.im2colDirect.checkedByteCounts(inputShape: shape, filter: stem, parameters: p)
        XCTAssertEqual(counts?.scratch, 0)
        XCTAssertEqual(counts?.packedWeights, Im2col.packedByteCount(filter: stem, groups: 1))
        XCTAssertTrue(KernelVariant.im2colDirect.packsGEMMWeights)
        XCTAssertEqual(KernelVariant.choose(inputShape: shape, filter: stem, parameters: p, inputZeroPoint: 0), .im2col,
                       "choose never picks it; the memory passes do")
    }
}
