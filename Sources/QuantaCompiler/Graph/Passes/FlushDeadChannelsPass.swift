import QuantaKernels

/// Sets to zero the weights of "dead" output channels of convolutions, transposed
/// convolutions and fully connected layers: channels whose largest weight magnitude is below
/// `relativeThreshold` times the largest weight magnitude of the whole layer.
///
/// Trained models carry such channels (weight decay drives a pruned channel's weights to
/// 1e-34 and its bias to 1e-28; PaddleOCR's PP-OCRv4 detector has them). Their float
/// contribution is nil, but per-channel int8 quantization would give them a weight scale
/// near 1e-36, at which the bias no longer fits in int32. Zeroed, they get weight scale 1
/// and a bias of (nearly) zero in int32 units.
///
/// Changes each affected output by at most `max|w_c| · Σ|x|` (≤ 2^-40 of what the layer's
/// largest weight contributes per input unit); the bias is kept.
public struct FlushDeadChannelsPass: GraphPass {
    public var relativeThreshold: Float

    public init(relativeThreshold: Float = 0x1p-40) { self.relativeThreshold = relativeThreshold }
    public var name: String { "FlushDeadChannels" }

    public func run(on graph: inout Graph) throws -> Bool {
        var changed = false
        for n in graph.nodes.indices {
            switch graph.nodes[n].op {
            case .conv2D(var c):
                if flush(&c.weights, channels: c.filter.outputChannels) {
                    graph.nodes[n].op = .conv2D(c)
                    changed = true
                }
            case .transposeConv2D(var t):
                if flush(&t.weights, channels: t.filter.outputChannels) {
                    graph.nodes[n].op = .transposeConv2D(t)
                    changed = true
                }
            case .fullyConnected(var f):
                if flush(&f.weights, channels: f.outputCount) {
                    graph.nodes[n].op = .fullyConnected(f)
                    changed = true
                }
            default:
                break
            }
        }
        return changed
    }

    /// Zeroes each dead channel of `weights` (`channels` contiguous blocks); true if any
    /// non-zero weight was changed.
    func flush(_ weights: inout [Float], channels: Int) -> Bool {
        guard channels > 0, weights.count % channels == 0, !weights.isEmpty else { return false }
        let per = weights.count / channels
        let layerMax = weights.reduce(Float(0)) { max($0, abs($1)) }
        let threshold = layerMax * relativeThreshold
        var changed = false
        for c in 0..<channels {
            let block = (c * per)..<((c + 1) * per)
            let m = weights[block].reduce(Float(0)) { max($0, abs($1)) }
            if m > 0 && m < threshold {
                for i in block { weights[i] = 0 }
                changed = true
            }
        }
        return changed
    }
}
