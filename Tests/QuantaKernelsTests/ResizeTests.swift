import Foundation
import QuantaKernels
import XCTest

/// Bilinear resize: coordinates as ONNX Runtime computes them, the float reference on known
/// values, and the int8 kernel against an independent evaluation of TFLite's formula.
final class ResizeTests: XCTestCase {
    func testCoordinateTransformsFollowTheOnnxFormulas() {
        // 4 → 8, scale 2.
        XCTAssertEqual(ResizeCoordinateTransform.halfPixel.sourceCoordinate(3, scale: 2, inputSize: 4, outputSize: 8), 1.25)
        XCTAssertEqual(ResizeCoordinateTransform.asymmetric.sourceCoordinate(3, scale: 2, inputSize: 4, outputSize: 8), 1.5)
        XCTAssertEqual(ResizeCoordinateTransform.alignCorners.sourceCoordinate(7, scale: 2, inputSize: 4, outputSize: 8), 3)
        XCTAssertEqual(ResizeCoordinateTransform.pytorchHalfPixel.sourceCoordinate(0, scale: 0.25, inputSize: 4, outputSize: 1), 0)
        XCTAssertEqual(ResizeCoordinateTransform.halfPixel.sourceCoordinate(0, scale: 0.25, inputSize: 4, outputSize: 1), 1.5)
        // Clamped to the input: half-pixel's first output of an upscale reads pixel 0 only.
        let s = ResizeCoordinateTransform.halfPixel.bilinearSource(0, scale: 2, inputSize: 4, outputSize: 8)
        XCTAssertEqual(s.i0, 0); XCTAssertEqual(s.i1, 1); XCTAssertEqual(s.w1, 0)
        let last = ResizeCoordinateTransform.halfPixel.bilinearSource(7, scale: 2, inputSize: 4, outputSize: 8)
        XCTAssertEqual(last.i0, 3); XCTAssertEqual(last.i1, 3); XCTAssertEqual(last.w1, 0)
    }

    func testFloatHalfPixelDoublingInterpolatesQuarterAndThreeQuarters() {
        // One row [0, 4] → [0, 1, 3, 4] (onnxruntime: half_pixel, linear, scale 2).
        let input: [Float] = [0, 4]
        var out = [Float](repeating: .nan, count: 4)
        FloatReference.resizeBilinear(
            input: input, inputShape: TensorShape(n: 1, h: 1, w: 2, c: 1), output: &out,
            outputShape: TensorShape(n: 1, h: 1, w: 4, c: 1),
            parameters: ResizeBilinearParameters(transform: .halfPixel, scaleH: 1, scaleW: 2))
        XCTAssertEqual(out, [0, 1, 3, 4])
    }

    func testFloatAlignCornersKeepsTheCornersAndIsSeparable() {
        let inShape = TensorShape(n: 1, h: 2, w: 2, c: 1)
        let input: [Float] = [0, 10, 20, 30]
        let outShape = TensorShape(n: 1, h: 3, w: 5, c: 1)
        var out = [Float](repeating: .nan, count: outShape.elementCount)
        FloatReference.resizeBilinear(
            input: input, inputShape: inShape, output: &out, outputShape: outShape,
            parameters: ResizeBilinearParameters(transform: .alignCorners, scaleH: 1.5, scaleW: 2.5))
        XCTAssertEqual(out, [0, 2.5, 5, 7.5, 10, 10, 12.5, 15, 17.5, 20, 20, 22.5, 25, 27.5, 30])
    }

    /// TFLite's `ResizeBilinearInteger` written out independently, in Int64 with the tables.
    private func expected(_ input: [Int8], _ inShape: TensorShape, _ outShape: TensorShape, _ rows: [Int32], _ cols: [Int32]) -> [Int8] {
        var out: [Int8] = []
        for b in 0..<outShape.n { for y in 0..<outShape.h { for x in 0..<outShape.w { for c in 0..<outShape.c {
            let (y0, y1, wy) = (Int(rows[3 * y]), Int(rows[3 * y + 1]), Int64(rows[3 * y + 2]))
            let (x0, x1, wx) = (Int(cols[3 * x]), Int(cols[3 * x + 1]), Int64(cols[3 * x + 2]))
            func v(_ yy: Int, _ xx: Int) -> Int64 { Int64(input[inShape.index(b, yy, xx, c)]) }
            let sum = v(y0, x0) * (1024 - wy) * (1024 - wx) + v(y0, x1) * (1024 - wy) * wx
                + v(y1, x0) * wy * (1024 - wx) + v(y1, x1) * wy * wx
            // Round half away from zero.
            let q = sum >= 0 ? (sum + (1 << 19)) >> 20 : -((-sum + (1 << 19)) >> 20)
            out.append(Int8(q))
        } } } }
        return out
    }

    func testInt8BilinearEqualsTFLiteFormulaOnRandomShapesAndTransforms() {
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) % n }
        let transforms: [ResizeCoordinateTransform] = [.halfPixel, .pytorchHalfPixel, .alignCorners, .asymmetric]
        for trial in 0..<24 {
            let inShape = TensorShape(n: 1 + next(2), h: 1 + next(6), w: 1 + next(6), c: 1 + next(4))
            let outShape = TensorShape(n: inShape.n, h: 1 + next(11), w: 1 + next(11), c: inShape.c)
            let t = transforms[trial % 4]
            let rows = table(t, inShape.h, outShape.h), cols = table(t, inShape.w, outShape.w)
            let input = (0..<inShape.elementCount).map { _ in Int8(next(256) - 128) }
            var out = [Int8](repeating: 0, count: outShape.elementCount)
            Int8Reference.resizeBilinear(input: input, inputShape: inShape, output: &out, outputShape: outShape, rows: rows, columns: cols)
            XCTAssertEqual(out, expected(input, inShape, outShape, rows, cols), "\(t) \(inShape) → \(outShape)")
        }
    }

    func testInt8BilinearRoundsHalfAwayFromZero() {
        // [-3, -2] and [2, 3] at weight 1/2: -2.5 → -3, 2.5 → 3.
        let rows: [Int32] = [0, 0, 0], cols: [Int32] = [0, 1, 512]
        for (input, want) in [([Int8(-3), -2], Int8(-3)), ([2, 3], 3)] {
            var out: [Int8] = [0]
            Int8Reference.resizeBilinear(
                input: input, inputShape: TensorShape(n: 1, h: 1, w: 2, c: 1), output: &out,
                outputShape: TensorShape(n: 1, h: 1, w: 1, c: 1), rows: rows, columns: cols)
            XCTAssertEqual(out[0], want)
        }
    }

    func testInt8BilinearStaysWithinTheFloatResultByHalfAStepPlusWeightRounding() {
        let inShape = TensorShape(n: 1, h: 3, w: 4, c: 2), outShape = TensorShape(n: 1, h: 7, w: 5, c: 2)
        let input: [Int8] = (0..<inShape.elementCount).map { Int8(truncatingIfNeeded: $0 * 37 - 120) }
        let p = ResizeBilinearParameters(transform: .halfPixel, scaleH: 7.0 / 3, scaleW: 5.0 / 4)
        var f = [Float](repeating: 0, count: outShape.elementCount)
        FloatReference.resizeBilinear(input: input.map(Float.init), inputShape: inShape, output: &f, outputShape: outShape, parameters: p)
        var q = [Int8](repeating: 0, count: outShape.elementCount)
        Int8Reference.resizeBilinear(
            input: input, inputShape: inShape, output: &q, outputShape: outShape,
            rows: table(.halfPixel, 3, 7, scale: 7.0 / 3), columns: table(.halfPixel, 4, 5, scale: 5.0 / 4))
        // Weight rounding moves each axis weight by ≤ 2^-11 over a difference ≤ 255.
        let worst = zip(q, f).map { abs(Float($0) - $1) }.max()!
        XCTAssertLessThanOrEqual(worst, 0.5 + 2 * 255.0 / 2048)
    }

    /// `[i0, i1, round(w1·1024)]` per output index (as `ResizeTables.bilinear` writes them).
    private func table(_ t: ResizeCoordinateTransform, _ inSize: Int, _ outSize: Int, scale: Double? = nil) -> [Int32] {
        (0..<outSize).flatMap { x -> [Int32] in
            let s = t.bilinearSource(x, scale: scale ?? Double(outSize) / Double(inSize), inputSize: inSize, outputSize: outSize)
            return [Int32(s.i0), Int32(s.i1), Int32((s.w1 * 1024).rounded())]
        }
    }
}
