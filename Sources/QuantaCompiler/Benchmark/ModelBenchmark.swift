import Foundation
import QuantaKernels
import QuantaRuntime

/// How long and on what a benchmark runs.
public struct BenchmarkOptions: Equatable {
    /// Timed repetitions, at least 1: whole invokes, then the same count of op-by-op passes.
    public var iterations: Int
    /// Untimed invokes before the timed ones (also before the float runs, at most 1 there).
    public var warmup: Int
    /// Timed float runs; nil: `iterations`.
    public var floatIterations: Int?

    public init(iterations: Int = 20, warmup: Int = 3, floatIterations: Int? = nil) {
        self.iterations = iterations
        self.warmup = warmup
        self.floatIterations = floatIterations
    }
}

/// The data a benchmark feeds the model.
public enum BenchmarkInput: Equatable {
    /// One input of int8 values uniform over -128...127 from `SplitMix64(seed:)`; the float
    /// model gets the same values dequantized with the input's parameters.
    case random(seed: UInt64)
    /// The samples of a float32 `.npy` (model input shape, or a batch), quantized with the
    /// input's parameters; iteration `k` uses sample `k % count`.
    case samples(path: String)
}

/// `quanta bench`: times a `.qmodel` in the int8 runtime, whole and op by op, and
/// optionally its float ONNX source on the float reference kernels.
///
/// Whole-invoke latency is `Interpreter.invoke()` alone (setting the input is outside the
/// timed region), in wall time and in the thread's CPU time. Per-op latency is `Interpreter.invoke(ops: i ..< i + 1)` for each op in
/// plan order over the same data, in a pass that follows each timed whole invoke, so the
/// sum of per-op medians is close to the total median plus the timer calls. On a loaded
/// machine the sum of per-op medians is the lower of the two: each op's median drops the
/// preemptions that land in it, a whole invoke's median keeps those of its whole window.
/// Nothing here asserts speed: it reports it.
public enum ModelBenchmark {
    /// The ONNX file beside `qmodelPath` with the same stem (`m.qmodel` → `m.onnx`), if any.
    public static func siblingONNX(of qmodelPath: String) -> String? {
        let url = URL(fileURLWithPath: qmodelPath)
        let candidate = url.deletingPathExtension().appendingPathExtension("onnx").path
        guard candidate != url.path else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return candidate
    }

    /// Benchmarks the `.qmodel` `bytes` (named `source` in the report and in errors).
    /// With `floatModel`, also times that ONNX model on the float reference kernels; its
    /// input and output must have the int8 model's sizes.
    public static func run(
        bytes: [UInt8], source: String, input: BenchmarkInput, floatModel: String? = nil,
        options: BenchmarkOptions = BenchmarkOptions()
    ) throws -> BenchmarkReport {
        guard options.iterations >= 1, (options.floatIterations ?? 1) >= 1 else { throw BenchmarkError.noIterations }
        let initStart = MonotonicClock.nanoseconds()
        let session = try QuantizedSession(bytes: bytes, source: source)
        let initNanoseconds = MonotonicClock.nanoseconds() - initStart
        let model = session.model
        guard model.inputCount == 1 else { throw BenchmarkError.inputCount(count: model.inputCount) }
        let inputView = session.interpreter.input(0)
        let q = inputView.quantization

        // Inputs: int8 for the runtime, the same data as float (NHWC) for the reference.
        let int8Inputs: [[Int8]]
        let floatInputs: [[Float]]
        let inputName: String
        switch input {
        case .random(let seed):
            var generator = SplitMix64(seed: seed)
            let values = generator.int8(count: inputView.shape.elementCount)
            int8Inputs = [values]
            floatInputs = [values.map { Quantizer.dequantize($0, q) }]
            inputName = "random int8 (seed \(seed))"
        case .samples(let path):
            let set = try SampleSet.load(path: path, shape: inputView.shape, layout: SourceLayout(inputView.sourceLayout))
            floatInputs = set.samples
            int8Inputs = set.samples.map { $0.map { Quantizer.quantize($0, q) } }
            inputName = path + " (\(set.samples.count) sample\(set.samples.count == 1 ? "" : "s"))"
        }

        // Warm-up, then whole invokes.
        let interpreter = session.interpreter
        var warmups: [UInt64] = []
        for k in 0..<options.warmup {
            session.setInput(0, int8: int8Inputs[k % int8Inputs.count])
            let start = MonotonicClock.nanoseconds()
            interpreter.invoke()
            warmups.append(MonotonicClock.nanoseconds() - start)
        }
        // Whole invokes and op-by-op passes alternate, so that both see the same machine
        // conditions (on a shared machine, load changes from second to second).
        let opCount = model.opCount
        var totals: [UInt64] = []
        var totalsCPU: [UInt64] = []
        totals.reserveCapacity(options.iterations)
        totalsCPU.reserveCapacity(options.iterations)
        var perOp = [[UInt64]](repeating: [], count: opCount)
        for i in 0..<opCount { perOp[i].reserveCapacity(options.iterations) }
        for k in 0..<options.iterations {
            let input = int8Inputs[k % int8Inputs.count]
            session.setInput(0, int8: input)
            let startCPU = ThreadCPUClock.nanoseconds()
            let start = MonotonicClock.nanoseconds()
            interpreter.invoke()
            totals.append(MonotonicClock.nanoseconds() - start)
            totalsCPU.append(ThreadCPUClock.nanoseconds() - startCPU)

            session.setInput(0, int8: input)
            for i in 0..<opCount {
                let start = MonotonicClock.nanoseconds()
                interpreter.invoke(ops: i..<(i + 1))
                perOp[i].append(MonotonicClock.nanoseconds() - start)
            }
        }

        let inspection = ModelInspection(model: model)
        var ops: [BenchmarkReport.Op] = []
        for i in 0..<opCount {
            let description = model.op(i)
            let layer = inspection.layers[i]
            let latency = LatencyStatistics(nanoseconds: perOp[i])
            ops.append(BenchmarkReport.Op(
                index: i, name: layer.name, kind: kindName(description), kernel: layer.kernel, macs: layer.macs,
                latency: latency, gmacPerSecond: gmacPerSecond(macs: layer.macs, ms: latency.medianMs)))
        }
        let perOpSum = ops.reduce(0) { $0 + $1.latency.medianMs }
        let kinds = summarize(ops, total: perOpSum)
        let total = LatencyStatistics(nanoseconds: totals)
        let totalCPU = LatencyStatistics(nanoseconds: totalsCPU)

        var floatResult: BenchmarkReport.FloatRun?
        if let floatModel {
            let (latency, cpu) = try timeFloat(
                onnxPath: floatModel, inputs: floatInputs, int8InputElements: inputView.shape.elementCount,
                int8OutputElements: session.interpreter.output(0).shape.elementCount, options: options)
            floatResult = BenchmarkReport.FloatRun(
                model: floatModel, latency: latency, cpu: cpu,
                int8OverFloat: cpu.medianMs > 0 ? totalCPU.medianMs / cpu.medianMs : 0)
        }

        return BenchmarkReport(
            model: source, input: inputName, iterations: options.iterations, warmup: options.warmup,
            opCount: opCount, macs: inspection.macs, fileBytes: inspection.fileBytes,
            arenaBytes: inspection.arenaBytes, arenaLowerBound: inspection.arenaLowerBound,
            total: BenchmarkLatency(
                latency: total, cpu: totalCPU, gmacPerSecond: gmacPerSecond(macs: inspection.macs, ms: totalCPU.medianMs)),
            perOpMedianSumMs: perOpSum, ops: ops, kinds: kinds, float: floatResult,
            runs: BenchmarkReport.Runs(
                initMicros: Double(initNanoseconds) / 1000, warmupMicros: warmups.map { Double($0) / 1000 },
                invokeMicros: totals.map { Double($0) / 1000 },
                kindMeanMs: kinds.map { kind in
                    var sum = 0.0
                    for i in 0..<opCount where ops[i].kind == kind.kind {
                        sum += perOp[i].reduce(0.0) { $0 + Double($1) } / Double(max(1, perOp[i].count)) / 1e6
                    }
                    return sum
                },
                peakResidentBytes: ProcessMemory.peakResidentBytes()))
    }

    /// `conv2D.<variant>` for convolutions (the variant says pointwise, depthwise, …), the
    /// op kind otherwise.
    public static func kindName(_ op: OpDescription) -> String {
        switch op.kind {
        case .conv2D: return "conv2D.\(op.variant)"
        default: return "\(op.kind)"
        }
    }

    static func summarize(_ ops: [BenchmarkReport.Op], total: Double) -> [BenchmarkReport.Kind] {
        var kinds: [BenchmarkReport.Kind] = []
        var index: [String: Int] = [:]
        for op in ops {
            if index[op.kind] == nil {
                index[op.kind] = kinds.count
                kinds.append(BenchmarkReport.Kind(kind: op.kind, count: 0, macs: 0, medianMs: 0, share: 0, gmacPerSecond: nil))
            }
            let k = index[op.kind]!
            kinds[k].count += 1
            kinds[k].macs += op.macs
            kinds[k].medianMs += op.latency.medianMs
        }
        for k in kinds.indices {
            kinds[k].share = total > 0 ? kinds[k].medianMs / total : 0
            kinds[k].gmacPerSecond = gmacPerSecond(macs: kinds[k].macs, ms: kinds[k].medianMs)
        }
        return kinds
    }

    /// Times whole runs of `FloatExecutor` over the imported (and pass-simplified) graph.
    static func timeFloat(
        onnxPath: String, inputs: [[Float]], int8InputElements: Int, int8OutputElements: Int,
        options: BenchmarkOptions
    ) throws -> (wall: LatencyStatistics, cpu: LatencyStatistics) {
        let graph = try QuantizePipeline.importGraph(onnxPath: onnxPath)
        guard graph.inputs.count == 1 else { throw BenchmarkError.inputCount(count: graph.inputs.count) }
        let floatInput = graph.tensors[graph.inputs[0]].shape.elementCount
        guard floatInput == int8InputElements else {
            throw BenchmarkError.floatInputMismatch(onnx: onnxPath, floatElements: floatInput, int8Elements: int8InputElements)
        }
        let floatOutput = graph.tensors[graph.outputs[0]].shape.elementCount
        guard floatOutput == int8OutputElements else {
            throw BenchmarkError.floatOutputMismatch(onnx: onnxPath, floatElements: floatOutput, int8Elements: int8OutputElements)
        }
        let executor = FloatExecutor(graph: graph)
        for k in 0..<min(options.warmup, 1) { _ = try executor.run(inputs: [inputs[k % inputs.count]]) }
        var times: [UInt64] = []
        var cpuTimes: [UInt64] = []
        for k in 0..<(options.floatIterations ?? options.iterations) {
            let startCPU = ThreadCPUClock.nanoseconds()
            let start = MonotonicClock.nanoseconds()
            _ = try executor.run(inputs: [inputs[k % inputs.count]])
            times.append(MonotonicClock.nanoseconds() - start)
            cpuTimes.append(ThreadCPUClock.nanoseconds() - startCPU)
        }
        return (LatencyStatistics(nanoseconds: times), LatencyStatistics(nanoseconds: cpuTimes))
    }
}
