import XCTest
@testable import QuantaKernels

/// Deterministic pseudo-random numbers for tests (SplitMix64), so every failure reproduces.
struct TestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }

    mutating func floats(_ count: Int) -> [Float] { (0..<count).map { _ in float() } }
}

/// Runs `FloatReference.conv2D` on arrays (test helper).
func floatConv2D(
    _ input: [Float], _ inputShape: TensorShape, _ weights: [Float], _ filter: FilterShape,
    bias: [Float]? = nil, parameters: Conv2DParameters = Conv2DParameters(), clamp: FloatClamp = .none
) -> (data: [Float], shape: TensorShape) {
    precondition(input.count == inputShape.elementCount && weights.count == filter.elementCount)
    let outShape = parameters.outputShape(input: inputShape, filter: filter)
    var out = [Float](repeating: .nan, count: outShape.elementCount)
    input.withUnsafeBufferPointer { i in
        weights.withUnsafeBufferPointer { w in
            out.withUnsafeMutableBufferPointer { o in
                if let bias {
                    bias.withUnsafeBufferPointer { b in
                        FloatReference.conv2D(input: i.baseAddress!, inputShape: inputShape, weights: w.baseAddress!,
                                              filter: filter, bias: b.baseAddress!, output: o.baseAddress!,
                                              outputShape: outShape, parameters: parameters, clamp: clamp)
                    }
                } else {
                    FloatReference.conv2D(input: i.baseAddress!, inputShape: inputShape, weights: w.baseAddress!,
                                          filter: filter, bias: nil, output: o.baseAddress!,
                                          outputShape: outShape, parameters: parameters, clamp: clamp)
                }
            }
        }
    }
    return (out, outShape)
}


/// Runs `FloatReference.transposeConv2D` on arrays (test helper).
func floatTransposeConv2D(
    _ input: [Float], _ inputShape: TensorShape, _ weights: [Float], _ filter: FilterShape,
    bias: [Float]? = nil, outputShape: TensorShape, strideH: Int, strideW: Int,
    dilationH: Int = 1, dilationW: Int = 1, padding: Padding = .zero, clamp: FloatClamp = .none
) -> [Float] {
    precondition(input.count == inputShape.elementCount && weights.count == filter.elementCount)
    var out = [Float](repeating: .nan, count: outputShape.elementCount)
    let b = bias ?? []
    input.withUnsafeBufferPointer { i in
        weights.withUnsafeBufferPointer { w in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { o in
                    FloatReference.transposeConv2D(
                        input: i.baseAddress!, inputShape: inputShape, weights: w.baseAddress!, filter: filter,
                        bias: bias == nil ? nil : bp.baseAddress!, output: o.baseAddress!, outputShape: outputShape,
                        strideH: strideH, strideW: strideW, dilationH: dilationH, dilationW: dilationW,
                        padding: padding, clamp: clamp)
                }
            }
        }
    }
    return out
}

/// Asserts `actual` is within `relative * max(1, |expected|)` of `expected`, element by element.
func assertClose(
    _ actual: [Float], _ expected: [Float], relative: Float = 1e-5, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != \(expected.count) \(message)", file: file, line: line)
        return
    }
    for k in 0..<actual.count {
        let tolerance = relative * max(1, abs(expected[k]))
        if !(abs(actual[k] - expected[k]) <= tolerance) {
            XCTFail("element \(k): \(actual[k]) vs \(expected[k]) (tolerance \(tolerance)) \(message)", file: file, line: line)
            return
        }
    }
}
