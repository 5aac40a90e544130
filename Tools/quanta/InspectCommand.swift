import Foundation
import QuantaCompiler

/// `quanta inspect MODEL.qmodel [--json] [--svg FILE]`
enum InspectCommand: Command {
    static let name = "inspect"
    static let summary = "show a .qmodel's layer plan, arena and memory timeline"
    static let usage = """
        usage: quanta inspect MODEL.qmodel [--json] [--svg FILE]

        Validates the model as the runtime does, then prints the layer plan (op, kernel,
        shapes, MACs, weight bytes, arena offsets), the arena size against the lower bound
        (the largest total of whole tensors alive at one step) and the file size.

        options:
          --json       print the same as JSON
          --svg FILE   also write the memory timeline (ops along x, arena offsets along y)
        """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(argv, valued: ["svg"], booleans: ["json"])
        try args.expectPositionals(max: 1)
        let path = try args.positional(0, "MODEL.qmodel")
        let session = try QuantizedSession(bytes: try FileIO.read(path), source: path)
        let inspection = ModelInspection(model: session.model)
        print(args.flag("json") ? inspection.json() : inspection.table())
        if let svg = args.value("svg") {
            try FileIO.checkOutput(svg, isNot: [("model", path)])
            try FileIO.writeAtomically(inspection.svg(), to: svg)
            if !args.flag("json") { print("wrote \(svg)") }
        }
    }
}
