import QuantaKernels
import QuantaRuntime

/// Explicit padding of a window op from ONNX's `auto_pad` and `pads`
/// (`[top, left, bottom, right]`). SAME_UPPER puts the odd pixel at the end, SAME_LOWER at
/// the beginning; both make the output `ceil(input / stride)`.
func resolvePadding(
    _ op: NodeContext, inputH: Int, inputW: Int, kernelH: Int, kernelW: Int,
    strides: [Int], dilations: [Int]
) throws -> Padding {
    let autoPad = op.string("auto_pad", "NOTSET")
    switch autoPad {
    case "NOTSET", "":
        let pads = op.ints("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4 else { throw op.unsupported("pads \(pads) (2-D windows only)") }
        guard pads.allSatisfy({ $0 >= 0 }) else { throw op.unsupported("negative pads \(pads)") }
        guard pads.allSatisfy({ $0 <= ModelFormat.maxGeometry }) else {
            throw op.unsupported("pads \(pads) (at most \(ModelFormat.maxGeometry))")
        }
        return Padding(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3])
    case "VALID":
        return .zero
    case "SAME_UPPER", "SAME_LOWER":
        func split(_ input: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
            let out = (input + s - 1) / s
            let total = max(0, (out - 1) * s + (k - 1) * d + 1 - input)
            let small = total / 2
            return autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
        }
        let (t, b) = split(inputH, kernelH, strides[0], dilations[0])
        let (l, r) = split(inputW, kernelW, strides[1], dilations[1])
        return Padding(top: t, left: l, bottom: b, right: r)
    default:
        throw op.unsupported("auto_pad '\(autoPad)'")
    }
}

/// Two-element spatial attribute (strides, dilations), with a default.
func pair(_ op: NodeContext, _ key: String, _ defaultValue: Int) throws -> [Int] {
    guard let v = op.ints(key) else { return [defaultValue, defaultValue] }
    guard v.count == 2 else { throw op.unsupported("\(key) \(v) (2-D windows only)") }
    guard v.allSatisfy({ $0 >= 1 && $0 <= ModelFormat.maxGeometry }) else {
        throw op.unsupported("\(key) \(v) (each in 1...\(ModelFormat.maxGeometry))")
    }
    return v
}

extension ImportContext {
    /// Conv: weights `[O, I/g, kH, kW]` → OHWI; `group` 1, C (depthwise) or in between.
    func importConv(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        let w = try constant(try op.input(1), op)
        guard w.dims.count == 4 else { throw op.unsupported("weights of shape \(w.dims) (2-D convolution only)") }
        guard w.dims.allSatisfy({ $0 >= 1 }) else { throw op.invalid("weights of shape \(w.dims): every dimension must be at least 1") }
        let (o, ipg, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        let groups = op.int("group", 1)
        let c = x.dims[1]
        guard groups >= 1, groups <= c, ipg * groups == c, o % groups == 0 else {
            throw op.mismatch("weights \(w.dims) with group \(groups) do not fit \(c) input channels")
        }
        let strides = try pair(op, "strides", 1)
        let dilations = try pair(op, "dilations", 1)
        let padding = try resolvePadding(
            op, inputH: x.dims[2], inputW: x.dims[3], kernelH: kh, kernelW: kw, strides: strides, dilations: dilations)
        let filter = FilterShape(outputChannels: o, kernelH: kh, kernelW: kw, inputChannelsPerGroup: ipg)
        var weights = [Float](repeating: 0, count: filter.elementCount)
        for oc in 0..<o {
            for i in 0..<ipg {
                for y in 0..<kh {
                    for xk in 0..<kw {
                        weights[filter.index(oc, y, xk, i)] = w.floats[((oc * ipg + i) * kh + y) * kw + xk]
                    }
                }
            }
        }
        let bias = try optionalBias(op, inputIndex: 2, count: o)
        let parameters = Conv2DParameters(
            strideH: strides[0], strideW: strides[1], dilationH: dilations[0], dilationW: dilations[1],
            padding: padding, groups: groups)
        let out = parameters.outputShape(input: nhwcShape(x.dims), filter: filter)
        guard out.h > 0, out.w > 0 else { throw op.mismatch("kernel \(kh)×\(kw) does not fit input \(x.dims)") }
        emit(
            op, .conv2D(ConvolutionOp(parameters: parameters, filter: filter, weights: weights, bias: bias)),
            inputs: [x.tensor], output: try op.output(0), dims: [out.n, out.c, out.h, out.w])
    }

    /// ConvTranspose (group 1): weights `[C_in, C_out, kH, kW]` → OHWI with O = C_out.
    func importConvTranspose(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        let w = try constant(try op.input(1), op)
        guard w.dims.count == 4 else { throw op.unsupported("weights of shape \(w.dims) (2-D only)") }
        guard w.dims.allSatisfy({ $0 >= 1 }) else { throw op.invalid("weights of shape \(w.dims): every dimension must be at least 1") }
        guard op.int("group", 1) == 1 else { throw op.unsupported("group \(op.int("group", 1)) (only 1)") }
        let (ci, o, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        guard ci == x.dims[1] else { throw op.mismatch("weights \(w.dims) do not fit \(x.dims[1]) input channels") }
        let strides = try pair(op, "strides", 1)
        let dilations = try pair(op, "dilations", 1)
        let outputPadding = op.ints("output_padding") ?? [0, 0]
        guard outputPadding.count == 2, outputPadding.allSatisfy({ $0 >= 0 && $0 <= ModelFormat.maxGeometry }) else {
            throw op.unsupported("output_padding \(outputPadding)")
        }
        for i in 0..<2 where outputPadding[i] >= max(strides[i], dilations[i]) {
            throw op.invalid("output_padding \(outputPadding) for strides \(strides) and dilations \(dilations): each must be smaller than its stride or dilation")
        }
        let ih = x.dims[2], iw = x.dims[3]
        var padding: Padding
        let autoPad = op.string("auto_pad", "NOTSET")
        if let outputShape = op.ints("output_shape") {
            let target = Array(outputShape.suffix(2))
            guard target.count == 2, target.allSatisfy({ $0 >= 1 && $0 <= ONNXLimits.maxDimension }) else {
                throw op.unsupported("output_shape \(outputShape)")
            }
            func split(_ input: Int, _ k: Int, _ s: Int, _ d: Int, _ op_: Int, _ t: Int) -> (Int, Int) {
                let total = max(0, s * (input - 1) + op_ + (k - 1) * d + 1 - t)
                return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (t, b) = split(ih, kh, strides[0], dilations[0], outputPadding[0], target[0])
            let (l, r) = split(iw, kw, strides[1], dilations[1], outputPadding[1], target[1])
            padding = Padding(top: t, left: l, bottom: b, right: r)
        } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            func split(_ input: Int, _ k: Int, _ s: Int, _ d: Int, _ op_: Int) -> (Int, Int) {
                let total = max(0, s * (input - 1) + op_ + (k - 1) * d + 1 - input * s)
                return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (t, b) = split(ih, kh, strides[0], dilations[0], outputPadding[0])
            let (l, r) = split(iw, kw, strides[1], dilations[1], outputPadding[1])
            padding = Padding(top: t, left: l, bottom: b, right: r)
        } else if autoPad == "VALID" {
            padding = .zero
        } else {
            let pads = op.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= ModelFormat.maxGeometry }) else {
                throw op.unsupported("pads \(pads)")
            }
            padding = Padding(top: pads[0], left: pads[1], bottom: pads[2], right: pads[3])
        }
        let filter = FilterShape(outputChannels: o, kernelH: kh, kernelW: kw, inputChannelsPerGroup: ci)
        var weights = [Float](repeating: 0, count: filter.elementCount)
        for i in 0..<ci {
            for oc in 0..<o {
                for y in 0..<kh {
                    for xk in 0..<kw {
                        weights[filter.index(oc, y, xk, i)] = w.floats[((i * o + oc) * kh + y) * kw + xk]
                    }
                }
            }
        }
        let bias = try optionalBias(op, inputIndex: 2, count: o)
        let oh = Conv2DParameters.transposedOutputSize(
            input: ih, kernel: kh, stride: strides[0], dilation: dilations[0], padBefore: padding.top,
            padAfter: padding.bottom, outputPadding: outputPadding[0])
        let ow = Conv2DParameters.transposedOutputSize(
            input: iw, kernel: kw, stride: strides[1], dilation: dilations[1], padBefore: padding.left,
            padAfter: padding.right, outputPadding: outputPadding[1])
        guard oh > 0, ow > 0 else { throw op.mismatch("output size \(oh)×\(ow) is empty") }
        if let outputShape = op.ints("output_shape"), Array(outputShape.suffix(2)) != [oh, ow] {
            throw op.invalid("output_shape \(outputShape): the input \(x.dims) with these kernel, strides and output_padding gives at most \(oh)×\(ow)")
        }
        let t = TransposeConvolutionOp(
            strideH: strides[0], strideW: strides[1], dilationH: dilations[0], dilationW: dilations[1],
            padding: padding, outputPaddingH: outputPadding[0], outputPaddingW: outputPadding[1], filter: filter,
            weights: weights, bias: bias)
        emit(op, .transposeConv2D(t), inputs: [x.tensor], output: try op.output(0), dims: [x.dims[0], o, oh, ow])
    }

    /// BatchNormalization (inference): a 1×1 depthwise convolution with weight
    /// `scale / sqrt(var + eps)` and bias `B - mean * weight` per channel.
    /// `FoldBatchNormPass` later folds it into a preceding convolution.
    func importBatchNormalization(_ op: NodeContext) throws {
        let x = try activation(try op.input(0), op)
        guard x.flattenedFrom == nil else { throw op.pattern("BatchNormalization after a flatten of a spatial tensor") }
        let c = x.dims[1]
        let scale = try constant(try op.input(1), op)
        let b = try constant(try op.input(2), op)
        let mean = try constant(try op.input(3), op)
        let variance = try constant(try op.input(4), op)
        for (n, t) in [("scale", scale), ("B", b), ("mean", mean), ("var", variance)] where t.count != c {
            throw op.mismatch("\(n) has \(t.count) values for \(c) channels")
        }
        let epsilon = op.float("epsilon", 1e-5)
        var weights = [Float](repeating: 0, count: c)
        var bias = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            let s = Double(scale.floats[ch]) / (Double(variance.floats[ch]) + Double(epsilon)).squareRoot()
            weights[ch] = Float(s)
            bias[ch] = Float(Double(b.floats[ch]) - Double(mean.floats[ch]) * s)
        }
        let filter = FilterShape(outputChannels: c, kernelH: 1, kernelW: 1, inputChannelsPerGroup: 1)
        let conv = ConvolutionOp(parameters: Conv2DParameters(groups: c), filter: filter, weights: weights, bias: bias)
        emit(op, .conv2D(conv), inputs: [x.tensor], output: try op.output(0), dims: x.dims)
    }

    /// Optional per-output-channel bias input: `count` values, zeros when absent.
    func optionalBias(_ op: NodeContext, inputIndex: Int, count: Int) throws -> [Float] {
        guard let name = op.optionalInput(inputIndex) else { return [Float](repeating: 0, count: count) }
        let b = try constant(name, op)
        guard b.count == count else { throw op.mismatch("bias has \(b.count) values for \(count) output channels") }
        return b.floats
    }
}
