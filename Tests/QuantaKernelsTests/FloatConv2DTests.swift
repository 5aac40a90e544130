import XCTest
@testable import QuantaKernels

final class FloatConv2DTests: XCTestCase {
    /// 3×3 input 1..9, 2×2 kernel [1 2; 3 4], no padding: hand-computed valid convolution.
    func testTwoByTwoKernelOnThreeByThreeInputMatchesHandComputation() {
        let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let (out, shape) = floatConv2D(input, TensorShape(h: 3, w: 3, c: 1), [1, 2, 3, 4],
                                       FilterShape(outputChannels: 1, kernelH: 2, kernelW: 2, inputChannelsPerGroup: 1))
        XCTAssertEqual(shape, TensorShape(h: 2, w: 2, c: 1))
        // (1+4+12+20)=37, (2+6+15+24)=47, (4+10+21+32)=67, (5+12+24+36)=77
        XCTAssertEqual(out, [37, 47, 67, 77])
    }

    /// Asymmetric padding (bottom/right only) with a 2×2 kernel keeps the spatial size,
    /// and the padded taps read zero.
    func testTwoByTwoKernelWithBottomRightPaddingReadsZeros() {
        let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let p = Conv2DParameters(padding: Padding(top: 0, left: 0, bottom: 1, right: 1))
        let (out, shape) = floatConv2D(input, TensorShape(h: 3, w: 3, c: 1), [1, 1, 1, 1],
                                       FilterShape(outputChannels: 1, kernelH: 2, kernelW: 2, inputChannelsPerGroup: 1),
                                       parameters: p)
        XCTAssertEqual(shape, TensorShape(h: 3, w: 3, c: 1))
        XCTAssertEqual(out, [12, 16, 9, 24, 28, 15, 15, 17, 9])
    }

    /// Two input channels, two output channels, bias and ReLU clamp; stride 2 picks pixels 0 and 2.
    func testPointwiseWithBiasStrideAndReluClamp() {
        // 1×1×3×2 input: pixels (1,-1), (2,0), (3,5)
        let input: [Float] = [1, -1, 2, 0, 3, 5]
        let weights: [Float] = [1, 1, /* oc1 */ 1, -1]
        let p = Conv2DParameters(strideH: 1, strideW: 2)
        let (out, shape) = floatConv2D(input, TensorShape(h: 1, w: 3, c: 2), weights,
                                       FilterShape(outputChannels: 2, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 2),
                                       bias: [0.5, -10], parameters: p, clamp: .relu)
        XCTAssertEqual(shape, TensorShape(h: 1, w: 2, c: 2))
        // pixel 0: 0+0.5, (2)-10 -> 0 ; pixel 2: 8.5, (-2)-10 -> 0
        XCTAssertEqual(out, [0.5, 0, 8.5, 0])
    }

    /// Depthwise with depth multiplier 2: output channel oc reads input channel oc / 2.
    func testDepthwiseWithDepthMultiplierTwoReadsInputChannelOcOverTwo() {
        let input: [Float] = [3, 5]  // 1×1×1×2
        let weights: [Float] = [1, 2, 10, 20]  // 4 output channels, 1×1, one input each
        let (out, _) = floatConv2D(input, TensorShape(h: 1, w: 1, c: 2), weights,
                                   FilterShape(outputChannels: 4, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1),
                                   parameters: Conv2DParameters(groups: 2))
        XCTAssertEqual(out, [3, 6, 50, 100])
    }

    /// Dilation 2 with a 2×2 kernel on 3×3 takes the four corners.
    func testDilationTwoTakesCorners() {
        let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let (out, shape) = floatConv2D(input, TensorShape(h: 3, w: 3, c: 1), [1, 10, 100, 1000],
                                       FilterShape(outputChannels: 1, kernelH: 2, kernelW: 2, inputChannelsPerGroup: 1),
                                       parameters: Conv2DParameters(dilationH: 2, dilationW: 2))
        XCTAssertEqual(shape, TensorShape(h: 1, w: 1, c: 1))
        XCTAssertEqual(out, [1 + 30 + 700 + 9000])
    }
}
