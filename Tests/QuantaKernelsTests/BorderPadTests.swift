import QuantaKernels
import XCTest

/// `Layout.borderPad` and `Layout.upsampleNearest` against hand-computed numpy results.
final class BorderPadTests: XCTestCase {
    /// One channel, H×W values `10·y + x`.
    private func grid(_ h: Int, _ w: Int) -> [Int8] { (0..<h * w).map { Int8(10 * ($0 / w) + $0 % w) } }

    private func pad(_ input: [Int8], _ h: Int, _ w: Int, _ p: Padding, _ mode: BorderPadMode) -> [Int8] {
        let inShape = TensorShape(n: 1, h: h, w: w, c: 1)
        let outShape = TensorShape(n: 1, h: h + p.top + p.bottom, w: w + p.left + p.right, c: 1)
        var out = [Int8](repeating: -1, count: outShape.elementCount)
        Layout.borderPad(input: input, inputShape: inShape, output: &out, outputShape: outShape, padding: p, mode: mode)
        return out
    }

    func testReflectMirrorsWithoutRepeatingTheBorderLikeNumpy() {
        // np.pad([[0,1,2],[10,11,12]], ((1,0),(2,1)), "reflect")
        let got = pad(grid(2, 3), 2, 3, Padding(top: 1, left: 2, bottom: 0, right: 1), .reflect)
        XCTAssertEqual(got, [
            12, 11, 10, 11, 12, 11,
            2, 1, 0, 1, 2, 1,
            12, 11, 10, 11, 12, 11,
        ])
    }

    func testEdgeRepeatsTheBorderLikeNumpy() {
        // np.pad([[0,1,2],[10,11,12]], ((0,2),(1,2)), "edge")
        let got = pad(grid(2, 3), 2, 3, Padding(top: 0, left: 1, bottom: 2, right: 2), .edge)
        XCTAssertEqual(got, [
            0, 0, 1, 2, 2, 2,
            10, 10, 11, 12, 12, 12,
            10, 10, 11, 12, 12, 12,
            10, 10, 11, 12, 12, 12,
        ])
    }

    func testEdgeOfASinglePixelFillsEverything() {
        XCTAssertEqual(pad([7], 1, 1, Padding(top: 2, left: 1, bottom: 0, right: 3), .edge), [Int8](repeating: 7, count: 15))
    }

    func testChannelsAndBatchesAreCopiedTogether() {
        // Two batches, two channels: channel c of batch b is 100·b + c + the grid value.
        let inShape = TensorShape(n: 2, h: 2, w: 2, c: 2)
        let input: [Float] = (0..<inShape.elementCount).map { Float($0) }
        let p = Padding(top: 1, left: 1, bottom: 1, right: 1)
        let outShape = TensorShape(n: 2, h: 4, w: 4, c: 2)
        var out = [Float](repeating: .nan, count: outShape.elementCount)
        Layout.borderPad(input: input, inputShape: inShape, output: &out, outputShape: outShape, padding: p, mode: .reflect)
        for b in 0..<2 { for y in 0..<4 { for x in 0..<4 { for c in 0..<2 {
            let iy = y == 0 ? 1 : y == 3 ? 0 : y - 1, ix = x == 0 ? 1 : x == 3 ? 0 : x - 1
            XCTAssertEqual(out[outShape.index(b, y, x, c)], input[inShape.index(b, iy, ix, c)])
        } } } }
    }

    func testNearestUpsampleCopiesEachPixelToItsBlock() {
        let inShape = TensorShape(n: 1, h: 2, w: 2, c: 2)
        let input: [Int8] = [1, -1, 2, -2, 3, -3, 4, -4]
        let outShape = TensorShape(n: 1, h: 4, w: 6, c: 2)
        var out = [Int8](repeating: 0, count: outShape.elementCount)
        Layout.upsampleNearest(input: input, inputShape: inShape, output: &out, outputShape: outShape, factorH: 2, factorW: 3)
        for y in 0..<4 { for x in 0..<6 { for c in 0..<2 {
            XCTAssertEqual(out[outShape.index(0, y, x, c)], input[inShape.index(0, y / 2, x / 3, c)])
        } } }
    }
}
