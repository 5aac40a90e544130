import QuantaCompiler
import QuantaRuntime

/// libFuzzer entry for the whole `quanta quantize` path on one ONNX model: import (with
/// its constant folding and limits), calibration on 2 samples through the float reference
/// kernels, quantization, the memory passes and the writer, then the written `.qmodel`
/// loaded by the runtime and invoked once. Any outcome but a result or a thrown error —
/// a trap, an out-of-bounds access, a leak, a hang — is a finding. Models whose input or
/// float work is large are skipped after import (they are legal; they only cost time):
/// the limits at import are what keeps a hostile file from running for long.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let graph = try? ONNXImporter.importModel(bytes: bytes) else { return 0 }
    guard graph.inputs.count >= 1, graph.floatWork().total <= 1 << 24 else { return 0 }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
    }
    var samples: [[[Float]]] = []
    for _ in 0..<2 {
        var sample: [[Float]] = []
        for input in graph.inputs {
            let count = graph.tensors[input].shape.elementCount
            guard count <= 1 << 20 else { return 0 }
            sample.append((0..<count).map { _ in next() })
        }
        samples.append(sample)
    }
    guard let quantized = try? ModelQuantizer.quantize(graph: graph, calibration: samples),
          let written = try? ModelWriter().write(quantized)
    else { return 0 }
    // The writer validates what it writes; run it once, inside its arena.
    guard let session = try? QuantizedSession(bytes: written) else {
        preconditionFailure("a written model does not load")
    }
    _ = session.run(samples[0])
    return 0
}
