import QuantaKernels
import XCTest
@testable import QuantaCompiler

/// Each pass on a small graph: the graph outputs before and after agree to float rounding,
/// and the pass did rewrite (node counts), or correctly left the graph alone.
final class GraphPassTests: XCTestCase {
    private var random = ImportTestRandom(seed: 42)

    private func conv(_ inC: Int, _ outC: Int, k: Int, groups: Int = 1, stride: Int = 1, pad: Int = 0, clamp: FloatClamp = .none) -> GraphOp {
        let filter = FilterShape(outputChannels: outC, kernelH: k, kernelW: k, inputChannelsPerGroup: inC / groups)
        return .conv2D(ConvolutionOp(
            parameters: Conv2DParameters(strideH: stride, strideW: stride, padding: .uniform(pad), groups: groups),
            filter: filter, weights: random.floats(filter.elementCount), bias: random.floats(outC), clamp: clamp))
    }

    /// 1×1 depthwise per-channel affine (an imported BatchNormalization).
    private func affine(_ c: Int, clamp: FloatClamp = .none) -> GraphOp {
        .conv2D(ConvolutionOp(
            parameters: Conv2DParameters(groups: c),
            filter: FilterShape(outputChannels: c, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1),
            weights: random.floats(c).map { $0 + 1.5 }, bias: random.floats(c), clamp: clamp))
    }

    /// Builds a chain graph: input → ops... → output, each op's output shape given.
    private func chain(input: TensorShape, _ steps: [(GraphOp, TensorShape)]) -> Graph {
        var g = Graph()
        var current = g.addTensor(GraphTensor(name: "input", shape: input))
        g.inputs = [current]
        for (i, (op, shape)) in steps.enumerated() {
            let t = g.addTensor(GraphTensor(name: "t\(i)", shape: shape))
            g.addNode(GraphNode(name: "n\(i)", op: op, inputs: [current], outputs: [t]))
            current = t
        }
        g.outputs = [current]
        return g
    }

    private func outputs(_ g: Graph, _ input: [Float]) throws -> [[Float]] {
        let values = try FloatExecutor(graph: g).run(inputs: [input])
        return try g.outputs.map { try XCTUnwrap(values[$0]) }
    }

    /// Runs `pass` and checks the graph still computes the same outputs; returns the result.
    private func applyAndCompare(_ pass: some GraphPass, _ graph: Graph, expectChange: Bool, file: StaticString = #filePath, line: UInt = #line) throws -> Graph {
        let input = random.floats(graph.tensors[graph.inputs[0]].shape.elementCount, scale: 2)
        let before = try outputs(graph, input)
        var after = graph
        XCTAssertEqual(try pass.run(on: &after), expectChange, file: file, line: line)
        after.removeUnusedTensors()
        try after.validate()
        let result = try outputs(after, input)
        XCTAssertEqual(after.outputs.map { after.tensors[$0].name }, graph.outputs.map { graph.tensors[$0].name }, file: file, line: line)
        for (a, b) in zip(result, before) {
            XCTAssertLessThanOrEqual(importMaxRelativeError(a, b), 1e-5, file: file, line: line)
        }
        return after
    }

    private let s8 = TensorShape(n: 1, h: 6, w: 6, c: 4)

    private func copies(_ g: Graph) -> Int {
        g.nodes.filter { if case .stridedCopy = $0.op { return true } else { return false } }.count
    }

    /// A transpose and its inverse (with a reshape between) move no byte: one reshape is left.
    func testMergeDataMovementsCancelsATransposeAndItsInverse() throws {
        let g = chain(input: TensorShape(n: 1, h: 4, w: 5, c: 6), [
            (.stridedCopy(.transpose(shape: [1, 4, 5, 6], permutation: [0, 3, 1, 2])), TensorShape(n: 1, h: 6, w: 4, c: 5)),
            (.reshape, TensorShape(n: 6, h: 1, w: 4, c: 5)),
            (.stridedCopy(.transpose(shape: [1, 6, 4, 5], permutation: [0, 2, 3, 1])), TensorShape(n: 1, h: 4, w: 5, c: 6)),
        ])
        var after = try applyAndCompare(MergeDataMovementsPass(), g, expectChange: true)
        _ = try RemoveIdentitiesPass().run(on: &after)
        XCTAssertEqual(copies(after), 0)
    }

    /// A transpose followed by a strided slice is one strided copy of the first input.
    func testMergeDataMovementsComposesATransposeAndASlice() throws {
        let g = chain(input: TensorShape(n: 1, h: 4, w: 5, c: 6), [
            (.stridedCopy(.transpose(shape: [1, 4, 5, 6], permutation: [0, 2, 1, 3])), TensorShape(n: 1, h: 5, w: 4, c: 6)),
            (.stridedCopy(.slice(shape: [1, 5, 4, 6], start: [0, 4, 1, 0], step: [1, -2, 2, 1], count: [1, 3, 2, 6])), TensorShape(n: 1, h: 3, w: 2, c: 6)),
        ])
        var after = try applyAndCompare(MergeDataMovementsPass(), g, expectChange: true)
        _ = try RemoveIdentitiesPass().run(on: &after)
        XCTAssertEqual(copies(after), 1)
        XCTAssertEqual(after.nodes.count, 1)
    }

    /// A chain whose composed mapping is not a strided view stays two copies.
    func testMergeDataMovementsKeepsAChainThatIsNotAView() throws {
        let g = chain(input: TensorShape(n: 1, h: 1, w: 2, c: 3), [
            (.stridedCopy(.transpose(shape: [2, 3], permutation: [1, 0])), TensorShape(n: 1, h: 1, w: 3, c: 2)),
            (.stridedCopy(StridedView(dims: [4], strides: [1], base: 1)), TensorShape(n: 1, h: 1, w: 1, c: 4)),
        ])
        XCTAssertNil(MergeDataMovementsPass.compose(.transpose(shape: [2, 3], permutation: [1, 0]), then: StridedView(dims: [4], strides: [1], base: 1)))
        let after = try applyAndCompare(MergeDataMovementsPass(), g, expectChange: false)
        XCTAssertEqual(copies(after), 2)
    }

    func testFoldBatchNormFoldsAffineIntoPrecedingConvAndKeepsItsClamp() throws {
        let g = chain(input: s8, [(conv(4, 4, k: 3, pad: 1), s8), (affine(4, clamp: .relu6), s8)])
        let after = try applyAndCompare(FoldBatchNormPass(), g, expectChange: true)
        XCTAssertEqual(after.nodes.count, 1)
        guard case .conv2D(let c) = after.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(c.clamp, .relu6)
    }

    func testFoldBatchNormFoldsIntoFullyConnectedAndTransposedConv() throws {
        let v = TensorShape(n: 1, h: 1, w: 1, c: 5)
        let fc = GraphOp.fullyConnected(FullyConnectedOp(outputCount: 5, inputCount: 144, weights: random.floats(5 * 144), bias: random.floats(5)))
        let g = chain(input: TensorShape(n: 1, h: 6, w: 6, c: 4), [(fc, v), (affine(5), v)])
        XCTAssertEqual(try applyAndCompare(FoldBatchNormPass(), g, expectChange: true).nodes.count, 1)
        let filter = FilterShape(outputChannels: 3, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 4)
        let up = TensorShape(n: 1, h: 11, w: 11, c: 3)
        let t = GraphOp.transposeConv2D(TransposeConvolutionOp(
            strideH: 2, strideW: 2, padding: .uniform(1), filter: filter, weights: random.floats(filter.elementCount), bias: random.floats(3)))
        let g2 = chain(input: s8, [(t, up), (affine(3), up)])
        XCTAssertEqual(try applyAndCompare(FoldBatchNormPass(), g2, expectChange: true).nodes.count, 1)
    }

    func testFoldBatchNormLeavesClampedProducerAndSharedOutputAlone() throws {
        let clamped = chain(input: s8, [(conv(4, 4, k: 1, clamp: .relu), s8), (affine(4), s8)])
        XCTAssertEqual(try applyAndCompare(FoldBatchNormPass(), clamped, expectChange: false).nodes.count, 2)
        var shared = chain(input: s8, [(conv(4, 4, k: 1), s8), (affine(4), s8)])
        shared.outputs.append(1)  // the conv output is also a graph output
        XCTAssertEqual(try applyAndCompare(FoldBatchNormPass(), shared, expectChange: false).nodes.count, 2)
    }

    func testFuseActivationFusesReluRelu6AndClipIntoConvFullyConnectedAndAdd() throws {
        let g = chain(input: s8, [(conv(4, 4, k: 3, pad: 1), s8), (.activation(.relu6), s8)])
        let after = try applyAndCompare(FuseActivationPass(), g, expectChange: true)
        guard after.nodes.count == 1, case .conv2D(let c) = after.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(c.clamp, .relu6)

        let v = TensorShape(n: 1, h: 1, w: 1, c: 3)
        let fc = GraphOp.fullyConnected(FullyConnectedOp(outputCount: 3, inputCount: 144, weights: random.floats(432), bias: random.floats(3)))
        let g2 = chain(input: s8, [(fc, v), (.activation(.clip(min: -0.5, max: 0.25)), v)])
        let after2 = try applyAndCompare(FuseActivationPass(), g2, expectChange: true)
        guard case .fullyConnected(let f) = after2.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(f.clamp, FloatClamp(min: -0.5, max: 0.25))

        // Residual add then relu.
        var g3 = chain(input: s8, [(conv(4, 4, k: 1), s8)])
        let sum = g3.addTensor(GraphTensor(name: "sum", shape: s8))
        g3.addNode(GraphNode(name: "add", op: .add(.none), inputs: [1, 0], outputs: [sum]))
        let out = g3.addTensor(GraphTensor(name: "out", shape: s8))
        g3.addNode(GraphNode(name: "relu", op: .activation(.relu), inputs: [sum], outputs: [out]))
        g3.outputs = [out]
        let after3 = try applyAndCompare(FuseActivationPass(), g3, expectChange: true)
        guard case .add(let clamp) = after3.nodes.last!.op else { return XCTFail() }
        XCTAssertEqual(clamp, .relu)
    }

    func testFuseActivationIntersectsClampsAndSkipsNonClampActivations() throws {
        let g = chain(input: s8, [(conv(4, 4, k: 1, clamp: .relu6), s8), (.activation(.clip(min: -1, max: 4)), s8)])
        let after = try applyAndCompare(FuseActivationPass(), g, expectChange: true)
        guard case .conv2D(let c) = after.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(c.clamp, FloatClamp(min: 0, max: 4))
        let hs = chain(input: s8, [(conv(4, 4, k: 1), s8), (.activation(.hardSwish), s8)])
        XCTAssertEqual(try applyAndCompare(FuseActivationPass(), hs, expectChange: false).nodes.count, 2)
    }

    func testFoldPadIntoConvAddsPaddingAndKeepsNonZeroPads() throws {
        let padded = TensorShape(n: 1, h: 9, w: 7, c: 4)
        let out = TensorShape(n: 1, h: 7, w: 5, c: 2)
        let p = Padding(top: 2, left: 0, bottom: 1, right: 1)
        let g = chain(input: s8, [(.pad(p, value: 0), padded), (conv(4, 2, k: 3), out)])
        let after = try applyAndCompare(FoldPadIntoConvPass(), g, expectChange: true)
        guard after.nodes.count == 1, case .conv2D(let c) = after.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(c.parameters.padding, p)
        let nonzero = chain(input: s8, [(.pad(p, value: 1), padded), (conv(4, 2, k: 3), out)])
        XCTAssertEqual(try applyAndCompare(FoldPadIntoConvPass(), nonzero, expectChange: false).nodes.count, 2)
    }

    func testFoldConstantsEvaluatesConstantOnlyNodes() throws {
        var g = Graph()
        let x = g.addTensor(GraphTensor(name: "x", shape: s8))
        let v = TensorShape(n: 1, h: 1, w: 1, c: 4)
        let a = g.addTensor(GraphTensor(name: "a", shape: v, data: [1, 2, 3, 4]))
        let b = g.addTensor(GraphTensor(name: "b", shape: v, data: [0.5, -1, 2, 0]))
        let ab = g.addTensor(GraphTensor(name: "ab", shape: v))
        let y = g.addTensor(GraphTensor(name: "y", shape: s8))
        g.inputs = [x]
        g.outputs = [y]
        g.addNode(GraphNode(name: "mul", op: .mul(.relu), inputs: [a, b], outputs: [ab]))
        g.addNode(GraphNode(name: "add", op: .add(.none), inputs: [x, ab], outputs: [y]))
        let after = try applyAndCompare(FoldConstantsPass(), g, expectChange: true)
        XCTAssertEqual(after.nodes.count, 1)
        XCTAssertEqual(after.tensors[after.nodes[0].inputs[1]].data, [0.5, 0, 6, 0])
    }

    func testRemoveIdentitiesRemovesNoOpsAndKeepsTheOutputName() throws {
        let g = chain(input: s8, [
            (conv(4, 4, k: 1), s8), (.reshape, s8), (.pad(.zero, value: 0), s8), (.sliceChannels(start: 0, count: 4), s8),
            (.channelShuffle(groups: 1), s8), (.activation(.clip(min: -.infinity, max: .infinity)), s8),
        ])
        let after = try applyAndCompare(RemoveIdentitiesPass(), g, expectChange: true)
        XCTAssertEqual(after.nodes.count, 1)
        XCTAssertEqual(after.tensors[after.outputs[0]].name, "t5")
        // Reshape of reshape merges into one.
        let flat = TensorShape(n: 1, h: 1, w: 1, c: 144)
        let g2 = chain(input: s8, [(.reshape, TensorShape(n: 1, h: 36, w: 1, c: 4)), (.reshape, flat), (.softmax, flat)])
        XCTAssertEqual(try applyAndCompare(RemoveIdentitiesPass(), g2, expectChange: true).nodes.count, 2)
    }

    func testStandardPipelineOnConvBatchNormReluChain() throws {
        let padded = TensorShape(n: 1, h: 8, w: 8, c: 4)
        var g = chain(input: s8, [
            (.pad(.uniform(1), value: 0), padded), (conv(4, 4, k: 3, groups: 4), s8), (affine(4), s8), (.activation(.relu), s8),
            (conv(4, 8, k: 1), TensorShape(n: 1, h: 6, w: 6, c: 8)), (affine(8), TensorShape(n: 1, h: 6, w: 6, c: 8)),
        ])
        let input = random.floats(s8.elementCount)
        let before = try outputs(g, input)
        try GraphPassPipeline.standard.run(on: &g)
        XCTAssertEqual(g.nodes.count, 2)
        XCTAssertEqual(g.tensors.count, 3)
        XCTAssertLessThanOrEqual(importMaxRelativeError(try outputs(g, input)[0], before[0]), 1e-5)
    }
}
