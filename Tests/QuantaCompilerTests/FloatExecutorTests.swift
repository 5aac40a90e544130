import QuantaKernels
import XCTest
@testable import QuantaCompiler

final class FloatExecutorTests: XCTestCase {
    func testRunReturnsEveryTensorByIndexAndNilForUncomputed() throws {
        var g = Graph()
        let s = TensorShape(n: 1, h: 1, w: 2, c: 2)
        let x = g.addTensor(GraphTensor(name: "x", shape: s))
        let c = g.addTensor(GraphTensor(name: "c", shape: TensorShape(n: 1, h: 1, w: 1, c: 2), data: [10, 20]))
        let y = g.addTensor(GraphTensor(name: "y", shape: s))
        let z = g.addTensor(GraphTensor(name: "z", shape: s))
        let orphan = g.addTensor(GraphTensor(name: "orphan", shape: s))
        g.addNode(GraphNode(name: "add", op: .add(.none), inputs: [x, c], outputs: [y]))
        g.addNode(GraphNode(name: "relu", op: .activation(.relu), inputs: [y], outputs: [z]))
        g.inputs = [x]
        g.outputs = [z]
        let v = try FloatExecutor(graph: g).run(inputs: [[-30, 1, 2, -25]])
        XCTAssertEqual(v[x], [-30, 1, 2, -25])
        XCTAssertEqual(v[c], [10, 20])
        XCTAssertEqual(v[y], [-20, 21, 12, -5])
        XCTAssertEqual(v[z], [0, 21, 12, 0])
        XCTAssertNil(v[orphan])
    }

    func testChannelShuffleConcatAndSliceFollowTheGraphSemantics() throws {
        var g = Graph()
        let s = TensorShape(n: 1, h: 1, w: 1, c: 6)
        let x = g.addTensor(GraphTensor(name: "x", shape: s))
        let sh = g.addTensor(GraphTensor(name: "sh", shape: s))
        let sl = g.addTensor(GraphTensor(name: "sl", shape: TensorShape(n: 1, h: 1, w: 1, c: 2)))
        let cat = g.addTensor(GraphTensor(name: "cat", shape: TensorShape(n: 1, h: 1, w: 1, c: 8)))
        g.addNode(GraphNode(name: "shuffle", op: .channelShuffle(groups: 2), inputs: [x], outputs: [sh]))
        g.addNode(GraphNode(name: "slice", op: .sliceChannels(start: 1, count: 2), inputs: [sh], outputs: [sl]))
        g.addNode(GraphNode(name: "concat", op: .concat, inputs: [sh, sl], outputs: [cat]))
        g.inputs = [x]
        g.outputs = [cat]
        let v = try FloatExecutor(graph: g).run(inputs: [[0, 1, 2, 3, 4, 5]])
        // Channel g*(c/groups)+i moves to i*groups+g: [0,1,2 | 3,4,5] → [0,3,1,4,2,5].
        XCTAssertEqual(v[sh], [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(v[cat], [0, 3, 1, 4, 2, 5, 3, 1])
    }

    func testWrongInputCountSizeAndShapeAreErrors() {
        var g = Graph()
        let x = g.addTensor(GraphTensor(name: "x", shape: TensorShape(n: 1, h: 2, w: 2, c: 1)))
        let y = g.addTensor(GraphTensor(name: "y", shape: TensorShape(n: 1, h: 3, w: 3, c: 1)))
        g.addNode(GraphNode(name: "gap", op: .globalAveragePool, inputs: [x], outputs: [y]))
        g.inputs = [x]
        g.outputs = [y]
        let e = FloatExecutor(graph: g)
        XCTAssertThrowsError(try e.run(inputs: [])) { XCTAssertEqual($0 as? FloatExecutorError, .inputCount(expected: 1, given: 0)) }
        XCTAssertThrowsError(try e.run(inputs: [[1, 2]])) { XCTAssertEqual($0 as? FloatExecutorError, .inputSize(name: "x", expected: 4, given: 2)) }
        XCTAssertThrowsError(try e.run(inputs: [[1, 2, 3, 4]])) { error in
            guard case .shapeMismatch(let node, _)? = error as? FloatExecutorError else { return XCTFail("\(error)") }
            XCTAssertEqual(node, "gap")
        }
    }
}
