import XCTest
@testable import QuantaKernels

final class TensorShapeTests: XCTestCase {
    func testTwoByTwoInputThreeByThreeKernelPaddingTwoGivesFourByFour() {
        let p = Conv2DParameters(padding: .uniform(2))
        let out = p.outputShape(input: TensorShape(h: 2, w: 2, c: 1), filter: FilterShape(outputChannels: 1, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1))
        XCTAssertEqual(out, TensorShape(h: 4, w: 4, c: 1))
    }
}
