import Foundation
import QuantaDiagnostics
import QuantaKernels
import QuantaRuntime

/// Why a `QuantizedModel` could not be written.
public enum ModelWriterError: Error, Equatable, CustomStringConvertible {
    case tensorIndexOutOfRange(op: String, index: Int)
    case outputIsConstant(op: String, tensor: String)
    case tooManyOperands(op: String, count: Int)
    case valueOutOfRange(what: String, value: Int)
    /// The written bytes failed the runtime's validation: a bug in the model (shapes,
    /// parameters) that the writer does not check itself.
    case validationFailed(ModelError)

    public var description: String {
        switch self {
        case .tensorIndexOutOfRange(let op, let index): return "op '\(op)': tensor index \(index) out of range"
        case .outputIsConstant(let op, let tensor): return "op '\(op)': output '\(tensor)' is a constant tensor"
        case .tooManyOperands(let op, let count): return "op '\(op)': \(count) operands (at most 255)"
        case .valueOutOfRange(let what, let value): return "\(what) = \(value) does not fit in 32 bits"
        case .validationFailed(let error): return "written model fails validation: \(ModelErrorMessage.describe(error))"
        }
    }
}

/// Which int8 convolution kernels a written model runs (`quanta quantize --kernels`).
public enum KernelSelection: String, Equatable, Sendable, CaseIterable {
    /// `KernelVariant.choose` per convolution: packed weights in the file, scratch in the
    /// arena. Bit-identical to `.reference`.
    case fast
    /// `Int8Reference` everywhere: OHWI weights, no scratch (for comparison).
    case reference
}

/// The arena plan of a model: one buffer request per arena tensor and per scratch buffer,
/// and the planner's placement.
public struct ModelArenaPlan {
    /// Request index of each tensor (nil for constant tensors).
    public var tensorRequest: [Int?]
    /// Request index of each op's scratch buffer (nil when the op needs none).
    public var scratchRequest: [Int?]
    public var requests: [BufferRequest]
    public var plan: ArenaPlan
}

/// Writes a `QuantizedModel` as a `.qmodel` file (format: docs/FORMAT.md):
/// lifetimes → buffer requests (with in-place hints) → `MemoryPlanner.plan` → bytes,
/// then reads the bytes back with the runtime's validation.
public struct ModelWriter {
    /// Store tensor and op names (for reports); off for the smallest file.
    public var includeNames: Bool
    /// Which convolution kernels the plan names.
    public var kernels: KernelSelection
    /// Block fusion and depthwise in place (`MemoryPasses`) before planning; `.none` writes
    /// the model's ops as they are (`quanta quantize --no-fuse`).
    public var memoryPasses: MemoryPassOptions

    public init(includeNames: Bool = true, kernels: KernelSelection = .fast, memoryPasses: MemoryPassOptions = MemoryPassOptions()) {
        self.includeNames = includeNames
        self.kernels = kernels
        self.memoryPasses = memoryPasses
    }

    // MARK: Lifetimes and arena plan

    /// First and last step of each tensor: from its producer (step 0 for model inputs
    /// and tensors nothing writes) to its last reader (the last op for model outputs).
    /// Constant tensors get nil.
    public static func lifetimes(_ model: QuantizedModel) -> [(first: Int, last: Int)?] {
        let lastStep = max(0, model.ops.count - 1)
        var first = [Int?](repeating: nil, count: model.tensors.count)
        var last = [Int](repeating: -1, count: model.tensors.count)
        for (i, op) in model.ops.enumerated() {
            for o in op.outputs where first[o] == nil { first[o] = i }
            for t in op.inputs { last[t] = max(last[t], i) }
        }
        for t in model.inputs { first[t] = 0 }
        for t in model.outputs { last[t] = lastStep }
        return model.tensors.indices.map { t in
            if model.tensors[t].data != nil { return nil }
            let f = first[t] ?? 0
            return (f, max(f, last[t]))
        }
    }

    /// Scratch bytes op `op` needs with its kernel variant (the reference kernels need none).
    public static func scratchSize(_ op: QuantizedOp, variant: KernelVariant, in model: QuantizedModel) -> Int {
        if let memory = MemoryPasses.scratchSize(op, in: model) { return memory }
        if variant == .pointwise, case let .fullyConnected(outputCount, inputCount, _, _, _) = op.kind {
            let batch = model.tensors[op.inputs[0]].shape.n
            return KernelVariant.fullyConnectedByteCounts(inputCount: inputCount, outputCount: outputCount, batch: batch)?.scratch ?? 0
        }
        guard variant != .reference, case let .conv2D(parameters, filter, _, _, _) = op.kind else { return 0 }
        return variant.scratchBytes(
            inputShape: model.tensors[op.inputs[0]].shape, filter: filter, parameters: parameters)
    }

    /// The kernel variant chosen for `op`, once, at write time: with `.fast`,
    /// `KernelVariant.choose` for convolutions (a `.pointwise` one upgraded to `.pointwiseU8`
    /// when `model.pairBoundedWeights` and its weights' pairs fit), `.pointwise` (one GEMM) for fully
    /// connected layers, `.elementwise` for adds of same-shape operands, muls of same-shape
    /// operands or a per-channel gate, and global average pooling; `.reference` otherwise.
    public static func variant(_ op: QuantizedOp, in model: QuantizedModel, kernels: KernelSelection = .fast) -> KernelVariant {
        if kernels == .fast, case .add(let q) = op.kind, q.input2Multiplier >= 0, op.inputs.count == 2,
            op.inputs.allSatisfy({ $0 >= 0 && $0 < model.tensors.count }),
            model.tensors[op.inputs[0]].shape == model.tensors[op.inputs[1]].shape
        {
            return .elementwise
        }
        if kernels == .fast, case .globalAveragePool = op.kind { return .elementwise }
        if kernels == .fast, case .mul = op.kind, op.inputs.count == 2,
            op.inputs.allSatisfy({ $0 >= 0 && $0 < model.tensors.count }),
            VectorMul.applies(shape1: model.tensors[op.inputs[0]].shape, shape2: model.tensors[op.inputs[1]].shape)
        {
            return .elementwise
        }
        if case .softmaxFloatTable = op.kind { return .floatTable }
        if case .logSoftmax = op.kind { return .logFloatTable }
        // LiteRT's double requantization is the layer's arithmetic, whatever the kernels.
        if case let .fullyConnected(outputCount, _, _, _, r) = op.kind, r.doubleScales?.count == outputCount {
            return .doubleScaled
        }
        if kernels == .fast, case let .fullyConnected(outputCount, inputCount, weights, bias, _) = op.kind,
            weights.count == outputCount * inputCount, bias.isEmpty || bias.count == outputCount,
            !weights.contains(-128),  // the GEMM's weights are -127...127 (the loader checks)
            KernelVariant.fullyConnectedByteCounts(inputCount: inputCount, outputCount: outputCount) != nil
        {
            return .pointwise
        }
        // Inconsistent constants stay with the reference, whose validation names them.
        // A depthwise-in-place op takes the depthwise variants only (they need no scratch).
        if kernels == .fast, case let .depthwiseConv2DInPlace(parameters, filter, weights, bias, r) = op.kind {
            let chosen = variant(QuantizedOp(name: op.name, kind: .conv2D(parameters: parameters, filter: filter, weights: weights, bias: bias, requantization: r), inputs: op.inputs, outputs: op.outputs), in: model, kernels: kernels)
            return chosen == .depthwise || chosen == .depthwise3x3 ? chosen : .reference
        }
        guard kernels == .fast, case let .conv2D(parameters, filter, weights, bias, _) = op.kind,
            weights.count == filter.elementCount, bias.isEmpty || bias.count == filter.outputChannels,
            let input = op.inputs.first, input >= 0, input < model.tensors.count
        else { return .reference }
        let tensor = model.tensors[input]
        let variant = KernelVariant.choose(
            inputShape: tensor.shape, filter: filter, parameters: parameters, inputZeroPoint: tensor.quantization.zeroPoint)
        return variant.fitted(toWeights: weights, filter: filter, pairBoundedWeights: model.pairBoundedWeights)
    }

    /// Buffer requests and their placement. An op's output may take over its first
    /// input's bytes when the input dies at that op and the op works in place: lookup
    /// tables, reshapes, adds and muls (first input only, not also the second), depthwise-in-place
    /// ops and fused blocks whose rows allow it (`MemoryPasses`).
    /// Each op's scratch is a request alive during that op only. Ops in `forcedVariants` run
    /// that variant whatever `kernels` says (`MemoryPasses` picks them where an optimized
    /// variant's scratch would raise the peak: `.directGEMM` or `.reference`).
    public static func planArena(
        _ model: QuantizedModel, kernels: KernelSelection = .fast, forcedVariants: [Int: KernelVariant] = [:]
    ) -> ModelArenaPlan {
        let lifetimes = lifetimes(model)
        var requests: [BufferRequest] = []
        var tensorRequest = [Int?](repeating: nil, count: model.tensors.count)
        let outputs = Set(model.outputs)
        var producer = [Int?](repeating: nil, count: model.tensors.count)
        for (i, op) in model.ops.enumerated() { for o in op.outputs where producer[o] == nil { producer[o] = i } }

        for (t, tensor) in model.tensors.enumerated() {
            guard let life = lifetimes[t] else { continue }
            var reuse: Int? = nil
            if let p = producer[t], !model.inputs.contains(t) {
                let op = model.ops[p]
                if let source = op.inputs.first, source != t, !outputs.contains(source),
                    let sourceRequest = tensorRequest[source], let sourceLife = lifetimes[source],
                    sourceLife.last == p, Self.worksInPlace(op),
                    model.tensors[source].shape.elementCount == tensor.shape.elementCount
                        || MemoryPasses.mayShrinkInPlace(op)
                {
                    reuse = sourceRequest
                }
            }
            tensorRequest[t] = requests.count
            requests.append(
                BufferRequest(
                    size: tensor.shape.elementCount, firstStep: life.first, lastStep: life.last, alignment: 16,
                    mayReuse: reuse))
        }
        var scratchRequest = [Int?](repeating: nil, count: model.ops.count)
        for (i, op) in model.ops.enumerated() {
            let chosen = forcedVariants[i] ?? variant(op, in: model, kernels: kernels)
            let size = scratchSize(op, variant: chosen, in: model)
            guard size > 0 else { continue }
            scratchRequest[i] = requests.count
            requests.append(BufferRequest(size: size, firstStep: i, lastStep: i, alignment: 16))
        }
        return ModelArenaPlan(
            tensorRequest: tensorRequest, scratchRequest: scratchRequest, requests: requests,
            plan: MemoryPlanner.plan(requests))
    }

    static func worksInPlace(_ op: QuantizedOp) -> Bool {
        switch op.kind {
        case .lookupTable, .reshape: return true
        case .add, .mul: return op.inputs.count == 2 && op.inputs[0] != op.inputs[1]
        case .depthwiseConv2DInPlace: return true
        case .invertedResidual(let block): return block.geometry.canRunInPlace
        default: return false
        }
    }

    // MARK: Bytes

    /// The `.qmodel` bytes of `source` after the memory passes, validated by `QuantaRuntime.Model`.
    public func write(_ source: QuantizedModel) throws -> [UInt8] {
        let passes = MemoryPasses.apply(source, options: memoryPasses, kernels: kernels)
        let model = passes.model
        let arena = Self.planArena(model, kernels: kernels, forcedVariants: passes.forcedVariants)
        var out = ByteWriter()
        var constants = ByteWriter()

        // Constant tensors go first in the constants section.
        var constantTensorOffset = [Int](repeating: 0, count: model.tensors.count)
        for (t, tensor) in model.tensors.enumerated() {
            if let data = tensor.data { constantTensorOffset[t] = constants.appendConstant(data.map { UInt8(bitPattern: $0) }) }
        }

        // Ops (constants appended as they are met).
        var encoded: [(kind: OpKind, parameters: [Int])] = []
        var variants: [KernelVariant] = []
        for op in model.ops {
            for t in op.inputs + op.outputs where t < 0 || t >= model.tensors.count {
                throw ModelWriterError.tensorIndexOutOfRange(op: op.name, index: t)
            }
            for o in op.outputs where model.tensors[o].data != nil {
                throw ModelWriterError.outputIsConstant(op: op.name, tensor: model.tensors[o].name)
            }
            guard op.inputs.count <= 255, op.outputs.count <= 255 else {
                throw ModelWriterError.tooManyOperands(op: op.name, count: op.inputs.count + op.outputs.count)
            }
            let variant = passes.forcedVariants[encoded.count] ?? Self.variant(op, in: model, kernels: kernels)
            variants.append(variant)
            let input = op.inputs.first.map { model.tensors[$0] }
            encoded.append(try Self.encode(
                op.kind, variant: variant, inputShape: input?.shape ?? TensorShape(h: 1, w: 1, c: 1),
                inputZeroPoint: input?.quantization.zeroPoint ?? 0, constants: &constants))
        }

        // Header placeholder.
        out.zeros(ModelFormat.headerSize)
        var directory: [(offset: Int, length: Int)] = []

        // Tensors.
        var start = out.count
        out.u32(model.tensors.count)
        out.u32(0)
        for (t, tensor) in model.tensors.enumerated() {
            let s = tensor.shape
            for d in [s.n, s.h, s.w, s.c] { try out.i32(d, "dimension of \(tensor.name)") }
            out.f32(tensor.quantization.scale)
            try out.i32(Int(tensor.quantization.zeroPoint), "zero point")
            out.u8(0)
            out.u8(tensor.data == nil ? TensorStorage.arena.rawValue : TensorStorage.constant.rawValue)
            out.u8(Self.layout(tensor.sourceLayout).rawValue)
            out.u8(0)
            try out.i32(tensor.data == nil ? 0 : constantTensorOffset[t], "constant offset")
        }
        directory.append((start, out.count - start))
        out.align(ModelFormat.alignment)

        // Ops: count, reserved, record offset table, records.
        start = out.count
        var scratchIndex = [Int?](repeating: nil, count: model.ops.count)
        var scratchCount = 0
        for i in model.ops.indices where arena.scratchRequest[i] != nil {
            scratchIndex[i] = scratchCount
            scratchCount += 1
        }
        var body = ByteWriter()
        var recordOffsets: [Int] = []
        let tableSize = 8 + 4 * model.ops.count
        for (i, op) in model.ops.enumerated() {
            recordOffsets.append(tableSize + body.count)
            body.u8(encoded[i].kind.rawValue)
            body.u8(variants[i].rawValue)
            body.u8(UInt8(op.inputs.count))
            body.u8(UInt8(op.outputs.count))
            try body.i32(scratchIndex[i] ?? -1, "scratch index")
            body.u32(encoded[i].parameters.count)
            for t in op.inputs + op.outputs { try body.i32(t, "tensor index") }
            for p in encoded[i].parameters { try body.i32(p, "parameter of \(op.name)") }
        }
        out.u32(model.ops.count)
        out.u32(0)
        for o in recordOffsets { try out.i32(o, "op record offset") }
        out.bytes += body.bytes
        directory.append((start, out.count - start))
        out.align(ModelFormat.alignment)

        // Constants.
        start = out.count
        out.bytes += constants.bytes
        directory.append((start, out.count - start))
        out.align(ModelFormat.alignment)

        // Arena plan.
        start = out.count
        try out.i32(arena.plan.arenaSize, "arena size")
        try out.i32(arena.plan.lowerBound, "arena lower bound")
        out.u32(model.tensors.count)
        out.u32(scratchCount)
        for t in model.tensors.indices {
            if let r = arena.tensorRequest[t] { try out.i32(arena.plan.offsets[r], "arena offset") } else { out.u32(ModelFormat.none) }
        }
        for i in model.ops.indices {
            guard let r = arena.scratchRequest[i] else { continue }
            try out.i32(arena.plan.offsets[r], "scratch offset")
            try out.i32(arena.requests[r].size, "scratch size")
        }
        directory.append((start, out.count - start))
        out.align(ModelFormat.alignment)

        // Inputs and outputs.
        start = out.count
        out.u32(model.inputs.count)
        out.u32(model.outputs.count)
        for t in model.inputs + model.outputs { try out.i32(t, "model input/output index") }
        directory.append((start, out.count - start))
        out.align(ModelFormat.alignment)

        // Names.
        start = out.count
        if includeNames {
            let names = model.tensors.map(\.name) + model.ops.map(\.name)
            let utf8 = names.map { Array($0.utf8) }
            out.u32(model.tensors.count)
            out.u32(model.ops.count)
            var offset = 8 + 8 * names.count
            for u in utf8 {
                try out.i32(offset, "name offset")
                try out.i32(u.count, "name length")
                offset += u.count
            }
            for u in utf8 { out.bytes += u }
        }
        directory.append((start, out.count - start))
        out.align(ModelFormat.alignment)

        // Header.
        guard out.count <= Int(Int32.max) else { throw ModelWriterError.valueOutOfRange(what: "file size", value: out.count) }
        out.patchU32(at: 0, ModelFormat.magic)
        out.patchU32(at: 4, ModelFormat.version)
        out.patchU32(at: 8, UInt32(out.count))
        out.patchU32(at: 12, UInt32(ModelFormat.headerSize))
        out.patchU32(at: 24, UInt32(ModelSection.directoryCount))
        out.patchU32(at: 28, 0)
        for (k, entry) in directory.enumerated() {
            out.patchU32(at: ModelFormat.directoryOffset + 8 * k, UInt32(entry.offset))
            out.patchU32(at: ModelFormat.directoryOffset + 8 * k + 4, UInt32(entry.length))
        }
        Self.sealChecksum(&out.bytes)

        if let error = Self.validate(out.bytes) { throw ModelWriterError.validationFailed(error) }
        return out.bytes
    }

    /// Recomputes and stores the checksum of a model file (after any change to its bytes).
    public static func sealChecksum(_ bytes: inout [UInt8]) {
        let sum = bytes.withUnsafeBytes { ModelFormat.checksum($0) }
        for k in 0..<8 { bytes[ModelFormat.checksumOffset + k] = UInt8(truncatingIfNeeded: sum >> (8 * UInt64(k))) }
    }

    /// Runs the runtime's validation over `bytes` (copied to a 16-byte aligned buffer).
    public static func validate(_ bytes: [UInt8]) -> ModelError? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        do {
            _ = try Model(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
            return nil
        } catch {
            return error
        }
    }

    static func layout(_ l: SourceLayout) -> TensorLayout {
        switch l {
        case .nhwc: return .nhwc
        case .nchw: return .nchw
        case .nc: return .nc
        }
    }

    /// The op kind and parameter words of `kind` (layout: docs/FORMAT.md), appending its
    /// constants to `constants`. A convolution with an optimized `variant` stores the
    /// variant's packed weights (folded with `inputZeroPoint`) and an empty OHWI constant.
    static func encode(
        _ kind: QuantizedOpKind, variant: KernelVariant, inputShape: TensorShape, inputZeroPoint: Int32,
        constants: inout ByteWriter
    ) throws -> (OpKind, [Int]) {
        func ref(_ bytes: [UInt8]) -> [Int] {
            let offset = constants.appendConstant(bytes)
            return [offset, bytes.count]
        }
        func ref8(_ values: [Int8]) -> [Int] { ref(values.map { UInt8(bitPattern: $0) }) }
        func ref32(_ values: [Int32]) -> [Int] {
            var b: [UInt8] = []
            b.reserveCapacity(values.count * 4)
            for v in values { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
            return ref(b)
        }
        func pad(_ p: Padding) -> [Int] { [p.top, p.left, p.bottom, p.right] }
        func filter(_ f: FilterShape) -> [Int] { [f.outputChannels, f.kernelH, f.kernelW, f.inputChannelsPerGroup] }
        func requant(_ r: RequantizationConstants) -> [Int] { ref32(r.multipliers) + ref32(r.shifts) }

        switch kind {
        case let .conv2D(p, f, weights, bias, r), let .depthwiseConv2DInPlace(p, f, weights, bias, r):
            var packed: [Int8] = []
            if variant != .reference {
                packed = OptimizedConv2D.packWeights(
                    variant: variant, weights: weights, filter: f, bias: bias.isEmpty ? nil : bias,
                    inputShape: inputShape, inputZeroPoint: inputZeroPoint, parameters: p)
            }
            var opKind = OpKind.conv2D
            if case .depthwiseConv2DInPlace = kind { opKind = .depthwiseConv2DInPlace }
            return (
                opKind,
                [p.strideH, p.strideW, p.dilationH, p.dilationW] + pad(p.padding) + [p.groups] + filter(f)
                    + [Int(r.clampMin), Int(r.clampMax)] + ref8(variant == .reference ? weights : []) + ref32(bias)
                    + requant(r) + ref8(packed)
            )
        case let .transposeConv2D(sh, sw, padding, oph, opw, f, weights, bias, r):
            return (
                .transposeConv2D,
                [sh, sw] + pad(padding) + [oph, opw] + filter(f) + [Int(r.clampMin), Int(r.clampMax)]
                    + ref8(weights) + ref32(bias) + requant(r)
            )
        case let .fullyConnected(outputCount, inputCount, weights, bias, r):
            var packed: [Int8] = []
            if variant == .pointwise, let bytes = KernelVariant.fullyConnectedByteCounts(inputCount: inputCount, outputCount: outputCount) {
                packed = [Int8](repeating: 0, count: bytes.packedWeights)
                packed.withUnsafeMutableBytes { dst in
                    weights.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            PointwiseGEMM.pack(
                                weights: w.baseAddress!, weightRowStride: inputCount, depth: inputCount, columns: outputCount,
                                bias: bias.isEmpty ? nil : b.baseAddress, inputZeroPoint: inputZeroPoint,
                                into: dst.baseAddress!)
                        }
                    }
                }
            }
            if variant == .doubleScaled, let scales = r.doubleScales {
                // One little-endian double per output in the multipliers' place, no shifts.
                var bytes: [UInt8] = []
                for d in scales { withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes += $0 } }
                return (
                    .fullyConnected,
                    [outputCount, inputCount, Int(r.clampMin), Int(r.clampMax)] + ref8(weights) + ref32(bias)
                        + ref(bytes) + ref32([]) + ref8([])
                )
            }
            return (
                .fullyConnected,
                [outputCount, inputCount, Int(r.clampMin), Int(r.clampMax)] + ref8(variant == .reference ? weights : [])
                    + ref32(bias) + requant(r) + ref8(packed)
            )
        case let .add(q):
            return (
                .add,
                [q.input1ZeroPoint, q.input2ZeroPoint, q.outputZeroPoint, q.leftShift, q.input1Multiplier,
                 q.input1Shift, q.input2Multiplier, q.input2Shift, q.outputMultiplier, q.outputShift,
                 q.clampMin, q.clampMax].map { Int($0) }
            )
        case let .mul(q):
            return (
                .mul,
                [q.input1ZeroPoint, q.input2ZeroPoint, q.outputZeroPoint, q.multiplier, q.shift, q.clampMin,
                 q.clampMax].map { Int($0) }
            )
        case let .averagePool(p, lo, hi):
            return (.averagePool, [p.kernelH, p.kernelW, p.strideH, p.strideW] + pad(p.padding) + [Int(lo), Int(hi)])
        case let .maxPool(p, lo, hi):
            return (.maxPool, [p.kernelH, p.kernelW, p.strideH, p.strideW] + pad(p.padding) + [Int(lo), Int(hi)])
        case let .globalAveragePool(m, s):
            return (.globalAveragePool, [Int(m), Int(s)])
        case let .channelShuffle(groups):
            return (.channelShuffle, [groups])
        case .concat:
            return (.concat, [])
        case .interleaveChannels:
            return (.interleaveChannels, [])
        case let .sliceChannels(start, count):
            return (.sliceChannels, [start, count])
        case let .pad(p, value):
            return (.pad, pad(p) + [Int(value)])
        case let .softmax(table):
            return (.softmax, ref32(table))
        case let .softmaxFloatTable(table, scale, zeroPoint):
            return (.softmax, ref32(table.map { Int32(bitPattern: $0.bitPattern) } + [Int32(bitPattern: scale.bitPattern), zeroPoint]))
        case let .logSoftmax(table, inputScale, outputScale, zeroPoint):
            return (.softmax, ref32(table.map { Int32(bitPattern: $0.bitPattern) }
                + [Int32(bitPattern: inputScale.bitPattern), Int32(bitPattern: outputScale.bitPattern), zeroPoint]))
        case let .stridedCopy(view):
            guard let words = view.words else { preconditionFailure("strided view of \(view.normalized.dims.count) axes") }
            return (.stridedCopy, words)
        case let .lookupTable(table):
            return (.lookupTable, ref8(table))
        case .reshape:
            return (.reshape, [])
        case let .invertedResidual(b):
            let g = b.geometry, d = g.depthwise
            func stage(_ s: FusedConvStage) -> [Int] {
                [Int(s.requantization.clampMin), Int(s.requantization.clampMax)]
                    + ref8(s.variant == .reference ? s.weights : []) + ref32(s.bias) + requant(s.requantization)
            }
            func packed(_ s: FusedConvStage, input: TensorShape, zeroPoint: Int32, filter: FilterShape, parameters: Conv2DParameters) -> [Int] {
                guard s.variant != .reference else { return ref8([]) }
                return ref8(OptimizedConv2D.packWeights(
                    variant: s.variant, weights: s.weights, filter: filter, bias: s.bias.isEmpty ? nil : s.bias,
                    inputShape: input, inputZeroPoint: zeroPoint, parameters: parameters))
            }
            let rows = b.stageInputRows
            var add = [Int](repeating: 0, count: 12)
            if let q = b.residual {
                add = [q.input1ZeroPoint, q.input2ZeroPoint, q.outputZeroPoint, q.leftShift, q.input1Multiplier,
                       q.input1Shift, q.input2Multiplier, q.input2Shift, q.outputMultiplier, q.outputShift,
                       q.clampMin, q.clampMax].map { Int($0) }
            }
            let words: [Int] =
                [b.replacedOps.count, g.expandedChannels, g.outputChannels, g.kernelH, g.kernelW,
                 d.strideH, d.strideW, d.dilationH, d.dilationW] + pad(d.padding)
                + [b.residual == nil ? 0 : (b.blockInputFirst ? 1 : 2)]
                + [Int(b.expand.outputZeroPoint), Int(b.depthwise.outputZeroPoint), Int(b.project.outputZeroPoint)]
                + [g.ringRows, g.ringBytes, g.depthwiseRowBytes, g.projectRowBytes]
                + stage(b.expand) + stage(b.depthwise) + stage(b.project) + add
                + [Int(b.expand.variant.rawValue), Int(b.depthwise.variant.rawValue), Int(b.project.variant.rawValue)]
                + packed(b.expand, input: rows.expand, zeroPoint: inputZeroPoint, filter: g.expandFilter, parameters: g.expand)
                + packed(b.depthwise, input: rows.depthwise, zeroPoint: b.expand.outputZeroPoint, filter: g.depthwiseFilter, parameters: g.depthwise)
                + packed(b.project, input: rows.project, zeroPoint: b.depthwise.outputZeroPoint, filter: g.projectFilter, parameters: Conv2DParameters())
                + [b.panelBytes]
                + [g.expandKernelH, g.expandKernelW, g.expand.strideH, g.expand.strideW] + pad(g.expand.padding)
            return (.invertedResidual, words)
        case let .borderPad(p, mode):
            return (.borderPad, pad(p) + [mode.rawValue])
        case let .upsampleNearest(fh, fw):
            return (.upsampleNearest, [fh, fw])
        case let .resizeBilinear(rows, columns):
            return (.resizeBilinear, ref32(rows) + ref32(columns))
        }
    }
}

/// Little-endian byte assembly.
struct ByteWriter {
    var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: Int) { u32(UInt32(truncatingIfNeeded: v)) }
    mutating func i32(_ v: Int, _ what: @autoclosure () -> String) throws {
        guard let w = Int32(exactly: v) else { throw ModelWriterError.valueOutOfRange(what: what(), value: v) }
        u32(UInt32(bitPattern: w))
    }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func zeros(_ n: Int) { bytes += [UInt8](repeating: 0, count: n) }
    mutating func align(_ a: Int) { zeros((a - bytes.count % a) % a) }
    mutating func patchU32(at offset: Int, _ v: UInt32) {
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }
    /// Appends `data` at the next 16-byte boundary and returns its offset.
    mutating func appendConstant(_ data: [UInt8]) -> Int {
        align(ModelFormat.alignment)
        let offset = bytes.count
        bytes += data
        return offset
    }
}

extension KernelVariant {
    /// The variant a layer takes for its OHWI `weights`, `self` being the one its shapes
    /// allow (`choose`):
    /// - `.reference` when a weight is -128: the depthwise and NEON GEMM kernels add raw
    ///   products in int16 pairs, exact only for weights in -127...127 (the quantizer's
    ///   symmetric range; the loader rejects a -128 in GEMM-packed weights);
    /// - in a model quantized with `pairBoundedWeights`, the uint8 × int8 GEMM for a
    ///   `.pointwise` 1×1 layer whose weights fit `PointwiseU8GEMM.pairsFit`
    ///   (`upgradedForWeights`); without the flag (on ARM the int16 GEMM is the fast one),
    ///   `self`.
    /// Shared by the writer's standalone layers and the fused blocks' stages.
    func fitted(toWeights weights: [Int8], filter: FilterShape, pairBoundedWeights: Bool) -> KernelVariant {
        if self != .reference, weights.contains(-128) { return .reference }
        guard pairBoundedWeights, self == .pointwise, weights.count == filter.elementCount else { return self }
        return weights.withUnsafeBufferPointer {
            upgradedForWeights($0.baseAddress!, depth: filter.inputChannelsPerGroup, columns: filter.outputChannels)
        }
    }
}
