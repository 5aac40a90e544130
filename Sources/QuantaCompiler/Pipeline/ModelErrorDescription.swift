import QuantaKernels
import QuantaRuntime

/// One line in words for each runtime `ModelError` (the runtime itself stays free of
/// string formatting: it must build with Embedded Swift).
public enum ModelErrorDescription {
    public static func describe(_ error: ModelError) -> String {
        switch error {
        case .truncated(let needed, let size): return "truncated: needs \(needed) bytes, the file has \(size)"
        case .badMagic(let found): return "not a .qmodel file (magic 0x\(String(found, radix: 16)))"
        case .unsupportedVersion(let found, let supported): return "format version \(found) is not supported (this runtime reads version \(supported))"
        case .sizeMismatch(let stated, let actual): return "the header states \(stated) bytes, the file has \(actual)"
        case .checksumMismatch(let stored, let computed):
            return "checksum mismatch (stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))): the file is corrupt"
        case .misalignedBuffer(let address, let required): return "model buffer at 0x\(String(address, radix: 16)) is not \(required)-byte aligned"
        case .invalidHeader(let field, let value): return "invalid header field \(field): \(value)"
        case .offsetOutOfBounds(let section, let offset, let length, let fileSize):
            return "\(section) section at offset \(offset), length \(length) lies outside the file (\(fileSize) bytes)"
        case .misaligned(let section, let offset): return "\(section) section at offset \(offset) is misaligned"
        case .invalidCount(let section, let found, let expected): return "\(section) section holds \(found) entries, expected \(expected)"
        case .invalidTensor(let index, let reason): return "tensor \(index): \(reason)"
        case .invalidOp(let index, let reason): return "op \(index): \(reason)"
        case .invalidIO(let isInput, let position, let tensor): return "\(isInput ? "input" : "output") \(position) names invalid tensor \(tensor)"
        case .arenaOutOfBounds(let buffer, let offset, let length, let arenaSize):
            return "\(buffer) at arena offset \(offset), length \(length) exceeds the arena (\(arenaSize) bytes)"
        case .overlappingBuffers(let first, let second, let step): return "arena buffers \(first) and \(second) overlap while both are alive at op \(step)"
        case .invalidLowerBound(let lowerBound, let arenaSize): return "stated lower bound \(lowerBound) exceeds the arena size \(arenaSize)"
        case .arenaTooSmall(let needed, let provided): return "arena too small: the model needs \(needed) bytes, \(provided) provided"
        case .invalidName(let index): return "name \(index) is invalid"
        }
    }
}
