import XCTest
import QuantaCompiler
import QuantaKernels
@testable import QuantaRuntime

/// The optimized convolution variants in the plan: what the writer stores (variant byte,
/// packed weights, planned scratch), what the interpreter gives with them, and the exact
/// error for each corrupted variant, packed-weights or scratch field.
final class OptimizedVariantTests: XCTestCase {
    /// TestModels.small(): conv1 3×3 pad 1 → im2col, dw 3×3 stride 2 → depthwise3x3, pw 1×1 → pointwise,
    /// fully connected 8 → 5 → pointwise (one GEMM).
    /// the residual add of two 4×4×8 tensors and the global average pool → elementwise.
    let expectedVariants: [KernelVariant] = [.im2col, .depthwise3x3, .pointwise, .reference, .elementwise, .elementwise, .pointwise]

    func shapes(_ source: QuantizedModel, op i: Int) -> (TensorShape, FilterShape, Conv2DParameters)? {
        guard case let .conv2D(p, f, _, _, _) = source.ops[i].kind else { return nil }
        return (source.tensors[source.ops[i].inputs[0]].shape, f, p)
    }

    func testFastWriterStoresTheChosenVariantPackedWeightsAndScratch() throws {
        let source = TestModels.small()
        let f = try ModelFile(source, kernels: .fast)
        for i in 0..<source.ops.count {
            let d = f.model.op(i)
            XCTAssertEqual(d.variant, expectedVariants[i], "op \(i)")
            if case let .fullyConnected(outputCount, inputCount, weights, bias, _) = source.ops[i].kind {
                let op = f.model.opRecord(i)
                XCTAssertEqual(f.model.constantLength(op, OpLayout.fcWeights), 0)
                XCTAssertEqual(f.model.constantLength(op, OpLayout.fcPackedWeights), PointwiseGEMM.packedByteCount(depth: inputCount, columns: outputCount))
                let batch = source.tensors[source.ops[i].inputs[0]].shape.n
                XCTAssertEqual(d.scratchSize, PointwiseGEMM.panelByteCount(depth: inputCount, rows: batch))
                XCTAssertEqual(d.weightBytes, weights.count)
                var packed = [Int8](repeating: 0, count: PointwiseGEMM.packedByteCount(depth: inputCount, columns: outputCount))
                packed.withUnsafeMutableBytes { dst in
                    PointwiseGEMM.pack(weights: weights, weightRowStride: inputCount, depth: inputCount, columns: outputCount,
                                       bias: bias, inputZeroPoint: source.tensors[source.ops[i].inputs[0]].quantization.zeroPoint,
                                       into: dst.baseAddress!)
                }
                let stored = UnsafeBufferPointer(
                    start: f.model.constantPointer(op, OpLayout.fcPackedWeights).assumingMemoryBound(to: Int8.self), count: packed.count)
                XCTAssertEqual(Array(stored), packed)
                continue
            }
            guard let (input, filter, parameters) = shapes(source, op: i) else {
                XCTAssertNil(d.scratchOffset)
                continue
            }
            let op = f.model.opRecord(i)
            XCTAssertEqual(f.model.constantLength(op, OpLayout.convWeights), 0, "op \(i): no OHWI copy")
            XCTAssertEqual(f.model.constantLength(op, OpLayout.convPackedWeights),
                           d.variant.packedWeightsByteCount(inputShape: input, filter: filter, parameters: parameters))
            XCTAssertEqual(UInt(bitPattern: f.model.constantPointer(op, OpLayout.convPackedWeights)) % 16, 0)
            XCTAssertEqual(d.scratchSize, d.variant.scratchBytes(inputShape: input, filter: filter, parameters: parameters))
            XCTAssertEqual(d.weightBytes, filter.elementCount)
            // The packed block is the kernels' own packing, read in place.
            guard case let .conv2D(_, _, weights, bias, _) = source.ops[i].kind else { return XCTFail() }
            let packed = OptimizedConv2D.packWeights(
                variant: d.variant, weights: weights, filter: filter, bias: bias.isEmpty ? nil : bias,
                inputShape: input, inputZeroPoint: source.tensors[source.ops[i].inputs[0]].quantization.zeroPoint,
                parameters: parameters)
            let stored = UnsafeBufferPointer(
                start: f.model.constantPointer(op, OpLayout.convPackedWeights).assumingMemoryBound(to: Int8.self),
                count: packed.count)
            XCTAssertEqual(Array(stored), packed, "op \(i)")
        }
        XCTAssertEqual(f.model.op(1).scratchSize, 0)
        XCTAssertNil(f.model.op(1).scratchOffset)
    }

    func testReferenceWriterStoresNoVariantAndNoScratch() throws {
        let f = try ModelFile(TestModels.small(), kernels: .reference)
        for i in 0..<f.model.opCount {
            XCTAssertEqual(f.model.op(i).variant, .reference)
            XCTAssertNil(f.model.op(i).scratchOffset)
        }
    }

    func testFastAndReferencePlansGiveTheSameBitsAsDirectKernelCalls() throws {
        for source in [TestModels.small(seed: 1), TestModels.small(seed: 7)] {
            var rng = TestRandom(seed: 3)
            let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
            let expected = DirectExecutor.run(source, inputs: [input])[source.outputs[0]]
            for kernels in KernelSelection.allCases {
                let bytes = AlignedBuffer(try ModelWriter(kernels: kernels).write(source))
                let model = try Model(bytes: bytes.bytes)
                // Canaries around the arena: the scratch stays inside the plan.
                let arena = AlignedBuffer(count: model.arenaSize + 64, fill: 0xA5)
                let it = try Interpreter(model: model, arena: UnsafeMutableRawBufferPointer(rebasing: arena.raw[0..<model.arenaSize]))
                input.withUnsafeBufferPointer { it.input(0).data.update(from: $0.baseAddress!, count: input.count) }
                it.invoke()
                XCTAssertEqual(Array(it.output(0).buffer), expected, "\(kernels)")
                XCTAssertTrue(arena.raw[model.arenaSize..<(model.arenaSize + 64)].allSatisfy { $0 == 0xA5 })
            }
        }
    }

    /// `TestModels.small()` with the 1×1 layer's (op 2, 8 → 8) weights cut to |w| ≤ 64, so
    /// every pair fits the uint8 GEMM's bound.
    func pairBoundedSmall(seed: UInt64 = 1) -> QuantizedModel {
        var source = TestModels.small(seed: seed)
        guard case let .conv2D(p, f, w, b, r) = source.ops[2].kind else { preconditionFailure("op 2 is the 1×1 conv") }
        source.ops[2].kind = .conv2D(parameters: p, filter: f, weights: w.map { max(-64, min(64, $0)) }, bias: b, requantization: r)
        source.pairBoundedWeights = true
        return source
    }

    func testPairBoundedPointwiseLayerTakesTheU8VariantAndGivesTheReferenceBits() throws {
        for seed: UInt64 in [1, 7] {
            let source = pairBoundedSmall(seed: seed)
            let f = try ModelFile(source, kernels: .fast)
            XCTAssertEqual(f.model.op(2).variant, .pointwiseU8)
            XCTAssertEqual(f.model.op(2).scratchSize, PointwiseU8GEMM.panelByteCount(depth: 8, rows: pixels(ofInputOf: 2)))
            XCTAssertEqual(f.model.constantLength(f.model.opRecord(2), OpLayout.convPackedWeights), PointwiseU8GEMM.packedByteCount(depth: 8, columns: 8))
            // The unbounded model keeps the int16 GEMM; so do fitting weights of a model not
            // quantized for the uint8 GEMM (on ARM the int16 GEMM is the fast one).
            // (Each ModelFile bound to a name: its Model reads the file's buffer in place.)
            let unbounded = try ModelFile(TestModels.small(seed: seed), kernels: .fast)
            XCTAssertEqual(unbounded.model.op(2).variant, .pointwise)
            var unflagged = source
            unflagged.pairBoundedWeights = false
            let unflaggedFile = try ModelFile(unflagged, kernels: .fast)
            XCTAssertEqual(unflaggedFile.model.op(2).variant, .pointwise)
            var rng = TestRandom(seed: 5)
            let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
            let expected = DirectExecutor.run(source, inputs: [input])[source.outputs[0]]
            let bytes = AlignedBuffer(try ModelWriter(kernels: .fast).write(source))
            let model = try Model(bytes: bytes.bytes)
            let arena = AlignedBuffer(count: model.arenaSize, fill: 0xA5)
            let it = try Interpreter(model: model, arena: arena.raw)
            input.withUnsafeBufferPointer { it.input(0).data.update(from: $0.baseAddress!, count: input.count) }
            it.invoke()
            XCTAssertEqual(Array(it.output(0).buffer), expected, "seed \(seed)")
        }
    }

    func testU8PackedWeightsWithAPairAbove128AreRejected() throws {
        var f = try ModelFile(pairBoundedSmall(), kernels: .fast)
        XCTAssertEqual(f.model.op(2).variant, .pointwiseU8)
        // Packed block: 8 folded biases, then [block][quad][lane][4]: channel 5's first pair
        // is at 32 + 5 · 4.
        let weights = f.constant(op: 2, OpLayout.convPackedWeights) + 32
        f.bytes[weights + 5 * 4] = 127
        f.bytes[weights + 5 * 4 + 1] = UInt8(bitPattern: -2)
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .weightPairOutOfRange(channel: 5)))
        // 127 + 1 is at the bound, and loads.
        f.bytes[weights + 5 * 4 + 1] = 1
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertNoThrow(try f.load().get())
    }

    func testFusedU8StagePackedWeightsWithAPairAbove128AreRejected() throws {
        let bytes = try ModelWriter(kernels: .fast, memoryPasses: MemoryPassOptions(fuseOnlyWhereArenaNeedsIt: false))
            .write(MemoryOpsTests.blocks(seed: 2, pairBounded: true))
        var f = try ModelFile(bytes: bytes)
        XCTAssertEqual(f.model.fusedStageVariants(1)[2], .pointwiseU8)
        // The project stage's (stage 2) packed block: 6 columns padded to 8, so the weights
        // start after 8 folded biases; channel 3's first pair.
        let weights = f.constant(op: 1, OpLayout.irPacked + 4) + 32
        f.bytes[weights + 3 * 4] = UInt8(bitPattern: -128)
        f.bytes[weights + 3 * 4 + 1] = 1
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .weightPairOutOfRange(channel: 3)))
    }

    // MARK: GEMM weights in -127...127 (the NEON GEMM's int16 pair sums)

    func testGEMMPackedWeightOfMinus128IsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        XCTAssertEqual(f.model.op(2).variant, .pointwise)
        // Packed block: 8 folded biases, then [block][pair][lane][2]: channel 5's second
        // weight of pair 0 is at 32 + 5 · 2 + 1.
        let weights = f.constant(op: 2, OpLayout.convPackedWeights) + 32
        f.bytes[weights + 5 * 2 + 1] = UInt8(bitPattern: -128)
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .weightOutOfRange(channel: 5)))
        // -127 is in range, and loads.
        f.bytes[weights + 5 * 2 + 1] = UInt8(bitPattern: -127)
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertNoThrow(try f.load().get())
    }

    func testFusedStagePackedWeightOfMinus128IsRejected() throws {
        let bytes = try ModelWriter(kernels: .fast, memoryPasses: MemoryPassOptions(fuseOnlyWhereArenaNeedsIt: false))
            .write(MemoryOpsTests.blocks(seed: 2))
        var f = try ModelFile(bytes: bytes)
        // The block sets the peak: its 1×1 stages run `.directGEMM` (the same packed blocks).
        XCTAssertEqual(f.model.fusedStageVariants(1)[2], .directGEMM)
        // The project stage's packed block (6 columns padded to 8): channel 3, pair 1.
        let weights = f.constant(op: 1, OpLayout.irPacked + 4) + 32
        f.bytes[weights + 16 + 3 * 2] = UInt8(bitPattern: -128)
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .weightOutOfRange(channel: 3)))
    }

    func testWriterKeepsTheReferenceForAMinus128WeightAndGivesTheReferenceBits() throws {
        var source = TestModels.small(seed: 3)
        guard case let .conv2D(p, filter, w, b, r) = source.ops[2].kind else { preconditionFailure("op 2 is the 1×1 conv") }
        var weights = w
        weights[filter.inputChannelsPerGroup * 4 + 1] = -128
        source.ops[2].kind = .conv2D(parameters: p, filter: filter, weights: weights, bias: b, requantization: r)
        let f = try ModelFile(source, kernels: .fast)
        XCTAssertEqual(f.model.op(2).variant, .reference)
        var rng = TestRandom(seed: 11)
        let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
        let expected = DirectExecutor.run(source, inputs: [input])[source.outputs[0]]
        let model = f.model
        let arena = AlignedBuffer(count: model.arenaSize, fill: 0x5A)
        let it = try Interpreter(model: model, arena: arena.raw)
        input.withUnsafeBufferPointer { it.input(0).data.update(from: $0.baseAddress!, count: input.count) }
        it.invoke()
        XCTAssertEqual(Array(it.output(0).buffer), expected)
    }

    // MARK: Corrupted fields

    /// A 1×1 layer switched to `.directGEMM` (the same packed bytes) loads without scratch
    /// and gives the reference bits; on a 3×3 layer the variant is refused.
    func testDirectGEMMVariantRunsWithoutScratchAndGivesTheReferenceBits() throws {
        let source = TestModels.small(seed: 5)
        var f = try ModelFile(source, kernels: .fast)
        f.bytes[f.model.opRecord(2).offset + 1] = KernelVariant.directGEMM.rawValue
        f.patch(f.model.opRecord(2).offset + 4, -1)  // no scratch
        let loaded = try ModelFile(bytes: f.bytes)  // keeps the bytes alive
        let model = loaded.model
        XCTAssertEqual(model.op(2).variant, .directGEMM)
        XCTAssertNil(model.op(2).scratchOffset)
        var rng = TestRandom(seed: 11)
        let input = rng.int8s(source.tensors[source.inputs[0]].shape.elementCount)
        let expected = DirectExecutor.run(source, inputs: [input])[source.outputs[0]]
        let arena = AlignedBuffer(count: model.arenaSize, fill: 0)
        let it = try Interpreter(model: model, arena: arena.raw)
        input.withUnsafeBufferPointer { it.input(0).data.update(from: $0.baseAddress!, count: input.count) }
        it.invoke()
        XCTAssertEqual(Array(it.output(0).buffer), expected)

        var g = try ModelFile(source, kernels: .fast)
        g.bytes[g.model.opRecord(0).offset + 1] = KernelVariant.directGEMM.rawValue
        ModelWriter.sealChecksum(&g.bytes)
        XCTAssertModelError(g.load(), .invalidOp(index: 0, reason: .unsupportedVariant(KernelVariant.directGEMM.rawValue)))
    }

    func testUnknownVariantIsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        f.bytes[f.model.opRecord(2).offset + 1] = 10
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .unsupportedVariant(10)))
    }

    func testVariantThatDoesNotFitTheShapesIsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        // A 1×1 groups-1 convolution is not depthwise; a depthwise one is not pointwise.
        f.bytes[f.model.opRecord(2).offset + 1] = KernelVariant.depthwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .unsupportedVariant(KernelVariant.depthwise.rawValue)))
        f.bytes[f.model.opRecord(2).offset + 1] = KernelVariant.pointwise.rawValue
        f.bytes[f.model.opRecord(1).offset + 1] = KernelVariant.pointwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .unsupportedVariant(KernelVariant.pointwise.rawValue)))
        // 3×3 with stride 2 is not the 1×1 grouped fast path either (groups 1 is not grouped).
        f.bytes[f.model.opRecord(1).offset + 1] = KernelVariant.depthwise3x3.rawValue
        f.bytes[f.model.opRecord(0).offset + 1] = KernelVariant.grouped.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .unsupportedVariant(KernelVariant.grouped.rawValue)))
    }

    func testReferenceVariantWithoutTheOHWIWeightsIsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        let record = f.model.opRecord(2)
        f.bytes[record.offset + 1] = KernelVariant.reference.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .badConstant(
            .weights, offset: f.word(f.parameter(op: 2, OpLayout.convWeights)), length: 0, expectedLength: 64)))
    }

    func testPackedWeightsOfTheWrongLengthAreRejected() throws {
        var f = try ModelFile(kernels: .fast)
        let slot = f.parameter(op: 2, OpLayout.convPackedWeights + 1)
        let length = f.word(slot)
        XCTAssertEqual(length, 8 * (4 + 8))  // 8 channels × (folded bias + 8 weights)
        f.patch(slot, length - 1)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .badConstant(
            .packedWeights, offset: f.word(slot - 4), length: length - 1, expectedLength: length)))
        // The reference variant must not carry packed weights.
        var g = try ModelFile(kernels: .reference)
        let referenceSlot = g.parameter(op: 2, OpLayout.convPackedWeights + 1)
        g.patch(referenceSlot, 16)
        XCTAssertModelError(g.load(), .invalidOp(index: 2, reason: .badConstant(
            .packedWeights, offset: g.word(referenceSlot - 4), length: 16, expectedLength: 0)))
    }

    /// Pixels (n·h·w) of op `i`'s input in `TestModels.small()`: the GEMM panel's row bound.
    func pixels(ofInputOf i: Int) -> Int {
        let source = TestModels.small()
        let shape = source.tensors[source.ops[i].inputs[0]].shape
        return shape.n * shape.h * shape.w
    }

    func testMissingScratchIsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        f.patch(f.model.opRecord(2).offset + 4, -1)
        let needed = PointwiseGEMM.panelByteCount(depth: 8, rows: pixels(ofInputOf: 2))
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .scratchTooSmall(needed: needed, found: 0)))
    }

    func testScratchSmallerThanTheVariantNeedsIsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        let k = f.word(f.model.opRecord(0).offset + 4)
        let entry = f.model.arenaSection + 16 + 4 * f.model.tensorCount + 8 * k
        let size = f.word(entry + 4)
        XCTAssertEqual(size, Im2col.scratchByteCount(filter: FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 3)))
        f.patch(entry + 4, size - 1)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .scratchTooSmall(needed: size, found: size - 1)))
    }

    func testSwitchingPointwiseToIm2colNeedsIm2colsLargerScratch() throws {
        // Both variants pack the same bytes, so only the scratch size tells them apart.
        var f = try ModelFile(kernels: .fast)
        f.bytes[f.model.opRecord(2).offset + 1] = KernelVariant.im2col.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        let filter = FilterShape(outputChannels: 8, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 8)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .scratchTooSmall(
            needed: Im2col.scratchByteCount(filter: filter), found: PointwiseGEMM.panelByteCount(depth: 8, rows: pixels(ofInputOf: 2)))))
    }

    func testScratchSharingBytesWithTheOpsTensorsIsRejected() throws {
        var f = try ModelFile(kernels: .fast)
        let k = f.word(f.model.opRecord(2).offset + 4)
        let entry = f.model.arenaSection + 16 + 4 * f.model.tensorCount + 8 * k
        f.patch(entry, f.model.arenaOffset(3))  // pw's scratch over pw's output
        XCTAssertModelError(f.load(), .overlappingBuffers(first: 3, second: f.model.tensorCount + k, step: 2))
    }

    func testFullyConnectedVariantPackedWeightsAndScratchAreChecked() throws {
        var f = try ModelFile(kernels: .fast)
        let record = f.model.opRecord(6).offset
        f.bytes[record + 1] = KernelVariant.depthwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 6, reason: .unsupportedVariant(KernelVariant.depthwise.rawValue)))
        f.bytes[record + 1] = KernelVariant.pointwise.rawValue
        let slot = f.parameter(op: 6, OpLayout.fcPackedWeights + 1)
        let length = f.word(slot)
        XCTAssertEqual(length, 8 * (4 + 8))
        f.patch(slot, length + 16)
        XCTAssertModelError(f.load(), .invalidOp(index: 6, reason: .badConstant(
            .packedWeights, offset: f.word(slot - 4), length: length + 16, expectedLength: length)))
        f.patch(slot, length)
        f.patch(record + 4, -1)
        let batch = TestModels.small().tensors[TestModels.small().ops[6].inputs[0]].shape.n
        XCTAssertModelError(f.load(), .invalidOp(index: 6, reason: .scratchTooSmall(needed: PointwiseGEMM.panelByteCount(depth: 8, rows: batch), found: 0)))
        XCTAssertNil(KernelVariant.fullyConnectedByteCounts(inputCount: Int(Int32.max), outputCount: 1 << 24))
    }

    func testElementwiseVariantOnTheGateMulButNotOnPooling() throws {
        let source = TestModels.layoutOps()
        var f = try ModelFile(source, kernels: .fast)
        let mul = try XCTUnwrap(source.ops.firstIndex { if case .mul = $0.kind { return true } else { return false } })
        let pool = try XCTUnwrap(source.ops.firstIndex { if case .maxPool = $0.kind { return true } else { return false } })
        XCTAssertEqual(f.model.op(mul).variant, .elementwise)
        XCTAssertEqual(f.model.op(pool).variant, .reference)
        f.bytes[f.model.opRecord(pool).offset + 1] = KernelVariant.elementwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: pool, reason: .unsupportedVariant(KernelVariant.elementwise.rawValue)))
    }

    func testElementwiseVariantRunsAddsAndGlobalPoolsOnly() throws {
        var f = try ModelFile(kernels: .fast)
        XCTAssertEqual(f.model.op(4).variant, .elementwise)
        f.bytes[f.model.opRecord(4).offset + 1] = KernelVariant.pointwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 4, reason: .unsupportedVariant(KernelVariant.pointwise.rawValue)))
        f.bytes[f.model.opRecord(4).offset + 1] = KernelVariant.elementwise.rawValue
        f.bytes[f.model.opRecord(2).offset + 1] = KernelVariant.elementwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .unsupportedVariant(KernelVariant.elementwise.rawValue)))
    }

    func testCheckedByteCountsEqualTheKernelsFormulas() {
        var rng = TestRandom(seed: 11)
        for _ in 0..<300 {
            let groups = [1, 1, 2, 4][rng.int(0...3)]
            let ipg = rng.int(1...20)
            let c = groups * ipg
            let o = groups * rng.int(1...12)
            let k = rng.int(1...4)
            let depthwise = rng.int(0...3) == 0
            let input = TensorShape(h: rng.int(4...9), w: rng.int(4...9), c: depthwise ? ipg : c)
            let filter = FilterShape(outputChannels: depthwise ? ipg * rng.int(1...3) : o, kernelH: k, kernelW: rng.int(1...3),
                                     inputChannelsPerGroup: depthwise ? 1 : ipg)
            let parameters = Conv2DParameters(strideH: rng.int(1...2), strideW: rng.int(1...2),
                                              padding: .uniform(rng.int(0...1)), groups: depthwise ? ipg : groups)
            for variant in KernelVariant.allCases where variant.applies(inputShape: input, filter: filter, parameters: parameters, inputZeroPoint: 0) {
                let counts = variant.checkedByteCounts(inputShape: input, filter: filter, parameters: parameters)
                XCTAssertEqual(counts?.packedWeights, variant.packedWeightsByteCount(inputShape: input, filter: filter, parameters: parameters), "\(variant) \(filter)")
                XCTAssertEqual(counts?.scratch, variant.scratchBytes(inputShape: input, filter: filter, parameters: parameters), "\(variant) \(filter)")
            }
        }
        // Counts beyond Int32 are refused rather than computed.
        let huge = FilterShape(outputChannels: 1 << 24, kernelH: 4096, kernelW: 4096, inputChannelsPerGroup: 1 << 10)
        XCTAssertNil(KernelVariant.im2col.checkedByteCounts(inputShape: TensorShape(h: 1, w: 1, c: 1 << 10), filter: huge, parameters: Conv2DParameters()))
    }
}
