import QuantaKernels
import QuantaRuntime

/// One line in words for each runtime `ModelError`, shared by the host tools
/// (`QuantizedSession`'s errors) and the Embedded runner (Targets/runner compiles this file
/// into its module), so that a new error case is described in one place. Embedded-clean:
/// no Foundation, no reflection (Embedded Swift has none, so every case is spelled out;
/// nested reasons print their case and payload). Kept out of QuantaRuntime so that the
/// runtime library itself carries no message text.
public enum ModelErrorMessage {
    public static func describe(_ e: ModelError) -> String { describeModelError(e) }
}

func describeModelError(_ e: ModelError) -> String {
    switch e {
    case .truncated(let needed, let fileSize):
        return "file truncated: needs \(needed) bytes, has \(fileSize)"
    case .badMagic(let found):
        return "not a .qmodel file (magic 0x\(hex(UInt64(found), digits: 8)), expected \"QMDL\")"
    case .unsupportedVersion(let found, let supported):
        return "format version \(found) is not supported (this runner reads version \(supported))"
    case .sizeMismatch(let stated, let actual):
        return "header states \(stated) bytes but the file has \(actual)"
    case .checksumMismatch(let stored, let computed):
        return "checksum mismatch (stored 0x\(hex(stored, digits: 16)), computed 0x\(hex(computed, digits: 16))): file corrupted"
    case .misalignedBuffer(let address, let required):
        return "buffer at 0x\(hex(UInt64(address), digits: 1)) is not \(required)-byte aligned"
    case .invalidHeader(let field, let value):
        return "invalid header field \(name(field)) = \(value)"
    case .offsetOutOfBounds(let section, let offset, let length, let fileSize):
        return "\(name(section)) region \(offset) ..< \(offset + length) is outside its \(fileSize) bytes"
    case .misaligned(let section, let offset):
        return "\(name(section)) data at offset \(offset) is not 16-byte aligned"
    case .invalidCount(let section, let found, let expected):
        return "\(name(section)): count \(found), expected \(expected)"
    case .invalidTensor(let index, let reason):
        return "tensor \(index): \(describe(reason))"
    case .invalidOp(let index, let reason):
        return "op \(index): \(describe(reason))"
    case .invalidIO(let isInput, let position, let tensor):
        return "\(isInput ? "input" : "output") \(position) refers to tensor \(tensor), which is not an arena tensor"
    case .arenaOutOfBounds(let buffer, let offset, let length, let arenaSize):
        return "\(name(buffer)) at arena offset \(offset) (\(length) bytes) exceeds the arena (\(arenaSize) bytes)"
    case .overlappingBuffers(let first, let second, let step):
        return "arena buffers \(first) and \(second) overlap while both are alive at step \(step)"
    case .invalidLowerBound(let lowerBound, let arenaSize):
        return "arena lower bound \(lowerBound) exceeds the arena size \(arenaSize)"
    case .arenaTooSmall(let needed, let provided):
        return "arena of \(provided) bytes is too small: the model's plan needs \(needed)"
    case .invalidName(let index):
        return "name \(index) is invalid"
    }
}

func describe(_ p: TensorProblem) -> String {
    switch p {
    case .unknownElementType(let b): return "unknown element type \(b)"
    case .unknownStorage(let b): return "unknown storage \(b)"
    case .unknownLayout(let b): return "unknown layout \(b)"
    case .badShape(let n, let h, let w, let c): return "bad shape \(n)x\(h)x\(w)x\(c)"
    case .badQuantization: return "bad quantization (scale not finite and positive, or zero point outside -128...127)"
    case .badConstant(let offset, let length): return "constant data \(offset) ..< \(offset + length) is out of bounds or misaligned"
    case .missingArenaOffset: return "arena tensor without an arena offset"
    }
}

func describe(_ p: OpProblem) -> String {
    switch p {
    case .unknownKind(let b): return "unknown op kind \(b)"
    case .unsupportedVariant(let b): return "unsupported kernel variant \(b)"
    case .recordOutOfBounds(let offset): return "record at \(offset) is out of bounds"
    case .wrongInputCount(let found, let expected): return "\(found) inputs, expected \(expected)"
    case .wrongOutputCount(let found, let expected): return "\(found) outputs, expected \(expected)"
    case .wrongParameterCount(let found, let expected): return "\(found) parameters, expected \(expected)"
    case .tensorIndexOutOfRange(let t): return "tensor index \(t) out of range"
    case .outputNotInArena(let t): return "output tensor \(t) is not in the arena"
    case .shapeMismatch(let t, let expected, let found):
        return "tensor \(t) has shape \(shapeText(found)), expected \(shapeText(expected))"
    case .invalidParameter(let parameter, let value): return "invalid parameter \(name(parameter)) = \(value)"
    case .badConstant(let constant, let offset, let length, let expectedLength):
        return "\(name(constant)) at \(offset) has \(length) bytes, expected \(expectedLength) (or out of bounds/misaligned)"
    case .quantizationMismatch(let t): return "quantization of tensor \(t) does not match the op's"
    case .accumulatorRange(let terms): return "a reduction of \(terms) terms could overflow the 32-bit accumulator"
    case .scratchTooSmall(let needed, let found):
        return "its kernel needs \(needed) bytes of scratch, the plan gives \(found)"
    case .notRunnableInPlace: return "a depthwise-in-place op whose geometry changes the shape"
    case .scratchLayoutMismatch(let word, let found, let expected):
        return "fused block word \(word) records \(found), its geometry gives \(expected)"
    case .weightPairOutOfRange(let channel):
        return "uint8 GEMM packed weights of output channel \(channel) have a pair with |w0| + |w1| above 128"
    case .weightOutOfRange(let channel):
        return "GEMM packed weights of output channel \(channel) hold -128 (int8 weights must be in -127...127)"
    }
}

func shapeText(_ s: TensorShape) -> String { "\(s.n)x\(s.h)x\(s.w)x\(s.c)" }

func name(_ f: HeaderField) -> String {
    switch f {
    case .headerSize: return "headerSize"
    case .sectionCount: return "sectionCount"
    case .flags: return "flags"
    }
}

func name(_ s: ModelSection) -> String {
    switch s {
    case .header: return "header"
    case .tensors: return "tensors section"
    case .ops: return "ops section"
    case .constants: return "constants section"
    case .arena: return "arena section"
    case .io: return "io section"
    case .names: return "names section"
    }
}

func name(_ b: ArenaBuffer) -> String {
    switch b {
    case .tensor(let t): return "tensor \(t)"
    case .scratch(let s): return "scratch buffer \(s)"
    }
}

func name(_ p: OpParameter) -> String {
    switch p {
    case .stride: return "stride"
    case .dilation: return "dilation"
    case .padding: return "padding"
    case .outputPadding: return "outputPadding"
    case .groups: return "groups"
    case .filter: return "filter"
    case .clamp: return "clamp"
    case .zeroPoint: return "zeroPoint"
    case .multiplier: return "multiplier"
    case .shift: return "shift"
    case .leftShift: return "leftShift"
    case .count: return "count"
    case .start: return "start"
    case .channels: return "channels"
    case .kernel: return "kernel"
    case .padValue: return "padValue"
    case .scratch: return "scratch"
    case .padMode: return "pad mode"
    case .factor: return "factor"
    case .view: return "strided view"
    }
}

func name(_ c: OpConstant) -> String {
    switch c {
    case .weights: return "weights"
    case .bias: return "bias"
    case .multipliers: return "multipliers"
    case .shifts: return "shifts"
    case .table: return "table"
    case .packedWeights: return "packed weights"
    case .resizeTable: return "resize table"
    }
}

/// Lower-case hexadecimal, zero-padded to `digits`.
func hex(_ v: UInt64, digits: Int) -> String {
    let symbols: [UInt8] = Array("0123456789abcdef".utf8)
    var bytes: [UInt8] = []
    var x = v
    repeat {
        bytes.append(symbols[Int(x & 15)])
        x >>= 4
    } while x != 0
    while bytes.count < digits { bytes.append(0x30) }
    return String(decoding: bytes.reversed(), as: UTF8.self)
}
