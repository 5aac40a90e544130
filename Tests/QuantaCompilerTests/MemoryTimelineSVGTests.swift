import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import QuantaCompiler

/// Collects the elements of a parsed document: names, classes, text inside `<title>`.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var titles: [String] = []
    var errors: [Error] = []
    private var inTitle = false
    private var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
        if name == "title" { inTitle = true; text = "" }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if inTitle { text += string } }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "title" { inTitle = false; titles.append(text) }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { errors.append(parseError) }

    /// Well-formed only when no error was reported: on Linux `XMLParser.parse()` returns
    /// true for some malformed documents (libxml2 recovers) and reports only through
    /// `parserError` and the delegate.
    static func parse(_ svg: String) -> (SVGCollector, Bool, Error?) {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        let ok = parser.parse() && parser.parserError == nil && collector.errors.isEmpty
        return (collector, ok, parser.parserError ?? collector.errors.first)
    }
}

final class MemoryTimelineSVGTests: XCTestCase {
    /// A written MobileNetV2-shaped model: its timeline is well-formed, shades one step per
    /// fused block (tooltip names the block), draws the naive bound above the arena, and marks
    /// the in-place outputs (dashed, tooltip names the buffer they overwrite).
    func testTimelineOfAFusedModelShowsFusedStepsNaiveBoundAndInPlaceBuffers() throws {
        let session = try QuantizedSession(bytes: try ModelWriter().write(MobileNetV2Shapes.model(width: 0.3, resolution: 64)))
        let inspection = ModelInspection(model: session.model)
        let (doc, ok, error) = SVGCollector.parse(inspection.svg())
        XCTAssertTrue(ok, String(describing: error))
        let fused = inspection.layers.filter { $0.memory?.hasPrefix("fused") == true }
        XCTAssertGreaterThan(fused.count, 0)
        XCTAssertEqual(doc.elements.filter { $0.attributes["class"] == "fused" }.count, fused.count)
        XCTAssertTrue(doc.titles.contains { $0.hasPrefix("fused block: ") && $0.contains(" + ") })
        let naive = try XCTUnwrap(doc.elements.first { $0.attributes["class"] == "naive-bound" })
        let arena = try XCTUnwrap(doc.elements.first { $0.attributes["class"] == "arena" })
        // y grows downwards: the naive bound (60 KiB) is drawn above the arena (14 KiB).
        XCTAssertLessThan(Double(naive.attributes["y1"] ?? "") ?? .infinity, Double(arena.attributes["y1"] ?? "") ?? -1)
        let inPlace = doc.elements.filter { ($0.attributes["class"] ?? "").contains("inplace") }
        XCTAssertGreaterThan(inPlace.count, 5)
        XCTAssertTrue(doc.titles.contains { $0.contains("in place over") })
    }

    func testSVGIsWellFormedXMLWithOneRectPerBuffer() {
        // The check can fail: an unescaped name is rejected by the parser.
        XCTAssertFalse(SVGCollector.parse("<svg><title>a<b</title></svg>").1)
        XCTAssertFalse(SVGCollector.parse("<svg><rect></svg>").1)
        XCTAssertTrue(SVGCollector.parse("<svg><rect/></svg>").1)
        var rng = TestRandom(seed: 0x5EED_0101)
        for c in 0..<20 {
            let requests = PlannerTestRequests.graph(&rng, alignedSizes: c % 2 == 0)
            let plan = MemoryPlanner.plan(requests)
            let names = requests.indices.map { "t\($0)" }
            let ops = (0...(requests.map(\.lastStep).max() ?? 0)).map { "conv_\($0)" }
            let svg = MemoryTimelineSVG.render(requests: requests, plan: plan, bufferNames: names, opNames: ops)
            let (doc, ok, error) = SVGCollector.parse(svg)
            XCTAssertTrue(ok, "case \(c): \(String(describing: error))")
            let buffers = doc.elements.filter { $0.name == "rect" && ($0.attributes["class"] ?? "").split(separator: " ").contains("buffer") }
            XCTAssertEqual(buffers.count, requests.count, "case \(c)")
            XCTAssertEqual(doc.elements.filter { $0.attributes["class"] == "peak" }.count, plan.lowerBound > 0 ? 1 : 0)
            XCTAssertEqual(doc.elements.filter { $0.attributes["class"] == "lower-bound" }.count, 1)
            XCTAssertEqual(doc.elements.first?.name, "svg")
        }
    }

    func testRectsSitAtTheirStepsAndOffsetsAndNamesAreEscaped() {
        // b0 32 B steps 0-1 at 0, b1 16 B steps 1-2 at 64, b2 48 B steps 2-3 at 0, b3 16 B at 48.
        let requests = [
            BufferRequest(size: 32, firstStep: 0, lastStep: 1),
            BufferRequest(size: 16, firstStep: 1, lastStep: 2),
            BufferRequest(size: 48, firstStep: 2, lastStep: 3),
            BufferRequest(size: 16, firstStep: 0, lastStep: 3),
        ]
        let plan = MemoryPlanner.plan(requests)
        XCTAssertEqual(plan.offsets, [0, 64, 0, 48])
        let svg = MemoryTimelineSVG.render(
            requests: requests, plan: plan, bufferNames: ["a<b", "c&d", "\"e\"", "f'g"],
            opNames: ["conv", "relu", "add", "pool"])
        let (doc, ok, error) = SVGCollector.parse(svg)
        XCTAssertTrue(ok, String(describing: error))
        let rects = doc.elements.filter { $0.name == "rect" && $0.attributes["class"] == "buffer" }
        XCTAssertEqual(rects.count, 4)
        // 4 steps × 100 px from x = 80; 80 bytes over 420 px, offset 0 at y = 456.
        func num(_ r: (name: String, attributes: [String: String]), _ key: String) -> Double { Double(r.attributes[key]!)! }
        XCTAssertEqual(num(rects[1], "x"), 80 + 100, accuracy: 0.01)
        XCTAssertEqual(num(rects[1], "width"), 200, accuracy: 0.01)
        XCTAssertEqual(num(rects[1], "y"), 456 - 80 * 420.0 / 80, accuracy: 0.01)
        XCTAssertEqual(num(rects[1], "height"), 16 * 420.0 / 80, accuracy: 0.01)
        XCTAssertEqual(num(rects[2], "y") + num(rects[2], "height"), 456, accuracy: 0.01)
        XCTAssertTrue(doc.titles.contains("c&d (#1): 16 B at 64..<80, steps 1-2 (relu to add)"), "\(doc.titles)")
        XCTAssertTrue(doc.titles.contains { $0.hasPrefix("a<b (#0)") })
        // The peak is step 2 (80 bytes alive): the shaded column starts there.
        let peak = doc.elements.first { $0.attributes["class"] == "peak" }!
        XCTAssertEqual(num(peak, "x"), 80 + 2 * 100, accuracy: 0.01)
    }

    func testInPlaceBuffersAreMarkedInTheTooltip() {
        let requests = PlannerTestRequests.chain(sizes: [64, 64, 64], inPlace: true)
        let plan = MemoryPlanner.plan(requests)
        let svg = MemoryTimelineSVG.render(requests: requests, plan: plan, bufferNames: ["x", "y", "z"])
        let (doc, ok, _) = SVGCollector.parse(svg)
        XCTAssertTrue(ok)
        XCTAssertEqual(doc.elements.filter { $0.attributes["class"] == "buffer inplace" }.count, 2)
        XCTAssertTrue(doc.titles.contains("z (#2): 64 B at 0..<64, step 1 (op 1), in place over y (#1)"), "\(doc.titles)")
    }
}
