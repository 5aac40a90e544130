import QuantaKernels

extension Graph {
    /// The float work of one pass over the graph (one calibration sample, one `quanta
    /// eval` or `quanta run MODEL.onnx` sample): multiply-accumulates of convolutions and
    /// fully connected layers, window elements of pools, the largest operand of every
    /// other op; saturated at `Int.max`, never trapping on any shapes. `heaviest` names the
    /// node with the most. The importer holds it to `ONNXLimits.maxMACsPerSample`.
    public func floatWork() -> (total: Int, heaviest: String) {
        func product(_ values: Int...) -> Int {
            values.reduce(1) { a, b in
                let (p, o) = a.multipliedReportingOverflow(by: max(b, 0))
                return o ? Int.max : p
            }
        }
        var total = 0
        var heaviest = (name: "", work: -1)
        for node in nodes {
            guard let o = node.outputs.first, o >= 0, o < tensors.count else { continue }
            let out = tensors[o].shape
            let outCount = product(out.n, out.h, out.w, out.c)
            let work: Int
            switch node.op {
            case .conv2D(let c): work = product(outCount, c.filter.kernelH, c.filter.kernelW, c.filter.inputChannelsPerGroup)
            case .transposeConv2D(let t): work = product(outCount, t.filter.kernelH, t.filter.kernelW, t.filter.inputChannelsPerGroup)
            case .fullyConnected(let f): work = product(out.n, f.inputCount, f.outputCount)
            case .averagePool(let p, _), .maxPool(let p, _): work = product(outCount, p.kernelH, p.kernelW)
            default:
                let inputs = node.inputs.filter { $0 >= 0 && $0 < tensors.count }.map { tensors[$0].shape }
                work = max(outCount, inputs.map { product($0.n, $0.h, $0.w, $0.c) }.max() ?? 0)
            }
            let (sum, overflow) = total.addingReportingOverflow(work)
            total = overflow ? Int.max : sum
            if work > heaviest.work { heaviest = (node.name, work) }
        }
        return (total, heaviest.name)
    }
}
