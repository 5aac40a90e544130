import QuantaKernels
import XCTest
@testable import QuantaCompiler

/// `FuseDecomposedActivationPass` and `ConstantElementwiseToAffinePass` on hand-built graphs:
/// what fuses, what must not (an intermediate read elsewhere, a wrong constant), and that
/// float outputs are kept.
final class FuseDecomposedActivationPassTests: XCTestCase {
    private let shape = TensorShape(n: 1, h: 3, w: 4, c: 5)

    /// A graph builder over one input `x`.
    private struct Builder {
        var g = Graph()
        let shape: TensorShape
        init(shape: TensorShape) {
            self.shape = shape
            g.inputs = [g.addTensor(GraphTensor(name: "x", shape: shape))]
        }
        var x: Int { g.inputs[0] }
        mutating func scalar(_ v: Float) -> Int {
            g.addTensor(GraphTensor(name: "k\(g.tensors.count)", shape: TensorShape(n: 1, h: 1, w: 1, c: 1), data: [v]))
        }
        mutating func op(_ op: GraphOp, _ inputs: [Int]) -> Int {
            let t = g.addTensor(GraphTensor(name: "t\(g.tensors.count)", shape: shape))
            g.addNode(GraphNode(name: "n\(g.nodes.count)", op: op, inputs: inputs, outputs: [t]))
            return t
        }
        mutating func add(_ a: Int, _ v: Float) -> Int { op(.add(.none), [a, scalar(v)]) }
        mutating func mul(_ a: Int, _ v: Float) -> Int { op(.mul(.none), [a, scalar(v)]) }
    }

    private func run(_ g: Graph, _ x: [Float]) throws -> [[Float]] {
        let values = try FloatExecutor(graph: g).run(inputs: [x])
        return try g.outputs.map { try XCTUnwrap(values[$0]) }
    }

    private func fuse(_ g: Graph, file: StaticString = #filePath, line: UInt = #line) throws -> Graph {
        let x = (0..<shape.elementCount).map { Float($0 % 23) * 0.5 - 5.5 }
        var after = g
        _ = try FuseDecomposedActivationPass().run(on: &after)
        after.removeUnusedTensors()
        try after.validate()
        for (a, b) in zip(try run(after, x), try run(g, x)) {
            XCTAssertLessThanOrEqual(importMaxRelativeError(a, b), 1e-6, file: file, line: line)
        }
        return after
    }

    func testHardSwishChainBecomesOneNodeWritingTheSameOutput() throws {
        var b = Builder(shape: shape)
        let c = b.op(.activation(.relu6), [b.add(b.x, 3)])
        let y = b.mul(b.op(.mul(.none), [b.x, c]), 1.0 / 6)
        b.g.outputs = [y]
        let after = try fuse(b.g)
        XCTAssertEqual(after.nodes.count, 1)
        guard case .activation(.hardSwish) = after.nodes[0].op else { return XCTFail("\(after.nodes)") }
        XCTAssertEqual(after.tensors[after.outputs[0]].name, b.g.tensors[y].name)
    }

    func testIntermediateReadElsewhereIsNotFused() throws {
        var b = Builder(shape: shape)
        let c = b.op(.activation(.relu6), [b.add(b.x, 3)])
        let y = b.mul(b.op(.mul(.none), [b.x, c]), 1.0 / 6)
        let other = b.op(.add(.none), [c, b.x])  // the Relu6 output has a second reader
        b.g.outputs = [y, other]
        let after = try fuse(b.g)
        XCTAssertFalse(after.nodes.contains { if case .activation(.hardSwish) = $0.op { return true }; return false })
    }

    func testIntermediateThatIsAGraphOutputStaysAndTheRestFusesAfterIt() throws {
        var b = Builder(shape: shape)
        let a = b.add(b.x, 3)
        let y = b.mul(b.op(.activation(.relu6), [a]), 1.0 / 6)
        b.g.outputs = [y, a]
        let after = try fuse(b.g)
        XCTAssertEqual(after.nodes.count, 2, "x + 3 stays (a graph output); relu6(a) / 6 = hardSigmoid(1/6, 0) of it")
        guard case .add = after.nodes[0].op, case .activation(.hardSigmoid(let alpha, let beta)) = after.nodes[1].op else {
            return XCTFail("\(after.nodes.map { $0.op })")
        }
        XCTAssertEqual(alpha, 1.0 / 6, accuracy: 1e-7)
        XCTAssertEqual(beta, 0)
    }

    func testWrongOffsetOrScaleIsNotHardSwish() throws {
        for (offset, scale) in [(Float(2), Float(1.0 / 6)), (3, 1.0 / 5)] {
            var b = Builder(shape: shape)
            let c = b.op(.activation(.relu6), [b.add(b.x, offset)])
            b.g.outputs = [b.mul(b.op(.mul(.none), [b.x, c]), scale)]
            let after = try fuse(b.g)
            XCTAssertFalse(after.nodes.contains { if case .activation(.hardSwish) = $0.op { return true }; return false })
        }
    }

    func testGateOfAnotherTensorIsNotSwish() throws {
        var b = Builder(shape: shape)
        let z = b.add(b.x, 1)
        let s = b.op(.activation(.sigmoid), [z])
        b.g.outputs = [b.op(.mul(.none), [b.x, s]), z]
        let after = try fuse(b.g)
        XCTAssertFalse(after.nodes.contains { if case .activation(.swish) = $0.op { return true }; return false })
    }

    func testScalarAffineChainWithoutClampStaysUnfused() throws {
        var b = Builder(shape: shape)
        b.g.outputs = [b.add(b.mul(b.x, 0.2), 0.5)]
        XCTAssertEqual(try fuse(b.g).nodes.count, 2, "clamp(a x + b) with infinite bounds is not an activation")
    }

    func testConstantMulAndAddAfterConvFoldIntoItThroughTheStandardPipeline() throws {
        var b = Builder(shape: shape)
        let filter = FilterShape(outputChannels: 5, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 5)
        let conv = b.op(.conv2D(ConvolutionOp(
            parameters: Conv2DParameters(), filter: filter, weights: (0..<25).map { Float($0 % 7) * 0.1 - 0.3 },
            bias: [Float](repeating: 0.1, count: 5))), [b.x])
        let k = b.g.addTensor(GraphTensor(name: "scale", shape: TensorShape(n: 1, h: 1, w: 1, c: 5), data: [1, 2, 3, 4, 5]))
        let m = b.op(.mul(.none), [conv, k])
        b.g.outputs = [b.op(.activation(.relu), [b.add(m, -0.25)])]
        var after = b.g
        try GraphPassPipeline.standard.run(on: &after)
        XCTAssertEqual(after.nodes.count, 1, "\(after.nodes.map { $0.op })")
        guard case .conv2D(let c) = after.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(c.clamp, .relu)
        let x = (0..<shape.elementCount).map { Float($0 % 11) * 0.3 - 1.5 }
        XCTAssertLessThanOrEqual(importMaxRelativeError(try run(after, x)[0], try run(b.g, x)[0]), 1e-6)
    }

    func testFlushDeadChannelsZeroesOnlyNegligibleChannels() throws {
        var weights: [Float] = [0.5, -0.25, 1e-34, -2e-35, 0, 0, 3e-3, 1e-9]
        XCTAssertTrue(FlushDeadChannelsPass().flush(&weights, channels: 4))
        XCTAssertEqual(weights, [0.5, -0.25, 0, 0, 0, 0, 3e-3, 1e-9], "1e-9 / 0.5 is above 2^-40: kept")
        XCTAssertFalse(FlushDeadChannelsPass().flush(&weights, channels: 4), "nothing left to flush")
    }
}
