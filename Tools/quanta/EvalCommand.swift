import Foundation
import QuantaCompiler

/// `quanta eval MODEL.onnx MODEL.qmodel --data X.npy [--labels Y.npy] ...`
enum EvalCommand: Command {
    static let name = "eval"
    static let summary = "int8 against float, output and per layer; baselines; HTML report"
    static let usage = """
        usage: quanta eval MODEL.onnx MODEL.qmodel --data X.npy [--labels Y.npy] [options]

        Runs the float reference (MODEL.onnx) and the int8 runtime (MODEL.qmodel) side by
        side on every sample of X.npy and reports, for the outputs and for every
        intermediate tensor, SQNR (dB), cosine similarity and max |error| (int8 dequantized
        against float); for classifiers also top-1 agreement, and top-1 accuracy of each
        with --labels.

        options:
          --data X.npy              float32 samples (N × input shape, model layout) or a folder
          --labels Y.npy            integer class labels, one per sample
          --json                    print JSON instead of the table
          --write-baseline B.json   record the figures as a baseline
          --baseline B.json         compare against a baseline; exit 1 on a regression
          --tolerance-sqnr DB       allowed drop of output SQNR (default 1.0)
          --tolerance-cosine X      allowed drop of output cosine (default 0.002)
          --tolerance-top1 PP       allowed drop of top-1 agreement/accuracy in points (default 1.0)
          --tolerance-layer-sqnr DB allowed drop of each layer's SQNR (default 3.0)
          --report DIR              write DIR/index.html (summary, per-layer SQNR chart, histogram)
          --csv FILE                write the per-layer figures as CSV: SQNR, cosine, mean and
                                    max |error|, both also in steps of the layer's scale, and
                                    the share of float values its int8 grid saturates
          --histogram TENSOR        the tensor whose values the report's histogram shows
                                    (default: the layer with the lowest SQNR)
          --input-shape NAME=DIMS   fix a dynamic input shape (default: from the data's shape)
          --limit N                 use at most N samples (the first N)
          --seed S                  with --limit: N samples chosen from the whole set by a
                                    generator seeded with S (the same subset for the same S)
          --quiet                   no progress bar, and no note when more than 1 % of the
                                    input values lie outside the .qmodel's input range
        """

    static func run(_ argv: [String]) throws {
        let args = try Arguments(
            argv,
            valued: ["data", "labels", "write-baseline", "baseline", "tolerance-sqnr", "tolerance-cosine", "tolerance-top1",
                     "tolerance-layer-sqnr", "report", "histogram", "limit", "seed", "input-shape", "csv"],
            booleans: ["json", "quiet"])
        try args.expectPositionals(max: 2)
        let onnx = try args.positional(0, "MODEL.onnx")
        let qmodel = try args.positional(1, "MODEL.qmodel")
        var inputs: [(role: String, path: String)] = [("float model", onnx), ("int8 model", qmodel)]
        if let data = args.value("data") { inputs.append(("data", data)) }
        if let labels = args.value("labels") { inputs.append(("labels", labels)) }
        // (--write-baseline may name the --baseline file: it is read before, and updating a
        // baseline in place is what the option is for.)
        if let path = args.value("write-baseline") { try FileIO.checkOutput(path, isNot: inputs) }
        if let baseline = args.value("baseline") { inputs.append(("baseline", baseline)) }
        if let dir = args.value("report") { try FileIO.checkOutput(dir + "/index.html", isNot: inputs) }
        if let path = args.value("csv") { try FileIO.checkOutput(path, isNot: inputs) }
        var tolerances = BaselineTolerances()
        func tolerance(_ name: String, _ into: inout Double) throws {
            guard let text = args.value(name) else { return }
            guard let v = Double(text), v >= 0 else { throw CLIError.usage("--\(name) expects a non-negative number, got '\(text)'") }
            into = v
        }
        try tolerance("tolerance-sqnr", &tolerances.outputSQNRDrop)
        try tolerance("tolerance-cosine", &tolerances.outputCosineDrop)
        try tolerance("tolerance-top1", &tolerances.top1Drop)
        try tolerance("tolerance-layer-sqnr", &tolerances.layerSQNRDrop)
        // Read the baseline first: a missing baseline should fail before minutes of work.
        let baseline = try args.value("baseline").map { path in
            let bytes = try FileIO.read(path)
            do { return try EvaluationResult.decode(json: bytes) } catch { throw SourcedError(source: path, underlying: error) }
        }

        let bar = ProgressBar(enabled: !args.flag("quiet") && !args.flag("json"))
        let result = try Evaluator.evaluate(
            onnxPath: onnx, modelPath: qmodel, dataPath: try args.require("data"), labelsPath: args.value("labels"),
            histogramTensor: args.value("histogram"), inputShapes: ONNXInputShapes.resolve(
                onnxPath: onnx, samplePath: try args.require("data"), given: try parseInputShapes(args.value("input-shape"))),
            sampleLimit: try args.int("limit", default: Int.max), sampleSeed: try args.seed("seed"),
            // The histogram (64 float runs more) only where it is shown or written.
            withHistogram: args.value("report") != nil || args.flag("json") || args.value("write-baseline") != nil,
            progress: { bar.update($0, $1, "evaluating") })
        bar.finish()
        print(args.flag("json") ? try result.json() : result.table())
        if let note = result.inputNote, !args.flag("quiet") { FileHandle.standardError.write(Data("quanta: \(note)\n".utf8)) }
        if let path = args.value("write-baseline") {
            try FileIO.writeAtomically(try result.json() + "\n", to: path)
            if !args.flag("json") { print("wrote baseline \(path)") }
        }
        if let path = args.value("csv") {
            try FileIO.writeAtomically(result.csv(), to: path)
            if !args.flag("json") { print("wrote per-layer CSV \(path)") }
        }
        if let dir = args.value("report") {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileIO.writeAtomically(HTMLReport.render(result), to: dir + "/index.html")
            if !args.flag("json") { print("wrote report \(dir)/index.html") }
        }
        if let baseline, let path = args.value("baseline") {
            let regressions = try result.regressions(against: baseline, tolerances: tolerances)
            if regressions.isEmpty {
                print("baseline \(path): no regression")
            } else {
                for r in regressions { print("REGRESSION \(r)") }
                throw CLIError.failed("\(regressions.count) figure(s) regressed against \(path)")
            }
        }
    }
}
