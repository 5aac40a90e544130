import QuantaKernels
import XCTest

@testable import QuantaCompiler

/// `StridedView` (transposes and strided slices) and `Layout.stridedCopy`, against the
/// definitions written out index by index.
final class StridedViewTests: XCTestCase {
    /// Row-major flat index of `index` in `shape`.
    private func flat(_ index: [Int], _ shape: [Int]) -> Int {
        zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    /// Every multi-index of `shape` in row-major order.
    private func indices(_ shape: [Int]) -> [[Int]] {
        var all: [[Int]] = [[]]
        for d in shape { all = all.flatMap { prefix in (0..<d).map { prefix + [$0] } } }
        return all
    }

    private func copy(_ view: StridedView, _ input: [Int16]) throws -> [Int16] {
        let geometry = try XCTUnwrap(view.geometry)
        XCTAssertTrue(geometry.reads(within: input.count))
        var out = [Int16](repeating: -1, count: view.elementCount)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { Layout.stridedCopy(input: i.baseAddress!, output: $0.baseAddress!, geometry: geometry) }
        }
        return out
    }

    private func randomShape(_ rng: inout TestRandom) -> [Int] {
        (0..<rng.int(1...6)).map { _ in rng.int(1...4) }
    }

    /// out[i] = in[i permuted back]: `out[i_0, …] = in[j]` with `j[perm[k]] = i_k`.
    func testTransposeOfRankOneToSixIsThePermutation() throws {
        var rng = TestRandom(seed: 21)
        for _ in 0..<300 {
            let shape = randomShape(&rng)
            let perm = Array(shape.indices).shuffled(using: &rng)
            let input = (0..<shape.reduce(1, *)).map { Int16($0) }
            let view = StridedView.transpose(shape: shape, permutation: perm)
            let outShape = perm.map { shape[$0] }
            var expected: [Int16] = []
            for i in indices(outShape) {
                var j = [Int](repeating: 0, count: shape.count)
                for (k, a) in perm.enumerated() { j[a] = i[k] }
                expected.append(input[flat(j, shape)])
            }
            XCTAssertEqual(try copy(view, input), expected, "\(shape) by \(perm)")
            // Merging axes keeps the copy and never lengthens the view.
            XCTAssertLessThanOrEqual(view.normalized.dims.count, shape.count)
            XCTAssertEqual(view.isIdentity(inputCount: input.count), expected == input)
        }
    }

    /// `out[i] = in[start + i·step]` per axis, steps of both signs.
    func testSliceWithPositiveAndNegativeStepsReadsStartPlusIndexTimesStep() throws {
        var rng = TestRandom(seed: 22)
        for _ in 0..<300 {
            let shape = randomShape(&rng).map { $0 + 2 }
            var start: [Int] = [], step: [Int] = [], count: [Int] = []
            for d in shape {
                let s = rng.int(0...(d - 1))
                let st = [-3, -2, -1, 1, 2, 3][rng.int(0...5)]
                let n = st > 0 ? (d - s + st - 1) / st : (s + 1 + (-st) - 1) / -st
                start.append(s)
                step.append(st)
                count.append(rng.int(1...n))
            }
            let input = (0..<shape.reduce(1, *)).map { Int16($0) }
            let view = StridedView.slice(shape: shape, start: start, step: step, count: count)
            let expected = indices(count).map { i in input[flat((0..<shape.count).map { start[$0] + i[$0] * step[$0] }, shape)] }
            XCTAssertEqual(try copy(view, input), expected, "\(shape) from \(start) by \(step), \(count)")
        }
    }

    func testNormalizedMergesContiguousAxesAndDropsOnes() {
        // NHWC → NWHC of 1×4×5×6: the channels stay rows of 6.
        let v = StridedView.transpose(shape: [1, 4, 5, 6], permutation: [0, 2, 1, 3]).normalized
        XCTAssertEqual(v.dims, [5, 4, 6])
        XCTAssertEqual(v.strides, [6, 30, 1])
        // A transpose that moves only axes of 1 is the same bytes.
        XCTAssertTrue(StridedView.transpose(shape: [1, 1, 7, 3], permutation: [1, 0, 2, 3]).isIdentity(inputCount: 21))
        XCTAssertTrue(StridedView.slice(shape: [2, 3], start: [0, 0], step: [1, 1], count: [2, 3]).isIdentity(inputCount: 6))
        // A prefix is read in order but is not the whole input.
        XCTAssertFalse(StridedView.slice(shape: [2, 3], start: [0, 0], step: [1, 1], count: [1, 2]).isIdentity(inputCount: 6))
    }

    func testGeometryReadsOutsideTheInputAreFound() {
        let inside = StridedView.slice(shape: [5, 4], start: [4, 0], step: [-2, 1], count: [3, 4]).geometry!
        XCTAssertTrue(inside.reads(within: 20))
        XCTAssertFalse(inside.reads(within: 19))
        var below = inside
        below.base -= 17  // the last row read would be row -1
        XCTAssertFalse(below.reads(within: 20))
        var huge = inside
        huge.dims[0] = 1 << 25
        XCTAssertFalse(huge.reads(within: Int.max))
    }
}
