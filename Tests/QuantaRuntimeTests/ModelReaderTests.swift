import XCTest
import QuantaCompiler
import QuantaKernels
@testable import QuantaRuntime

/// A valid model file and the positions of its fields, for building bad files.
struct ModelFile {
    var bytes: [UInt8]
    let model: Model
    private let keep: AlignedBuffer

    /// The reference kernels by default: the tests of the OHWI weights constant need it
    /// (an optimized variant stores only its packed block).
    init(_ source: QuantizedModel = TestModels.small(), kernels: KernelSelection = .reference) throws {
        bytes = try ModelWriter(kernels: kernels, memoryPasses: .none).write(source)
        keep = AlignedBuffer(bytes)
        model = try Model(bytes: keep.bytes)
    }

    /// A file already written (e.g. with memory passes).
    init(bytes: [UInt8]) throws {
        self.bytes = bytes
        keep = AlignedBuffer(bytes)
        model = try Model(bytes: keep.bytes)
    }

    func word(_ offset: Int) -> Int {
        Int(Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24))
    }

    mutating func set(_ offset: Int, _ value: Int) {
        let v = UInt32(truncatingIfNeeded: value)
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }

    /// Sets a word and recomputes the checksum, so that validation beyond the checksum runs.
    mutating func patch(_ offset: Int, _ value: Int) {
        set(offset, value)
        ModelWriter.sealChecksum(&bytes)
    }

    /// Absolute offset of parameter word `p` of op `i`.
    func parameter(op i: Int, _ p: Int) -> Int {
        let r = model.opRecord(i)
        return r.offset + 12 + 4 * (r.inputCount + r.outputCount + p)
    }

    func inputSlot(op i: Int, _ k: Int) -> Int { model.opRecord(i).offset + 12 + 4 * k }

    /// Absolute offset of the first byte of the constant referenced at word `p` of op `i`.
    func constant(op i: Int, _ p: Int) -> Int { model.constantsSection + word(parameter(op: i, p)) }

    func arenaOffsetSlot(tensor t: Int) -> Int { model.arenaSection + 16 + 4 * t }
    func directoryEntry(_ s: ModelSection) -> Int { ModelFormat.directoryOffset + 8 * Int(s.rawValue) }

    func load() -> Result<Model, ModelError> { Self.load(bytes) }

    static func load(_ bytes: [UInt8]) -> Result<Model, ModelError> {
        let buffer = AlignedBuffer(bytes)
        do throws(ModelError) {
            return .success(try Model(bytes: buffer.bytes))
        } catch {
            return .failure(error)
        }
    }
}

func XCTAssertModelError(_ result: Result<Model, ModelError>, _ expected: ModelError, file: StaticString = #filePath, line: UInt = #line) {
    switch result {
    case .success: XCTFail("loaded; expected \(expected)", file: file, line: line)
    case .failure(let error): XCTAssertEqual(error, expected, file: file, line: line)
    }
}

final class ModelReaderTests: XCTestCase {
    func testReflectPadNotBelowTheInputSizeIsRejected() throws {
        var f = try ModelFile(TestModels.resizeOps())
        // Op 0 reflects a 4×5 input by (1, 2, 1, 0); make the left pad 5 (= width) and the
        // output shape consistent, so that only the reflect rule fails.
        f.patch(f.parameter(op: 0, 1), 5)
        f.patch(f.parameter(op: 0, 3), 0)
        f.patch(f.parameter(op: 0, 0), 2)
        f.patch(f.parameter(op: 0, 2), 0)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .invalidParameter(.padding, value: 5)))
        var g = try ModelFile(TestModels.resizeOps())
        g.patch(g.parameter(op: 0, 4), 2)
        XCTAssertModelError(g.load(), .invalidOp(index: 0, reason: .invalidParameter(.padMode, value: 2)))
    }

    func testUpsampleFactorMustGiveTheOutputShape() throws {
        var f = try ModelFile(TestModels.resizeOps())
        f.patch(f.parameter(op: 1, 1), 2)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .shapeMismatch(
            tensor: 2, expected: TensorShape(n: 1, h: 12, w: 14, c: 3), found: TensorShape(n: 1, h: 12, w: 21, c: 3))))
        f.patch(f.parameter(op: 1, 1), 0)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .invalidParameter(.factor, value: 0)))
    }

    func testBilinearTableIndexOrWeightOutOfRangeIsRejected() throws {
        let offset = { (f: ModelFile) in f.word(f.parameter(op: 2, 2)) }
        var f = try ModelFile(TestModels.resizeOps())
        f.patch(f.constant(op: 2, 2) + 4 * (3 * 29 + 1), 21)  // last column's x1 = input width
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .badConstant(.resizeTable, offset: offset(f), length: 360, expectedLength: 360)))
        var g = try ModelFile(TestModels.resizeOps())
        g.patch(g.constant(op: 2, 0) + 4 * 2, 1025)  // first row's weight above 2^10
        XCTAssertModelError(g.load(), .invalidOp(index: 2, reason: .badConstant(.resizeTable, offset: g.word(g.parameter(op: 2, 0)), length: 84, expectedLength: 84)))
        var h = try ModelFile(TestModels.resizeOps())
        h.patch(h.parameter(op: 2, 3), 348)
        XCTAssertModelError(h.load(), .invalidOp(index: 2, reason: .badConstant(.resizeTable, offset: offset(h), length: 348, expectedLength: 360)))
    }

    func testStridedViewOutsideTheInputIsRejected() throws {
        // Op 1 reads rows 4, 2, 0 of a 5-row input (base 4·24 + 6, row stride -48): a base one
        // row lower reads row 5, past the input.
        var f = try ModelFile(TestModels.viewOps())
        let base = f.word(f.parameter(op: 1, 12))
        f.patch(f.parameter(op: 1, 12), base + 24)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .invalidParameter(.view, value: base + 24)))
        // A dimension of 0; a dimension one larger (op 2, the 9 × 2 × 3 view of a 54-element
        // input, then reads element 54); one smaller (48 elements for an output of 54).
        var g = try ModelFile(TestModels.viewOps())
        g.patch(g.parameter(op: 0, 0), 0)
        XCTAssertModelError(g.load(), .invalidOp(index: 0, reason: .invalidParameter(.view, value: 0)))
        var h = try ModelFile(TestModels.viewOps())
        XCTAssertEqual((0..<6).map { h.word(h.parameter(op: 2, $0)) }, [1, 1, 1, 9, 2, 3])
        h.patch(h.parameter(op: 2, 4), 3)
        XCTAssertModelError(h.load(), .invalidOp(index: 2, reason: .invalidParameter(.view, value: 0)))
        var k = try ModelFile(TestModels.viewOps())
        k.patch(k.parameter(op: 2, 3), 8)
        XCTAssertModelError(k.load(), .invalidOp(index: 2, reason: .invalidParameter(.view, value: 48)))
    }

    func testFloatSoftmaxTableOutsideZeroToOneIsRejected() throws {
        var f = try ModelFile(TestModels.viewOps())
        let offset = f.word(f.parameter(op: 3, 0))
        f.patch(f.constant(op: 3, 0) + 4 * 7, Int(Float(1.5).bitPattern))
        XCTAssertModelError(f.load(), .invalidOp(index: 3, reason: .badConstant(.table, offset: offset, length: 1032, expectedLength: 1032)))
        var g = try ModelFile(TestModels.viewOps())
        g.patch(g.constant(op: 3, 0), Int(Float(0.5).bitPattern))  // table[0] must be 1
        XCTAssertModelError(g.load(), .invalidOp(index: 3, reason: .badConstant(.table, offset: offset, length: 1032, expectedLength: 1032)))
        var h = try ModelFile(TestModels.viewOps())
        h.patch(h.constant(op: 3, 0) + 4 * 257, 128)  // output zero point
        XCTAssertModelError(h.load(), .invalidOp(index: 3, reason: .invalidParameter(.zeroPoint, value: 128)))
    }

    func testLogSoftmaxScalesMustBeNormalAndPositive() throws {
        var f = try ModelFile(TestModels.viewOps())
        let offset = f.word(f.parameter(op: 4, 0))
        f.patch(f.constant(op: 4, 0) + 4 * 257, Int(Float(0).bitPattern))  // output scale 0
        XCTAssertModelError(f.load(), .invalidOp(index: 4, reason: .badConstant(.table, offset: offset, length: 1036, expectedLength: 1036)))
        var g = try ModelFile(TestModels.viewOps())
        g.patch(g.constant(op: 4, 0) + 4 * 258, -129)
        XCTAssertModelError(g.load(), .invalidOp(index: 4, reason: .invalidParameter(.zeroPoint, value: -129)))
    }

    func testTruncatedFileReportsTruncated() throws {
        let f = try ModelFile()
        let n = f.bytes.count
        XCTAssertModelError(ModelFile.load(Array(f.bytes.prefix(n - 16))), .truncated(needed: n, fileSize: n - 16))
        XCTAssertModelError(ModelFile.load(Array(f.bytes.prefix(40))), .truncated(needed: 80, fileSize: 40))
        XCTAssertModelError(ModelFile.load(Array(f.bytes.prefix(2))), .truncated(needed: 80, fileSize: 2))
    }

    func testWrongMagicReportsBadMagic() throws {
        var f = try ModelFile()
        f.bytes[0] = UInt8(ascii: "X")
        XCTAssertModelError(f.load(), .badMagic(found: 0x4C44_4D58))
    }

    func testWrongVersionReportsUnsupportedVersion() throws {
        var f = try ModelFile()
        f.patch(4, 1)
        XCTAssertModelError(f.load(), .unsupportedVersion(found: 1, supported: ModelFormat.version))
    }

    func testFlippedBitReportsChecksumMismatch() throws {
        var f = try ModelFile()
        let stored = f.model.bytes.load(fromByteOffset: 16, as: UInt64.self)
        let weight = f.constant(op: 0, OpLayout.convWeights) + 5
        f.bytes[weight] ^= 0x10
        let computed = f.bytes.withUnsafeBytes { ModelFormat.checksum($0) }
        XCTAssertNotEqual(stored, computed)
        XCTAssertModelError(f.load(), .checksumMismatch(stored: stored, computed: computed))
    }

    func testTrailingBytesReportSizeMismatch() throws {
        let f = try ModelFile()
        XCTAssertModelError(ModelFile.load(f.bytes + [0, 0, 0, 0]), .sizeMismatch(stated: f.bytes.count, actual: f.bytes.count + 4))
    }

    func testMisalignedModelBytesAreRejected() throws {
        let f = try ModelFile()
        let buffer = AlignedBuffer(count: f.bytes.count + 4)
        f.bytes.withUnsafeBytes { (buffer.raw.baseAddress! + 4).copyMemory(from: $0.baseAddress!, byteCount: f.bytes.count) }
        let shifted = UnsafeRawBufferPointer(start: buffer.raw.baseAddress! + 4, count: f.bytes.count)
        XCTAssertThrowsError(try Model(bytes: shifted)) { error in
            XCTAssertEqual(error as? ModelError, .misalignedBuffer(address: UInt(bitPattern: shifted.baseAddress!), required: 16))
        }
    }

    func testSectionBeyondTheFileReportsOffsetOutOfBounds() throws {
        var f = try ModelFile()
        let entry = f.directoryEntry(.constants)
        let offset = f.word(entry)
        f.patch(entry + 4, f.bytes.count)
        XCTAssertModelError(f.load(), .offsetOutOfBounds(section: .constants, offset: offset, length: f.bytes.count, fileSize: f.bytes.count))
        // A length that overflows 32-bit arithmetic is caught the same way.
        f.patch(entry + 4, Int(Int32.max))
        XCTAssertModelError(f.load(), .offsetOutOfBounds(section: .constants, offset: offset, length: Int(Int32.max), fileSize: f.bytes.count))
    }

    func testMisalignedSectionIsRejected() throws {
        var f = try ModelFile()
        let entry = f.directoryEntry(.ops)
        let offset = f.word(entry) + 4
        f.patch(entry, offset)
        XCTAssertModelError(f.load(), .misaligned(section: .ops, offset: offset))
    }

    func testConstantOutsideTheConstantsSectionIsRejected() throws {
        var f = try ModelFile()
        let slot = f.parameter(op: 0, OpLayout.convWeights)
        let offset = f.model.constantsLength + 16 - f.model.constantsLength % 16
        f.patch(slot, offset)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .badConstant(.weights, offset: offset, length: 216, expectedLength: 216)))
    }

    func testWeightLengthMustMatchTheFilter() throws {
        var f = try ModelFile()
        let slot = f.parameter(op: 1, OpLayout.convWeights + 1)
        f.patch(slot, 71)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .badConstant(.weights, offset: f.word(slot - 4), length: 71, expectedLength: 72)))
    }

    func testMultiplierCountMustBeOneOrTheChannelCount() throws {
        var f = try ModelFile()
        let slot = f.parameter(op: 0, OpLayout.convMultipliers + 1)
        f.patch(slot, 8)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .badConstant(.multipliers, offset: f.word(slot - 4), length: 8, expectedLength: 32)))
    }

    func testShiftOutsideRangeIsRejected() throws {
        var f = try ModelFile()
        f.patch(f.constant(op: 0, OpLayout.convShifts) + 4 * 3, 31)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .invalidParameter(.shift, value: 31)))
        f.patch(f.constant(op: 0, OpLayout.convShifts) + 4 * 3, -32)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .invalidParameter(.shift, value: -32)))
    }

    func testChannelsMustBeDivisibleByGroups() throws {
        var f = try ModelFile()
        f.patch(f.parameter(op: 1, OpLayout.convGroups), 3)
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .invalidParameter(.groups, value: 3)))
    }

    func testConvOutputShapeMustMatchTheParameters() throws {
        var f = try ModelFile()
        f.patch(f.parameter(op: 1, OpLayout.convStride), 1)  // stride 2 → 1: output would be 7×4
        XCTAssertModelError(f.load(), .invalidOp(index: 1, reason: .shapeMismatch(
            tensor: 2, expected: TensorShape(n: 1, h: 7, w: 4, c: 8), found: TensorShape(n: 1, h: 4, w: 4, c: 8))))
    }

    func testAccumulatorThatCouldOverflowIsRejected() throws {
        var f = try ModelFile()
        f.patch(f.constant(op: 0, OpLayout.convBias), Int(Int32.max) - 1000)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .accumulatorRange(terms: 27)))
    }

    /// One op over a (1, 1, 1, channels) input with zero bias and one (per-tensor)
    /// requantization: a fully connected op to one output, or a 1×1 convolution with
    /// 2 groups and 2 filters.
    private func reduction(channels: Int, groupedConv: Bool) -> QuantizedModel {
        var rng = TestRandom(seed: 7)
        var m = QuantizedModel()
        let outputs = groupedConv ? 2 : 1
        m.tensors = [
            QuantizedTensor(name: "x", shape: TensorShape(n: 1, h: 1, w: 1, c: channels),
                            quantization: .init(scale: 0.1, zeroPoint: 0), sourceLayout: .nc),
            QuantizedTensor(name: "y", shape: TensorShape(n: 1, h: 1, w: 1, c: outputs),
                            quantization: .init(scale: 0.1, zeroPoint: 0), sourceLayout: .nc),
        ]
        m.inputs = [0]
        m.outputs = [1]
        let weights = rng.int8s(channels, -127...127)
        let requantization = TestModels.requantization(1, &rng)
        if groupedConv {
            let filter = FilterShape(outputChannels: 2, kernelH: 1, kernelW: 1, inputChannelsPerGroup: channels / 2)
            m.ops = [QuantizedOp(name: "conv", kind: .conv2D(
                parameters: Conv2DParameters(groups: 2), filter: filter, weights: weights, bias: [],
                requantization: requantization), inputs: [0], outputs: [1])]
        } else {
            m.ops = [QuantizedOp(name: "fc", kind: .fullyConnected(
                outputCount: 1, inputCount: channels, weights: weights, bias: [],
                requantization: requantization), inputs: [0], outputs: [1])]
        }
        return m
    }

    /// |acc| <= K * 255 * 128 + max|bias| must fit in int32: with zero bias K = 65793
    /// products load, one more is rejected at load with a typed error (and already by the
    /// writer), whatever the op.
    func testReductionLongerThanTheAccumulatorBoundIsRejected() throws {
        let limit = Int(Int32.max) / (255 * 128)
        XCTAssertEqual(limit, 65793)
        XCTAssertNoThrow(try ModelFile(reduction(channels: limit, groupedConv: false)))
        XCTAssertThrowsError(try ModelWriter().write(reduction(channels: limit + 1, groupedConv: false))) { error in
            XCTAssertEqual(error as? ModelWriterError,
                           .validationFailed(.invalidOp(index: 0, reason: .accumulatorRange(terms: limit + 1))))
        }
        // The reader on its own: 2 groups of 32897 channels (valid), patched to 1 group
        // and 1 filter over all 65794 channels: the same OHWI weight bytes (ModelFile
        // writes reference kernels: no packed weights), one longer reduction.
        var f = try ModelFile(reduction(channels: limit + 1, groupedConv: true))
        f.patch(f.parameter(op: 0, OpLayout.convGroups), 1)
        f.patch(f.parameter(op: 0, OpLayout.convFilter), 1)
        f.patch(f.parameter(op: 0, OpLayout.convFilter + 3), limit + 1)
        XCTAssertModelError(f.load(), .invalidOp(index: 0, reason: .accumulatorRange(terms: limit + 1)))
    }

    func testTensorIndexOutOfRangeIsRejected() throws {
        var f = try ModelFile()
        f.patch(f.inputSlot(op: 2, 0), 99)
        XCTAssertModelError(f.load(), .invalidOp(index: 2, reason: .tensorIndexOutOfRange(99)))
    }

    func testUnknownKindAndVariantAreRejected() throws {
        var f = try ModelFile()
        let record = f.model.opRecord(3).offset
        f.bytes[record] = 99
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 3, reason: .unknownKind(99)))
        f.bytes[record] = OpKind.lookupTable.rawValue
        f.bytes[record + 1] = 7
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 3, reason: .unsupportedVariant(7)))
        // An optimized convolution variant is not valid for a lookup table.
        f.bytes[record + 1] = KernelVariant.pointwise.rawValue
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .invalidOp(index: 3, reason: .unsupportedVariant(1)))
    }

    func testBadQuantizationIsRejected() throws {
        var f = try ModelFile()
        f.patch(f.model.tensorRecord(2) + 16, Int(Float(0).bitPattern))
        XCTAssertModelError(f.load(), .invalidTensor(index: 2, reason: .badQuantization))
        f.patch(f.model.tensorRecord(2) + 16, Int(Float.nan.bitPattern))
        XCTAssertModelError(f.load(), .invalidTensor(index: 2, reason: .badQuantization))
    }

    func testAddZeroPointsMustMatchItsTensors() throws {
        var f = try ModelFile()
        f.patch(f.parameter(op: 4, 0), 0)
        XCTAssertModelError(f.load(), .invalidOp(index: 4, reason: .quantizationMismatch(tensor: 4)))
    }

    func testTensorBeyondTheArenaIsRejected() throws {
        var f = try ModelFile()
        let size = f.model.arenaSize
        f.patch(f.arenaOffsetSlot(tensor: 6), size - 4)
        XCTAssertModelError(f.load(), .arenaOutOfBounds(buffer: .tensor(6), offset: size - 4, length: 8, arenaSize: size))
    }

    func testBuffersAliveTogetherMustNotOverlap() throws {
        var f = try ModelFile()
        // t1 (conv1 output) and t2 (dw output) are both alive at step 1.
        f.patch(f.arenaOffsetSlot(tensor: 2), f.model.arenaOffset(1) + 8)
        XCTAssertModelError(f.load(), .overlappingBuffers(first: 1, second: 2, step: 1))
    }

    func testInPlaceLookupTableAndAddAreAccepted() throws {
        var f = try ModelFile()
        // t4 = lut(t3) over t3's bytes, t5 = add(t4, t2) over t4's bytes.
        f.set(f.arenaOffsetSlot(tensor: 4), f.model.arenaOffset(3))
        f.set(f.arenaOffsetSlot(tensor: 5), f.model.arenaOffset(3))
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertNoThrow(try f.load().get())
        // The same aliasing for the second input of the add is not in place.
        f.set(f.arenaOffsetSlot(tensor: 5), f.model.arenaOffset(2))
        ModelWriter.sealChecksum(&f.bytes)
        XCTAssertModelError(f.load(), .overlappingBuffers(first: 2, second: 5, step: 4))
    }

    func testModelOutputMustBeAnArenaTensor() throws {
        var f = try ModelFile()
        let io = f.model.ioSection
        f.patch(io + 12, 42)
        XCTAssertModelError(f.load(), .invalidIO(isInput: false, position: 0, tensor: 42))
    }
}
