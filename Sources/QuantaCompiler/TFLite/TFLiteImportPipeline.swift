import Foundation
import QuantaKernels
import QuantaRuntime

/// What `quanta import` reports.
public struct TFLiteImportSummary: Codable, Equatable {
    public var model: String
    public var opsByKind: [String: Int]
    public var macs: Int
    public var int8WeightBytes: Int
    public var modelFileBytes: Int
    public var arenaBytes: Int
    public var naiveLowerBound: Int
    public var seconds: Double

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public func text() -> String {
        let ops = opsByKind.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        return [
            "model      \(model)",
            "ops        \(opsByKind.values.reduce(0, +)): \(ops)",
            "MACs       \(formatCount(macs))",
            "weights    \(formatBytes(int8WeightBytes)) int8 (incl. int32 bias and multipliers)",
            "file       \(formatBytes(modelFileBytes))",
            "arena      \(formatBytes(arenaBytes)) (naive lower bound of whole tensors: \(formatBytes(naiveLowerBound)))",
            "imported   in " + String(format: "%.3f s", seconds) + " (TFLite's scales and zero points; no calibration)",
        ].joined(separator: "\n")
    }
}

/// `.tflite` → `QuantizedModel` → plan → `.qmodel`, checked by loading it in the runtime.
public enum TFLiteImportPipeline {
    public static func run(
        tflitePath: String, outputPath: String, kernels: KernelSelection = .fast,
        memoryPasses: MemoryPassOptions = MemoryPassOptions(), extraOutputs: [String] = []
    ) throws -> (summary: TFLiteImportSummary, model: QuantizedModel, bytes: [UInt8]) {
        let start = Date()
        let model = try TFLiteImporter.importModel(path: tflitePath, extraOutputs: extraOutputs)
        let bytes = try ModelWriter(kernels: kernels, memoryPasses: memoryPasses).write(model)
        let session = try QuantizedSession(bytes: bytes, source: outputPath)
        try FileIO.writeAtomically(bytes, to: outputPath)
        let stats = ModelStatistics(model)
        let summary = TFLiteImportSummary(
            model: tflitePath, opsByKind: stats.opsByKind, macs: stats.macs, int8WeightBytes: stats.int8WeightBytes,
            modelFileBytes: bytes.count, arenaBytes: session.model.arenaSize,
            naiveLowerBound: NaivePlan.lowerBound(model: session.model), seconds: Date().timeIntervalSince(start))
        return (summary, model, bytes)
    }
}
