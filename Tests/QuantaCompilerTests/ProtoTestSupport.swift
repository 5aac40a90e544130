import Foundation
import QuantaKernels
@testable import QuantaCompiler

/// A minimal protobuf writer for building test inputs (ONNX models, malformed bytes).
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }

    mutating func int(_ field: Int, _ value: Int64) {
        key(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        fixed32(value.bitPattern)
    }

    mutating func fixed32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func fixed64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }

    mutating func data(_ field: Int, _ payload: [UInt8]) {
        key(field, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: ProtoWriter) { data(field, m.bytes) }

    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var p = ProtoWriter()
        for v in values { p.fixed32(v.bitPattern) }
        data(field, p.bytes)
    }

    mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var p = ProtoWriter()
        for v in values { p.varint(UInt64(bitPattern: v)) }
        data(field, p.bytes)
    }
}

/// Builders of ONNX messages (field numbers of onnx.proto).
enum ONNXBuilder {
    static func tensor(_ name: String, dims: [Int64], floats: [Float], externalData: Bool = false) -> ProtoWriter {
        var t = ProtoWriter()
        t.packedInts(1, dims)
        t.int(2, 1)  // FLOAT
        t.packedFloats(4, floats)
        t.string(8, name)
        if externalData { t.int(14, 1) }
        return t
    }

    static func int64Tensor(_ name: String, _ values: [Int64]) -> ProtoWriter {
        var t = ProtoWriter()
        t.packedInts(1, [Int64(values.count)])
        t.int(2, 7)  // INT64
        t.packedInts(7, values)
        t.string(8, name)
        return t
    }

    enum Attr {
        case int(Int64)
        case ints([Int64])
        case float(Float)
        case string(String)
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", attributes: [(String, Attr)] = []) -> ProtoWriter {
        var n = ProtoWriter()
        for i in inputs { n.string(1, i) }
        for o in outputs { n.string(2, o) }
        if !name.isEmpty { n.string(3, name) }
        n.string(4, op)
        for (key, value) in attributes {
            var a = ProtoWriter()
            a.string(1, key)
            switch value {
            case .int(let v): a.int(3, v); a.int(20, 2)
            case .ints(let v): a.packedInts(8, v); a.int(20, 7)
            case .float(let v): a.float(2, v); a.int(20, 1)
            case .string(let v): a.string(4, v); a.int(20, 3)
            }
            n.message(5, a)
        }
        return n
    }

    enum Dim { case value(Int64), param(String) }

    static func valueInfo(_ name: String, _ dims: [Dim]) -> ProtoWriter {
        var shape = ProtoWriter()
        for d in dims {
            var dim = ProtoWriter()
            switch d {
            case .value(let v): dim.int(1, v)
            case .param(let p): dim.string(2, p)
            }
            shape.message(1, dim)
        }
        var tensorType = ProtoWriter()
        tensorType.int(1, 1)
        tensorType.message(2, shape)
        var type = ProtoWriter()
        type.message(1, tensorType)
        var v = ProtoWriter()
        v.string(1, name)
        v.message(2, type)
        return v
    }

    static func model(opset: Int64 = 13, nodes: [ProtoWriter], initializers: [ProtoWriter], inputs: [ProtoWriter], outputs: [ProtoWriter]) -> [UInt8] {
        var g = ProtoWriter()
        for n in nodes { g.message(1, n) }
        g.string(2, "test")
        for t in initializers { g.message(5, t) }
        for i in inputs { g.message(11, i) }
        for o in outputs { g.message(12, o) }
        var opsetID = ProtoWriter()
        opsetID.string(1, "")
        opsetID.int(2, opset)
        var m = ProtoWriter()
        m.int(1, 8)
        m.string(2, "tests")
        m.message(7, g)
        m.message(8, opsetID)
        return m.bytes
    }
}

/// Deterministic pseudo-random floats in [-1, 1) (LCG), for reproducible tests.
struct ImportTestRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
    }

    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in next() * scale } }
}

/// Largest `|a - b| / max(1, |b|)` over the arrays (infinity when their sizes differ).
func importMaxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let e = abs(x - y) / max(1, abs(y))
        if !(e <= worst) { worst = e.isNaN ? .infinity : e }
    }
    return worst
}
