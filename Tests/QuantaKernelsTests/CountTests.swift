import XCTest
@testable import QuantaKernels

final class CountTests: XCTestCase {
    func testStandardThreeByThreeFromThreeToFourChannelsHas108Weights() {
        let c = OpCounts.conv2D(input: TensorShape(h: 8, w: 8, c: 3),
                                filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
                                parameters: Conv2DParameters(padding: .uniform(1)))
        XCTAssertEqual(c.weights, 108)
        XCTAssertEqual(c.biases, 0)
    }

    func testDepthwiseSeparableThreeToFourHas27Plus12Weights() {
        let input = TensorShape(h: 8, w: 8, c: 3)
        let dw = OpCounts.conv2D(input: input,
                                 filter: FilterShape(outputChannels: 3, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                                 parameters: Conv2DParameters(padding: .uniform(1), groups: 3))
        let pw = OpCounts.conv2D(input: input,
                                 filter: FilterShape(outputChannels: 4, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 3),
                                 parameters: Conv2DParameters())
        XCTAssertEqual(dw.weights, 27)
        XCTAssertEqual(pw.weights, 12)
        XCTAssertEqual((dw + pw).weights, 39)
    }

    func testSevenBySevenByThreeToFiveByFiveBy128Costs86400StandardAnd10275Separable() {
        let input = TensorShape(h: 7, w: 7, c: 3)
        let standard = OpCounts.conv2D(input: input,
                                       filter: FilterShape(outputChannels: 128, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
                                       parameters: Conv2DParameters())
        XCTAssertEqual(standard.multiplyAccumulates, 86_400)
        let dw = OpCounts.conv2D(input: input,
                                 filter: FilterShape(outputChannels: 3, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1),
                                 parameters: Conv2DParameters(groups: 3))
        XCTAssertEqual(dw.multiplyAccumulates, 675)
        let pw = OpCounts.conv2D(input: TensorShape(h: 5, w: 5, c: 3),
                                 filter: FilterShape(outputChannels: 128, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 3),
                                 parameters: Conv2DParameters())
        XCTAssertEqual(pw.multiplyAccumulates, 9_600)
        XCTAssertEqual((dw + pw).multiplyAccumulates, 10_275)
    }

    func testGroupedConvDividesWeightsAndMultipliesByGroups() {
        // 8 → 16 channels, 3×3, 4 groups: 16·3·3·2 = 288 weights (a quarter of 1,152).
        let c = OpCounts.conv2D(input: TensorShape(h: 4, w: 4, c: 8),
                                filter: FilterShape(outputChannels: 16, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 2),
                                parameters: Conv2DParameters(padding: .uniform(1), groups: 4), hasBias: true)
        XCTAssertEqual(c.weights, 288)
        XCTAssertEqual(c.biases, 16)
        XCTAssertEqual(c.multiplyAccumulates, 16 * 288)
    }

    func testMobileNetV1FirstConvCosts10_8MillionMultiplies() {
        // 224×224×3, 3×3 stride 2 to 112×112×32 (TF SAME: pad bottom/right 1): 112·112·32·27.
        let c = OpCounts.conv2D(input: TensorShape(h: 224, w: 224, c: 3),
                                filter: FilterShape(outputChannels: 32, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
                                parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(bottom: 1, right: 1)))
        XCTAssertEqual(c.multiplyAccumulates, 10_838_016)
        XCTAssertEqual(c.weights, 864)
    }

    func testBatchMultipliesTheCost() {
        let c = OpCounts.conv2D(input: TensorShape(n: 3, h: 7, w: 7, c: 3),
                                filter: FilterShape(outputChannels: 128, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3),
                                parameters: Conv2DParameters())
        XCTAssertEqual(c.multiplyAccumulates, 3 * 86_400)
        XCTAssertEqual(c.weights, 3456)
    }

    func testFullyConnected1024To1000() {
        let c = OpCounts.fullyConnected(inputCount: 1024, outputCount: 1000, hasBias: true)
        XCTAssertEqual(c.weights, 1_024_000)
        XCTAssertEqual(c.biases, 1000)
        XCTAssertEqual(c.multiplyAccumulates, 1_024_000)
        XCTAssertEqual(OpCounts.fullyConnected(batches: 4, inputCount: 10, outputCount: 3).multiplyAccumulates, 120)
    }

    func testTransposedConvCountsEveryInputPixelTimesEveryWeight() {
        let c = OpCounts.transposeConv2D(input: TensorShape(h: 3, w: 3, c: 2),
                                         filter: FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 2))
        XCTAssertEqual(c.weights, 72)
        XCTAssertEqual(c.multiplyAccumulates, 9 * 72)
    }
}
