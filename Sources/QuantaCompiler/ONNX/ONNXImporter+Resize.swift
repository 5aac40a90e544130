import QuantaKernels
import QuantaRuntime

extension ImportContext {
    /// Resize (opset 10+) and Upsample (opset 7-9) in nearest mode with integer scales
    /// `s_h, s_w` on H and W (1 on N and C), in a coordinate convention where output pixel `y`
    /// reads input pixel `floor(y / s)`:
    /// - `asymmetric` with `nearest_mode = floor` (torch.onnx `F.interpolate(scale_factor=k)`,
    ///   paddle2onnx `nearest_interp_v2`, Upsample),
    /// - `half_pixel` / `pytorch_half_pixel` with `round_prefer_floor` / `round_prefer_ceil`
    ///   (the defaults): `(y + 0.5) / s - 0.5` never has fractional part 0.5 for integer `s`,
    /// - `tf_half_pixel_for_nn` with `floor`.
    ///
    /// It becomes a transposed convolution with kernel `s_h × s_w`, stride `s_h × s_w`, and
    /// identity weights (`w[o, ky, kx, i] = o == i`): each input pixel is written to its
    /// `s_h × s_w` block, exactly in float and in int8 (weights 1 quantize to 127 at scale
    /// 1/127). This costs `C²·s_h·s_w` multiply-adds per input pixel and `C²·s_h·s_w` weight
    /// bytes; a dedicated upsampling kernel would cost none (see docs/ONNX_IMPORT.md).
    /// Opset 18's `axes` attribute is honoured; `antialias` does not apply to nearest.
    /// Linear/cubic modes and non-integer scales are not supported.
    func importResize(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        let mode = op.string("mode", "nearest")
        guard mode == "nearest" else { throw op.unsupported("\(op.opType) mode '\(mode)' (nearest only)") }
        var scales: [Float]?
        var sizes: [Int]?
        if op.opType == "Upsample" {
            if op.opset < 9, let s = op.node.attribute("scales") {
                scales = s.floats
            } else {
                scales = try constant(try op.input(1), op).floats
            }
        } else if op.opset < 11 {
            scales = try constant(try op.input(1), op).floats
        } else {
            if let name = op.optionalInput(2) {
                let c = try constant(name, op)
                if c.count > 0 { scales = c.floats }
            }
            if scales == nil, let name = op.optionalInput(3) {
                sizes = try constant(name, op).integers.map { Int($0) }
            }
            let transform = op.string("coordinate_transformation_mode", "half_pixel")
            let rounding = op.string("nearest_mode", "round_prefer_floor")
            let blockCopy: Bool
            switch transform {
            case "asymmetric": blockCopy = rounding == "floor"
            case "half_pixel", "pytorch_half_pixel": blockCopy = rounding == "round_prefer_floor" || rounding == "round_prefer_ceil"
            case "tf_half_pixel_for_nn": blockCopy = rounding == "floor"
            default: blockCopy = false
            }
            guard blockCopy else {
                throw op.unsupported("Resize coordinate_transformation_mode '\(transform)' with nearest_mode '\(rounding)'")
            }
        }
        // Opset 18+: `axes` names the axes that scales/sizes cover; the others keep their size.
        if let axes = op.ints("axes") {
            let normalized = axes.map { $0 < 0 ? $0 + 4 : $0 }
            guard normalized.allSatisfy({ (0..<4).contains($0) }), Set(normalized).count == normalized.count else {
                throw op.unsupported("\(op.opType) axes \(axes)")
            }
            if let given = scales, given.count == normalized.count {
                var full: [Float] = [1, 1, 1, 1]
                for (k, axis) in normalized.enumerated() { full[axis] = given[k] }
                scales = full
            }
            if let given = sizes, given.count == normalized.count {
                var full = x.dims
                for (k, axis) in normalized.enumerated() { full[axis] = given[k] }
                sizes = full
            }
        }
        let factors: [Int]
        if let sizes {
            guard sizes.count == 4, sizes[0] == x.dims[0], sizes[1] == x.dims[1],
                sizes[2] % x.dims[2] == 0, sizes[3] % x.dims[3] == 0
            else { throw op.unsupported("Resize to sizes \(sizes) from \(x.dims) (integer H, W factors only)") }
            factors = [sizes[2] / x.dims[2], sizes[3] / x.dims[3]]
        } else if let scales {
            guard scales.count == 4, scales[0] == 1, scales[1] == 1,
                scales[2...].allSatisfy({ $0 >= 1 && $0 == $0.rounded() && $0 <= Float(ModelFormat.maxGeometry) })
            else { throw op.unsupported("\(op.opType) scales \(scales) (integer H, W factors only)") }
            factors = [Int(scales[2]), Int(scales[3])]
        } else {
            throw op.mismatch("neither scales nor sizes given")
        }
        let output = try op.output(0)
        if factors == [1, 1] {
            values[output] = .activation(x)
            return
        }
        let c = x.dims[1], (sh, sw) = (factors[0], factors[1])
        guard ONNXLimits.elementCount([c, c, sh, sw]) != nil, ONNXLimits.elementCount([x.dims[0], c, x.dims[2] * sh, x.dims[3] * sw]) != nil else {
            throw op.unsupported("\(op.opType) by \(factors) of \(x.dims) (too large)")
        }
        let filter = FilterShape(outputChannels: c, kernelH: sh, kernelW: sw, inputChannelsPerGroup: c)
        var weights = [Float](repeating: 0, count: filter.elementCount)
        for ch in 0..<c { for y in 0..<sh { for xk in 0..<sw { weights[filter.index(ch, y, xk, ch)] = 1 } } }
        let t = TransposeConvolutionOp(
            strideH: sh, strideW: sw, padding: .zero, filter: filter, weights: weights, bias: [Float](repeating: 0, count: c))
        emit(op, .transposeConv2D(t), inputs: [x.tensor], output: output, dims: [x.dims[0], c, x.dims[2] * sh, x.dims[3] * sw])
    }
}
