import XCTest
@testable import QuantaCompiler

/// The repository root, found from this file's path (Tests/QuantaCompilerTests/…).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

final class ShippedModelTests: XCTestCase {
    func testShippedDigitsModelImportsWithItsOpFamilies() throws {
        let graph = try ONNXImporter.importModel(path: repositoryRoot + "/Models/digits_mobilenet.onnx")
        try graph.validate()
        var kinds = Set<String>()
        for node in graph.nodes { kinds.insert(String(describing: node.op).prefix(while: { $0 != "(" }).description) }
        XCTAssertTrue(kinds.contains("conv2D"))
        XCTAssertTrue(kinds.contains("channelShuffle"))
        XCTAssertEqual(graph.inputs.count, 1)
        XCTAssertEqual(graph.tensors[graph.inputs[0]].sourceLayout, .nchw)
    }
}
