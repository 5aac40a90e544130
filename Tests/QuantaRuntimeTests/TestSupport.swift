import QuantaCompiler
import QuantaKernels
import QuantaRuntime

/// Bytes in a 16-byte aligned allocation (the model reader requires the alignment).
final class AlignedBuffer {
    let raw: UnsafeMutableRawBufferPointer

    init(count: Int, fill: UInt8 = 0) {
        raw = .allocate(byteCount: max(count, 1), alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: fill)
        self.count = count
    }

    convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { raw.copyMemory(from: $0) }
    }

    let count: Int

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[0..<count]) }
    var mutableBytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]) }

    deinit { raw.deallocate() }
}

/// Runs a `QuantizedModel` by calling the kernels directly, one array per tensor: the
/// independent reference for the interpreter.
enum DirectExecutor {
    static func run(_ model: QuantizedModel, inputs: [[Int8]]) -> [[Int8]] {
        var values: [[Int8]] = model.tensors.map { $0.data ?? [Int8](repeating: 0, count: $0.shape.elementCount) }
        for (k, t) in model.inputs.enumerated() { values[t] = inputs[k] }
        for op in model.ops {
            let o = op.outputs[0]
            let i = op.inputs[0]
            let inShape = model.tensors[i].shape
            let outShape = model.tensors[o].shape
            let inZP = model.tensors[i].quantization.zeroPoint
            let outZP = model.tensors[o].quantization.zeroPoint
            var out = [Int8](repeating: 0, count: outShape.elementCount)
            let input = values[i]
            func requant(_ r: RequantizationConstants, _ body: (Requantization) -> Void) {
                r.multipliers.withUnsafeBufferPointer { m in
                    r.shifts.withUnsafeBufferPointer { s in
                        body(Requantization(
                            multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: m.count,
                            outputZeroPoint: outZP, clampMin: r.clampMin, clampMax: r.clampMax))
                    }
                }
            }
            /// The inputs' channels one after the other (`Layout.concatChannels` per input).
            func concatenated(_ inputs: [Int], _ shape: TensorShape) -> [Int8] {
                var joined = [Int8](repeating: 0, count: shape.elementCount)
                var offset = 0
                for t in inputs {
                    let c = model.tensors[t].shape.c
                    Layout.concatChannels(
                        input: values[t], inputChannels: c, output: &joined, outputChannels: shape.c, channelOffset: offset,
                        pixels: shape.n * shape.h * shape.w)
                    offset += c
                }
                return joined
            }
            func withBias(_ bias: [Int32], _ body: (UnsafePointer<Int32>?) -> Void) {
                if bias.isEmpty { body(nil) } else { bias.withUnsafeBufferPointer { body($0.baseAddress!) } }
            }
            switch op.kind {
            case let .conv2D(p, f, w, bias, r), let .depthwiseConv2DInPlace(p, f, w, bias, r):
                requant(r) { rq in withBias(bias) { b in
                    Int8Reference.conv2D(
                        input: input, inputShape: inShape, inputZeroPoint: inZP, weights: w, filter: f, bias: b,
                        output: &out, outputShape: outShape, parameters: p, requantization: rq)
                } }
            case let .transposeConv2D(sh, sw, pad, _, _, f, w, bias, r):
                requant(r) { rq in withBias(bias) { b in
                    Int8Reference.transposeConv2D(
                        input: input, inputShape: inShape, inputZeroPoint: inZP, weights: w, filter: f, bias: b,
                        output: &out, outputShape: outShape, strideH: sh, strideW: sw, dilationH: 1, dilationW: 1,
                        padding: pad, requantization: rq)
                } }
            case let .fullyConnected(oc, ic, w, bias, r):
                requant(r) { rq in withBias(bias) { b in
                    Int8Reference.fullyConnected(
                        input: input, inputZeroPoint: inZP, weights: w, bias: b, output: &out, batches: inShape.n,
                        inputCount: ic, outputCount: oc, requantization: rq)
                } }
            case let .add(q):
                Int8Reference.add(
                    input1: input, shape1: inShape, input2: values[op.inputs[1]], shape2: model.tensors[op.inputs[1]].shape,
                    output: &out, outputShape: outShape, quantization: q)
            case let .mul(q):
                Int8Reference.mul(
                    input1: input, shape1: inShape, input2: values[op.inputs[1]], shape2: model.tensors[op.inputs[1]].shape,
                    output: &out, outputShape: outShape, quantization: q)
            case let .averagePool(p, lo, hi):
                Int8Reference.averagePool(
                    input: input, inputShape: inShape, output: &out, outputShape: outShape, parameters: p, clampMin: lo, clampMax: hi)
            case let .maxPool(p, lo, hi):
                Int8Reference.maxPool(
                    input: input, inputShape: inShape, output: &out, outputShape: outShape, parameters: p, clampMin: lo, clampMax: hi)
            case let .globalAveragePool(m, s):
                Int8Reference.globalAveragePool(
                    input: input, inputShape: inShape, inputZeroPoint: inZP, output: &out, outputZeroPoint: outZP,
                    multiplier: m, shift: s)
            case let .channelShuffle(groups):
                Layout.channelShuffle(input: input, output: &out, shape: inShape, groups: groups)
            case .concat:
                out = concatenated(op.inputs, outShape)
            case .interleaveChannels:
                // The definition: the plain concat, then a channel shuffle of G groups.
                Layout.channelShuffle(input: concatenated(op.inputs, outShape), output: &out, shape: outShape, groups: op.inputs.count)
            case let .sliceChannels(start, count):
                Layout.sliceChannels(
                    input: input, inputChannels: inShape.c, output: &out, start: start, count: count,
                    pixels: inShape.n * inShape.h * inShape.w)
            case let .pad(p, value):
                Layout.pad(input: input, inputShape: inShape, output: &out, outputShape: outShape, padding: p, value: value)
            case let .softmax(table):
                Int8Reference.softmax(
                    input: input, output: &out, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c, expTable: table)
            case let .softmaxFloatTable(table, scale, zeroPoint):
                Int8Reference.softmaxFloatTable(
                    input: input, output: &out, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c,
                    table: table, outputScale: scale, outputZeroPoint: zeroPoint)
            case let .logSoftmax(table, inputScale, outputScale, zeroPoint):
                Int8Reference.logSoftmax(
                    input: input, output: &out, rows: inShape.n * inShape.h * inShape.w, channels: inShape.c,
                    table: table, inputScale: inputScale, outputScale: outputScale, outputZeroPoint: zeroPoint)
            case let .stridedCopy(view):
                Layout.stridedCopy(input: input, output: &out, geometry: view.geometry!)
            case let .lookupTable(table):
                Int8Reference.lookupTable(input: input, output: &out, count: input.count, table: table)
            case .reshape:
                out = input
            case .invertedResidual:
                preconditionFailure("DirectExecutor runs models before MemoryPasses (no fused blocks)")
            case let .borderPad(p, mode):
                Layout.borderPad(input: input, inputShape: inShape, output: &out, outputShape: outShape, padding: p, mode: mode)
            case let .upsampleNearest(fh, fw):
                Layout.upsampleNearest(input: input, inputShape: inShape, output: &out, outputShape: outShape, factorH: fh, factorW: fw)
            case let .resizeBilinear(rows, columns):
                Int8Reference.resizeBilinear(
                    input: input, inputShape: inShape, output: &out, outputShape: outShape, rows: rows, columns: columns)
            }
            values[o] = out
        }
        return values
    }
}
