import Foundation
import XCTest
@testable import QuantaKernels

/// One ONNX backend test case converted by Tools/fixtures/make_onnx_node_fixtures.py:
/// NHWC activations, OHWI filters, explicit padding [top, left, bottom, right].
private struct ONNXNodeFixture: Decodable {
    var name: String
    var source: String
    var op: String
    var input: [Float?]?
    var inputShape: [Int]?
    var input2: [Float?]?
    var output: [Float?]
    var outputShape: [Int]?
    var filter: [Float?]?
    var filterShape: [Int]?
    var weights: [Float?]?
    var bias: [Float?]?
    var strideH: Int?
    var strideW: Int?
    var dilationH: Int?
    var dilationW: Int?
    var padding: [Int]?
    var groups: Int?
    var kernelH: Int?
    var kernelW: Int?
    var batches: Int?
    var inputCount: Int?
    var outputCount: Int?
    var shape1: [Int]?
    var shape2: [Int]?
    var rows: Int?
    var channels: Int?
    var inputs: [[Float?]]?
    var inputChannels: [Int]?
    var pixels: Int?
    var value: Float?
    var kind: String?
    var alpha: Float?
    var beta: Float?
    var min: Float?
    var max: Float?
}

private func values(_ a: [Float?]?) -> [Float] { (a ?? []).map { $0 ?? .nan } }

private func nhwc(_ s: [Int]?) -> TensorShape {
    let s = s!
    precondition(s.count == 4, "expected a 4-D shape, got \(s)")
    return TensorShape(n: s[0], h: s[1], w: s[2], c: s[3])
}

private func padding(_ p: [Int]?) -> Padding {
    let p = p ?? [0, 0, 0, 0]
    return Padding(top: p[0], left: p[1], bottom: p[2], right: p[3])
}

final class ONNXNodeFixtureTests: XCTestCase {
    /// Relative tolerance against ONNX's expected outputs: |actual - expected| <= rtol * (|expected| + scale * 1e-2),
    /// where `scale` is the largest |expected| of the case (so values that cancel to near zero get an
    /// absolute floor of 1e-6 of the output's range).
    static let rtol: Float = 1e-4

    private func fixtureURLs() throws -> [URL] {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("onnx_node")
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    private func run(_ f: ONNXNodeFixture) throws -> [Float] {
        let input = values(f.input)
        var out = [Float](repeating: .nan, count: f.output.count)
        switch f.op {
        case "conv2D":
            let fs = f.filterShape!
            let filter = FilterShape(outputChannels: fs[0], kernelH: fs[1], kernelW: fs[2], inputChannelsPerGroup: fs[3])
            let p = Conv2DParameters(strideH: f.strideH!, strideW: f.strideW!, dilationH: f.dilationH!,
                                     dilationW: f.dilationW!, padding: padding(f.padding), groups: f.groups!)
            let inShape = nhwc(f.inputShape), outShape = nhwc(f.outputShape)
            XCTAssertEqual(p.outputShape(input: inShape, filter: filter), outShape, "\(f.name): output shape")
            let result = floatConv2D(input, inShape, values(f.filter), filter,
                                     bias: f.bias.map { values($0) }, parameters: p)
            return result.data
        case "transposeConv2D":
            let fs = f.filterShape!
            let filter = FilterShape(outputChannels: fs[0], kernelH: fs[1], kernelW: fs[2], inputChannelsPerGroup: fs[3])
            return floatTransposeConv2D(input, nhwc(f.inputShape), values(f.filter), filter,
                                        bias: f.bias.map { values($0) }, outputShape: nhwc(f.outputShape),
                                        strideH: f.strideH!, strideW: f.strideW!, dilationH: f.dilationH!,
                                        dilationW: f.dilationW!, padding: padding(f.padding))
        case "averagePool", "maxPool":
            let p = PoolParameters(kernelH: f.kernelH!, kernelW: f.kernelW!, strideH: f.strideH!, strideW: f.strideW!,
                                   padding: padding(f.padding))
            let inShape = nhwc(f.inputShape), outShape = nhwc(f.outputShape)
            XCTAssertEqual(p.outputShape(input: inShape), outShape, "\(f.name): output shape")
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                if f.op == "averagePool" {
                    FloatReference.averagePool(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!,
                                               outputShape: outShape, parameters: p, clamp: .none)
                } else {
                    FloatReference.maxPool(input: i.baseAddress!, inputShape: inShape, output: o.baseAddress!,
                                           outputShape: outShape, parameters: p, clamp: .none)
                }
            } }
        case "globalAveragePool":
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                FloatReference.globalAveragePool(input: i.baseAddress!, inputShape: nhwc(f.inputShape), output: o.baseAddress!)
            } }
        case "fullyConnected":
            let w = values(f.weights), b = values(f.bias)
            input.withUnsafeBufferPointer { i in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { o in
                    FloatReference.fullyConnected(input: i.baseAddress!, weights: wp.baseAddress!,
                                                  bias: f.bias == nil ? nil : bp.baseAddress!, output: o.baseAddress!,
                                                  batches: f.batches!, inputCount: f.inputCount!,
                                                  outputCount: f.outputCount!, clamp: .none)
                }
            } } }
        case "add", "mul":
            let x2 = values(f.input2)
            input.withUnsafeBufferPointer { i in x2.withUnsafeBufferPointer { i2 in out.withUnsafeMutableBufferPointer { o in
                let s1 = nhwc(f.shape1), s2 = nhwc(f.shape2), so = nhwc(f.outputShape)
                if f.op == "add" {
                    FloatReference.add(input1: i.baseAddress!, shape1: s1, input2: i2.baseAddress!, shape2: s2,
                                       output: o.baseAddress!, outputShape: so, clamp: .none)
                } else {
                    FloatReference.mul(input1: i.baseAddress!, shape1: s1, input2: i2.baseAddress!, shape2: s2,
                                       output: o.baseAddress!, outputShape: so, clamp: .none)
                }
            } } }
        case "softmax":
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                FloatReference.softmax(input: i.baseAddress!, output: o.baseAddress!, rows: f.rows!, channels: f.channels!)
            } }
        case "concat":
            let parts = f.inputs!.map { values($0) }
            return concatenated(parts, channels: f.inputChannels!, pixels: f.pixels!, fill: .nan)
        case "pad":
            let inShape = nhwc(f.inputShape)
            let (padded, shape) = padded(input, inShape, padding(f.padding), value: f.value!)
            XCTAssertEqual(shape, nhwc(f.outputShape), "\(f.name): output shape")
            return padded
        case "activation":
            let kind: UnaryActivation
            switch f.kind! {
            case "relu": kind = .relu
            case "sigmoid": kind = .sigmoid
            case "tanh": kind = .tanh
            case "hardSwish": kind = .hardSwish
            case "hardSigmoid": kind = .hardSigmoid(alpha: f.alpha!, beta: f.beta!)
            case "leakyRelu": kind = .leakyRelu(alpha: f.alpha!)
            case "swish": kind = .swish
            case "clip": kind = .clip(min: f.min ?? -.infinity, max: f.max ?? .infinity)
            default:
                XCTFail("\(f.name): unknown activation \(f.kind!)")
                return out
            }
            input.withUnsafeBufferPointer { i in out.withUnsafeMutableBufferPointer { o in
                FloatReference.activation(input: i.baseAddress!, output: o.baseAddress!, count: i.count, kind: kind)
            } }
        default:
            XCTFail("\(f.name): unknown op \(f.op)")
        }
        return out
    }

    func testEveryONNXNodeFixtureMatchesFloatReferenceWithinRelativeTolerance() throws {
        let urls = try fixtureURLs()
        // The generator writes 132 fixtures; losing a chunk of them must fail the test.
        XCTAssertGreaterThanOrEqual(urls.count, 120, "ONNX node fixtures missing: run Tools/fixtures/make_onnx_node_fixtures.py")
        var ops = Set<String>()
        var worst: (Float, String) = (0, "")
        for url in urls {
            let f = try JSONDecoder().decode(ONNXNodeFixture.self, from: Data(contentsOf: url))
            ops.insert(f.op)
            let actual = try run(f)
            let expected = values(f.output)
            guard actual.count == expected.count else {
                XCTFail("\(f.name): \(actual.count) outputs, expected \(expected.count)")
                continue
            }
            let scale = expected.reduce(Float(0)) { Swift.max($0, abs($1)) }
            for k in 0..<expected.count {
                let e = expected[k], a = actual[k]
                if e.isNaN && a.isNaN { continue }  // NaN in the (PyTorch-exported) input propagates
                let error = abs(a - e)
                let allowed = Self.rtol * (abs(e) + scale * 1e-2)
                let ratio = error / Swift.max(allowed, .leastNormalMagnitude)
                if ratio > worst.0 { worst = (ratio, "\(f.name)[\(k)]") }
                if !(error <= allowed) {
                    XCTFail("\(f.name) [\(f.source)] element \(k): \(a), expected \(e)")
                    break
                }
            }
        }
        XCTAssertEqual(ops, ["conv2D", "transposeConv2D", "averagePool", "maxPool", "globalAveragePool", "fullyConnected",
                             "add", "mul", "softmax", "concat", "pad", "activation"])
        print("ONNX node fixtures: \(urls.count) cases, worst error/tolerance \(worst.0) at \(worst.1)")
    }
}
