import XCTest
import QuantaKernels
import QuantaRuntime
@testable import QuantaCompiler

/// The concat → channel shuffle fold (`MemoryPasses.interleaveConcats`, op kind
/// `interleaveChannels`): when it applies, that the bits are those of the two ops, and that
/// the loader holds the op to its shapes.
final class InterleaveChannelsTests: XCTestCase {
    func kinds(_ m: QuantizedModel) -> [String] { m.ops.map { ModelStatistics.kindName($0.kind) } }

    func testConcatThenShuffleOfAsManyGroupsBecomesOneOpWithTheSameBits() throws {
        let source = TestModels.layoutOps()
        let folded = MemoryPasses.interleaveConcats(source)
        XCTAssertEqual(folded.ops.count, source.ops.count - 1)
        XCTAssertTrue(kinds(folded).contains("concat + channel shuffle"))
        XCTAssertFalse(kinds(folded).contains("concat") || kinds(folded).contains("channel shuffle"))
        XCTAssertEqual(folded.tensors.count, source.tensors.count - 1, "the concat tensor is gone")
        // The written file (default passes) runs the one op; outputs as the unfolded kernels.
        let bytes = AlignedBuffer(try ModelWriter().write(source))
        let model = try Model(bytes: bytes.bytes)
        XCTAssertEqual((0..<model.opCount).filter { model.op($0).kind == .interleaveChannels }.count, 1)
        XCTAssertEqual((0..<model.opCount).filter { model.op($0).kind == .channelShuffle }.count, 0)
        let arena = AlignedBuffer(count: model.arenaSize, fill: 0x3C)
        let interpreter = try Interpreter(model: model, arena: arena.mutableBytes)
        for seed: UInt64 in [1, 2, 3] {
            var rng = TestRandom(seed: seed)
            let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
            let expected = DirectExecutor.run(source, inputs: [input])
            for (k, v) in input.enumerated() { interpreter.input(0).data[k] = v }
            interpreter.invoke()
            XCTAssertEqual(Array(interpreter.output(0).buffer), expected[source.outputs[0]], "seed \(seed)")
        }
        // The same model without the pass has the same plan size or a larger one.
        let plainBytes = AlignedBuffer(try ModelWriter(memoryPasses: MemoryPassOptions(interleaveConcats: false)).write(source))
        let plain = try Model(bytes: plainBytes.bytes)
        XCTAssertLessThanOrEqual(model.arenaSize, plain.arenaSize)
    }

    func testTheFoldNeedsTheShuffleAsTheOnlyReaderWithOneGroupPerInput() {
        // Groups 4 for a concat of 2 inputs: no fold.
        var groups = TestModels.layoutOps()
        let s = groups.ops.firstIndex { if case .channelShuffle = $0.kind { return true } else { return false } }!
        groups.ops[s].kind = .channelShuffle(groups: 4)
        XCTAssertEqual(MemoryPasses.interleaveConcats(groups).ops.count, groups.ops.count)
        // The concat's output also a model output: no fold.
        var exposed = TestModels.layoutOps()
        let c = exposed.ops.firstIndex { if case .concat = $0.kind { return true } else { return false } }!
        exposed.outputs.append(exposed.ops[c].outputs[0])
        XCTAssertEqual(MemoryPasses.interleaveConcats(exposed).ops.count, exposed.ops.count)
    }

    func testInterleaveOfInputsOfDifferentShapesIsRejectedAtLoad() throws {
        var folded = MemoryPasses.interleaveConcats(TestModels.layoutOps())
        let i = folded.ops.firstIndex { if case .interleaveChannels = $0.kind { return true } else { return false } }!
        // The second input replaced by the 8×8 padded tensor (another shape): the writer's
        // own load of what it wrote (the runtime's validation) refuses it, naming the op.
        folded.ops[i].inputs[1] = folded.ops[0].outputs[0]
        XCTAssertThrowsError(try ModelWriter(memoryPasses: .none).write(folded)) { error in
            guard case .validationFailed(.invalidOp(let index, .shapeMismatch(_, _, _)))? = error as? ModelWriterError else {
                return XCTFail("expected validationFailed(invalidOp(\(i), shapeMismatch)), got \(error)")
            }
            XCTAssertEqual(index, i)
            XCTAssertTrue("\(error)".hasPrefix("written model fails validation: op \(i): "), "\(error)")
        }
    }

    func testLayoutInterleaveIsTheShuffleOfTheConcat() {
        var rng = TestRandom(seed: 4)
        for (groups, channels, pixels) in [(2, 5, 3), (3, 4, 2), (2, 17, 4), (4, 1, 5), (2, 8, 2), (2, 24, 3), (2, 58, 5)] {
            let inputs = (0..<groups).map { _ in rng.int8s(channels * pixels) }
            let c = channels * groups
            var joined = [Int8](repeating: 0, count: c * pixels), shuffled = joined, interleaved = joined
            for g in 0..<groups {
                Layout.concatChannels(input: inputs[g], inputChannels: channels, output: &joined, outputChannels: c,
                                      channelOffset: g * channels, pixels: pixels)
                Layout.interleaveChannels(input: inputs[g], channels: channels, output: &interleaved, groups: groups, group: g, pixels: pixels)
            }
            Layout.channelShuffle(input: joined, output: &shuffled, shape: TensorShape(n: 1, h: 1, w: pixels, c: c), groups: groups)
            XCTAssertEqual(interleaved, shuffled, "\(groups) groups of \(channels)")
            if groups == 2 {
                var vector = [Int8](repeating: 0, count: c * pixels)
                VectorLayout.interleave2(inputs[0], inputs[1], channels: channels, output: &vector, pixels: pixels)
                XCTAssertEqual(vector, shuffled)
            }
        }
    }
}
