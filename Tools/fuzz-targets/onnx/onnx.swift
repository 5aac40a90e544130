import QuantaCompiler

/// libFuzzer entry: `ONNXImporter.importModel(bytes:)` must return a graph or throw for
/// any bytes — never trap, read out of bounds, leak or hang. A graph it returns must pass
/// `Graph.validate()` (the importer only builds well-formed graphs).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    let graph: Graph
    do {
        graph = try ONNXImporter.importModel(bytes: bytes)
    } catch {
        return 0
    }
    do {
        try graph.validate()
    } catch {
        preconditionFailure("imported graph fails validation: \(error)")
    }
    return 0
}
