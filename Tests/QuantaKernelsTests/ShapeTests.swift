import XCTest
@testable import QuantaKernels

final class ShapeTests: XCTestCase {
    private func conv(_ h: Int, _ w: Int, kernel kh: Int, _ kw: Int, _ p: Conv2DParameters) -> (Int, Int) {
        let s = p.outputShape(input: TensorShape(h: h, w: w, c: 3),
                              filter: FilterShape(outputChannels: 5, kernelH: kh, kernelW: kw, inputChannelsPerGroup: 3))
        XCTAssertEqual(s.c, 5)
        return (s.h, s.w)
    }

    func testValidThreeByThreeOnFiveByFiveGivesThreeByThree() {
        XCTAssertTrue(conv(5, 5, kernel: 3, 3, Conv2DParameters()) == (3, 3))
    }

    func testTwoByTwoInputThreeByThreeKernelPaddingTwoGivesFourByFour() {
        XCTAssertTrue(conv(2, 2, kernel: 3, 3, Conv2DParameters(padding: .uniform(2))) == (4, 4))
    }

    func testSamePaddingOneKeepsSize() {
        XCTAssertTrue(conv(7, 5, kernel: 3, 3, Conv2DParameters(padding: .uniform(1))) == (7, 5))
    }

    func testStrideTwoPaddingOneOnSevenGivesFour() {
        XCTAssertTrue(conv(7, 7, kernel: 3, 3, Conv2DParameters(strideH: 2, strideW: 2, padding: .uniform(1))) == (4, 4))
    }

    func testTensorFlowSameStrideTwoOnEvenInputPadsBottomRightOnly() {
        // TF "SAME", stride 2, 224 input, 3×3: total pad 1, all after → 112.
        let p = Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1))
        XCTAssertTrue(conv(224, 224, kernel: 3, 3, p) == (112, 112))
    }

    func testStrideTwoWithoutPaddingDropsTheLastColumn() {
        // (8 - 3) / 2 + 1 = 3: the last input column is never read.
        XCTAssertTrue(conv(8, 8, kernel: 3, 3, Conv2DParameters(strideH: 2, strideW: 2)) == (3, 3))
    }

    func testDilationTwoMakesThreeByThreeSpanFive() {
        XCTAssertTrue(conv(7, 7, kernel: 3, 3, Conv2DParameters(dilationH: 2, dilationW: 2)) == (3, 3))
        XCTAssertTrue(conv(7, 7, kernel: 3, 3, Conv2DParameters(dilationH: 2, dilationW: 2, padding: .uniform(2))) == (7, 7))
    }

    func testDilatedKernelLargerThanInputGivesZero() {
        XCTAssertTrue(conv(4, 4, kernel: 3, 3, Conv2DParameters(dilationH: 2, dilationW: 2)) == (0, 0))
    }

    func testTwoByTwoKernelWithAsymmetricPaddingKeepsSize() {
        let p = Conv2DParameters(padding: Padding(top: 0, left: 1, bottom: 1, right: 0))
        XCTAssertTrue(conv(6, 9, kernel: 2, 2, p) == (6, 9))
    }

    func testOneByKAndKByOneWithMatchingPaddingKeepSize() {
        XCTAssertTrue(conv(5, 6, kernel: 1, 3, Conv2DParameters(padding: Padding(top: 0, left: 1, bottom: 0, right: 1))) == (5, 6))
        XCTAssertTrue(conv(5, 6, kernel: 7, 1, Conv2DParameters(padding: Padding(top: 3, left: 0, bottom: 3, right: 0))) == (5, 6))
        XCTAssertTrue(conv(5, 6, kernel: 1, 3, Conv2DParameters()) == (5, 4))
    }

    func testKernelAsLargeAsInputGivesOnePixel() {
        XCTAssertTrue(conv(7, 7, kernel: 7, 7, Conv2DParameters(groups: 1)) == (1, 1))
    }

    func testPointwiseKeepsSizeAndStrideTwoHalvesRoundingUp() {
        XCTAssertTrue(conv(14, 14, kernel: 1, 1, Conv2DParameters()) == (14, 14))
        XCTAssertTrue(conv(7, 7, kernel: 1, 1, Conv2DParameters(strideH: 2, strideW: 2)) == (4, 4))
    }

    func testTransposedStrideTwoInsertsZerosThreeToFive() {
        // 3 inputs with one zero between each: 5 positions; 3×3 kernel, padding 1 → 5.
        XCTAssertEqual(Conv2DParameters.transposedOutputSize(input: 3, kernel: 3, stride: 2, dilation: 1, padBefore: 1, padAfter: 1), 5)
    }

    func testTransposedStrideTwoWithoutPaddingGivesSeven() {
        XCTAssertEqual(Conv2DParameters.transposedOutputSize(input: 3, kernel: 3, stride: 2, dilation: 1, padBefore: 0, padAfter: 0), 7)
    }

    func testTransposedStrideTwoKernelTwoDoublesSize() {
        XCTAssertEqual(Conv2DParameters.transposedOutputSize(input: 4, kernel: 2, stride: 2, dilation: 1, padBefore: 0, padAfter: 0), 8)
    }

    func testTransposedOutputPaddingRestoresEvenSize() {
        // Inverse of stride-2 3×3 pad-1 conv 8 → 4: 2*3 + 3 - 2 = 7, output_padding 1 → 8.
        XCTAssertEqual(Conv2DParameters.transposedOutputSize(input: 4, kernel: 3, stride: 2, dilation: 1, padBefore: 1, padAfter: 1, outputPadding: 1), 8)
    }

    func testTransposedDilationTwo() {
        // 1*(3-1) + 2*(3-1) + 1 = 7
        XCTAssertEqual(Conv2DParameters.transposedOutputSize(input: 3, kernel: 3, stride: 1, dilation: 2, padBefore: 0, padAfter: 0), 7)
    }

    func testTransposedConvIsTheShapeInverseOfConv() {
        for (input, k, s, p) in [(8, 3, 2, 1), (9, 3, 2, 1), (10, 4, 2, 1), (5, 5, 1, 2), (12, 2, 2, 0)] {
            let down = Conv2DParameters.outputSize(input: input, kernel: k, stride: s, dilation: 1, padBefore: p, padAfter: p)
            let up = Conv2DParameters.transposedOutputSize(input: down, kernel: k, stride: s, dilation: 1, padBefore: p, padAfter: p)
            // Conv drops (input + 2p - k) % s trailing positions; output_padding restores them.
            XCTAssertEqual(up + (input + 2 * p - k) % s, input, "input \(input) kernel \(k) stride \(s) pad \(p)")
        }
    }

    func testPoolTwoByTwoStrideTwoOnSevenGivesThree() {
        let s = PoolParameters(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2).outputShape(input: TensorShape(n: 2, h: 7, w: 7, c: 4))
        XCTAssertEqual(s, TensorShape(n: 2, h: 3, w: 3, c: 4))
    }

    func testPoolThreeByThreeStrideTwoPaddingOneOnEightGivesFour() {
        let s = PoolParameters(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padding: .uniform(1))
            .outputShape(input: TensorShape(h: 8, w: 8, c: 1))
        XCTAssertEqual(s, TensorShape(h: 4, w: 4, c: 1))
    }
}
