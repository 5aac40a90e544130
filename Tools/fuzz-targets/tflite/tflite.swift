import QuantaCompiler
import QuantaRuntime

/// libFuzzer entry: `TFLiteImporter.importModel(bytes:)` must return a model or throw for
/// any bytes — never trap, read out of bounds, leak or hang. A model it returns is written
/// as a `.qmodel`; the writer may refuse it (a clear error), but a file it writes must load
/// in the runtime and run one inference.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    guard let model = try? TFLiteImporter.importModel(bytes: bytes) else { return 0 }
    // Keep each run small: the runtime's own limits are fuzzed by the qmodel target.
    guard model.tensors.allSatisfy({ $0.shape.elementCount <= 1 << 16 }) else { return 0 }
    guard let written = try? ModelWriter().write(model) else { return 0 }
    do {
        let session = try QuantizedSession(bytes: written, source: "fuzz")
        session.invoke()
    } catch {
        preconditionFailure("a written .qmodel does not load: \(error)")
    }
    return 0
}
