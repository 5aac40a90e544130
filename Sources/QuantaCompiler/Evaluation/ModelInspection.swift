import Foundation
import QuantaKernels
import QuantaRuntime

/// What `quanta inspect` shows of a `.qmodel`: the layer plan, the arena against its lower
/// bound, the model size, and the memory timeline.
public struct ModelInspection: Codable, Equatable {
    public struct Layer: Codable, Equatable {
        public var index: Int
        public var name: String
        public var op: String
        public var kernel: String
        public var inputShapes: [[Int]]
        public var outputShape: [Int]
        public var macs: Int
        public var weightBytes: Int
        /// Arena offset of the output (nil when the output is not in the arena).
        public var outputOffset: Int?
        public var scratchOffset: Int?
        public var scratchBytes: Int
        /// Memory notes: "fused N ops, window R rows, stage variants", "in place" (output over input).
        public var memory: String? = nil
    }

    public var fileBytes: Int
    public var arenaBytes: Int
    public var arenaLowerBound: Int
    public var macs: Int
    public var weightBytes: Int
    public var layers: [Layer]

    /// The buffers of the arena plan (tensors, then scratch), for the timeline.
    public var bufferRequests: [BufferRequest] = []
    public var bufferOffsets: [Int] = []
    public var bufferNames: [String] = []

    /// The lower bound of any plan of whole tensors (fused blocks unfolded into their
    /// expand, depthwise, project and add steps, depthwise-in-place ops given a separate
    /// output): `NaivePlan.lowerBound(model:)`.
    public var naiveLowerBound: Int = 0

    enum CodingKeys: String, CodingKey { case fileBytes, arenaBytes, arenaLowerBound, naiveLowerBound, macs, weightBytes, layers }

    public init(model: Model) {
        fileBytes = model.bytes.count
        arenaBytes = model.arenaSize
        arenaLowerBound = model.arenaLowerBound
        layers = []
        var arenaTensors = Set<Int>()
        for i in 0..<model.opCount {
            let op = model.op(i)
            let output = model.tensor(op.outputs[0])
            layers.append(Layer(
                index: i, name: model.hasNames ? model.opName(i) : "op\(i)",
                op: "\(op.kind)", kernel: "\(op.variant)",
                inputShapes: op.inputs.map { ModelInspection.dims(model.tensor($0).shape) },
                outputShape: ModelInspection.dims(output.shape), macs: op.multiplyAccumulates,
                weightBytes: op.weightBytes, outputOffset: output.arenaOffset,
                scratchOffset: op.scratchOffset, scratchBytes: op.scratchSize,
                memory: ModelInspection.memoryNote(model: model, op: i)))
            for t in op.inputs + op.outputs where model.tensor(t).arenaOffset != nil { arenaTensors.insert(t) }
        }
        for k in 0..<model.inputCount { arenaTensors.insert(model.inputTensor(k)) }
        naiveLowerBound = NaivePlan.lowerBound(model: model)
        macs = layers.reduce(0) { $0 + $1.macs }
        weightBytes = layers.reduce(0) { $0 + $1.weightBytes }
        var requestOf: [Int: Int] = [:]
        for t in arenaTensors.sorted() {
            let d = model.tensor(t)
            guard let offset = d.arenaOffset else { continue }
            let life = model.lifetime(t)
            var reuse: Int? = nil
            if life.first < model.opCount, model.op(life.first).outputs[0] == t, ModelInspection.inPlace(model: model, op: life.first),
               let source = model.op(life.first).inputs.first, let k = requestOf[source] {
                reuse = k
            }
            requestOf[t] = bufferRequests.count
            bufferRequests.append(BufferRequest(size: d.byteCount, firstStep: life.first, lastStep: life.last, alignment: 1, mayReuse: reuse))
            bufferOffsets.append(offset)
            bufferNames.append(model.hasNames ? model.tensorName(t) : "tensor \(t)")
        }
        for layer in layers {
            guard let offset = layer.scratchOffset, layer.scratchBytes > 0 else { continue }
            bufferRequests.append(BufferRequest(size: layer.scratchBytes, firstStep: layer.index, lastStep: layer.index, alignment: 1))
            bufferOffsets.append(offset)
            bufferNames.append((layer.memory?.hasPrefix("fused") == true ? "ring and rows of " : "scratch of ") + layer.name)
        }
    }

    static func dims(_ s: TensorShape) -> [Int] { [s.n, s.h, s.w, s.c] }

    /// Whether op `i` writes its output over its first input (same arena offset, an op kind
    /// that allows it: the runtime validated that the input dies there).
    static func inPlace(model: Model, op i: Int) -> Bool {
        let op = model.op(i)
        guard let input = op.inputs.first, let a = model.tensor(input).arenaOffset,
              a == model.tensor(op.outputs[0]).arenaOffset, input != op.outputs[0] else { return false }
        switch op.kind {
        case .lookupTable, .reshape, .add, .mul, .depthwiseConv2DInPlace, .invertedResidual: return true
        default: return false
        }
    }

    static func memoryNote(model: Model, op i: Int) -> String? {
        var notes: [String] = []
        if let (g, _) = model.fusedBlock(i) {
            let variants = model.fusedStageVariants(i).map { "\($0)" }.joined(separator: "/")
            notes.append("fused \(g.hasResidual ? 4 : 3) ops, window \(g.ringRows) rows, \(variants)")
        }
        if inPlace(model: model, op: i) { notes.append("in place") }
        return notes.isEmpty ? nil : notes.joined(separator: ", ")
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The memory timeline: ops along x, arena offsets along y, one rectangle per buffer.
    public func svg() -> String {
        MemoryTimelineSVG.render(
            requests: bufferRequests,
            plan: ArenaPlan(offsets: bufferOffsets, arenaSize: arenaBytes, lowerBound: arenaLowerBound),
            bufferNames: bufferNames, opNames: layers.map(\.name), naiveLowerBound: naiveLowerBound,
            fusedSteps: Set(layers.filter { $0.memory?.hasPrefix("fused") == true }.map(\.index)))
    }

    public func table() -> String {
        func shape(_ d: [Int]) -> String { d.map(String.init).joined(separator: "×") }
        let nameWidth = min(36, max(4, layers.map(\.name.count).max() ?? 4))
        var lines = ["  #  " + "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  op                     kernel      input → output                      MACs   weights   arena offset"]
        for l in layers {
            let name = l.name.count > nameWidth ? "…" + l.name.suffix(nameWidth - 1) : l.name
            let io = l.inputShapes.map(shape).joined(separator: ", ") + " → " + shape(l.outputShape)
            var offset = l.outputOffset.map { "\($0)" } ?? "-"
            if let s = l.scratchOffset, l.scratchBytes > 0 { offset += " (+\(l.scratchBytes) B scratch @\(s))" }
            if let note = l.memory { offset += " [\(note)]" }
            lines.append(
                pad(String(l.index), 3, left: true) + "  " + pad(String(name), nameWidth) + "  " + pad(l.op, 22) + " " + pad(l.kernel, 11)
                    + " " + pad(io, 30) + " " + pad(String(l.macs), 9, left: true) + " " + pad(String(l.weightBytes), 9, left: true) + "   " + offset)
        }
        lines.append("")
        lines.append("ops \(layers.count), MACs \(macs), weights \(weightBytes) B, file \(fileBytes) B")
        let ratio = arenaLowerBound > 0 ? String(format: " (%.2f×)", Double(arenaBytes) / Double(arenaLowerBound)) : ""
        let fused = layers.filter { $0.memory?.hasPrefix("fused") == true }.count
        let naiveRatio = naiveLowerBound > 0 ? String(format: " (%.2f×)", Double(arenaBytes) / Double(naiveLowerBound)) : ""
        lines.append("arena \(arenaBytes) B; naive lower bound of whole tensors \(naiveLowerBound) B\(naiveRatio); lower bound of this plan's buffers \(arenaLowerBound) B\(ratio)")
        if fused > 0 { lines.append("fused inverted-residual blocks: \(fused) (expanded tensors never stored whole)") }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        if s.count >= n { return s }
        let fill = String(repeating: " ", count: n - s.count)
        return left ? fill + s : s + fill
    }
}
