import QuantaKernels
import QuantaRuntime

extension ImportContext {
    /// Resize (opsets 10, 11, 13, 18, 19) and Upsample (opsets 7, 9) on H and W (N and C keep
    /// their size):
    ///
    /// - `nearest` with integer scales `s_h, s_w` → `.upsampleNearest` (a copy: output pixel
    ///   `y` reads input pixel `floor(y / s)`), in the conventions where that is what ONNX
    ///   computes: `asymmetric` with `nearest_mode = floor` (torch.onnx
    ///   `F.interpolate(scale_factor=k)`, paddle2onnx `nearest_interp_v2`, Upsample),
    ///   `half_pixel` / `pytorch_half_pixel` with `round_prefer_floor` / `round_prefer_ceil`
    ///   (the defaults: `(y + 0.5) / s - 0.5` never has fractional part 0.5 for integer `s`),
    ///   `tf_half_pixel_for_nn` with `floor`. Non-integer nearest scales are not supported.
    /// - `linear` (Resize) / `linear`, `bilinear` (Upsample) → `.resizeBilinear` with any scales
    ///   or sizes, up or down, in `half_pixel` (the default from opset 11), `pytorch_half_pixel`,
    ///   `align_corners` and `asymmetric` (Resize opset 10 and Upsample); `antialias = 1`
    ///   (opset 18) is rejected when it would apply (a scale below 1).
    ///
    /// Output size: `sizes`, or `floor(input · scale)`; the coordinate scale is the given
    /// `scales` value, or `output / input` for `sizes`. Opset 18's `axes` is honoured;
    /// `keep_aspect_ratio_policy` other than `stretch`, `cubic` and `tf_crop_and_resize` are not.
    func importResize(_ op: NodeContext) throws {
        let x = try spatialActivation(try op.input(0), op)
        let rawMode = op.string("mode", "nearest")
        let mode = rawMode == "bilinear" && op.opType == "Upsample" ? "linear" : rawMode
        guard mode == "nearest" || mode == "linear" else {
            throw op.unsupported("\(op.opType) mode '\(rawMode)' (nearest and linear only)")
        }
        var scales: [Float]?
        var sizes: [Int]?
        var transform = "asymmetric"
        var rounding = "floor"
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
            transform = op.string("coordinate_transformation_mode", "half_pixel")
            rounding = op.string("nearest_mode", "round_prefer_floor")
            let policy = op.string("keep_aspect_ratio_policy", "stretch")
            guard policy == "stretch" || sizes == nil else {
                throw op.unsupported("Resize keep_aspect_ratio_policy '\(policy)'")
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
        // Output H, W and the coordinate scales.
        let outH: Int, outW: Int, scaleH: Double, scaleW: Double
        if let sizes {
            guard sizes.count == 4, sizes[0] == x.dims[0], sizes[1] == x.dims[1], sizes[2] >= 1, sizes[3] >= 1 else {
                throw op.unsupported("Resize to sizes \(sizes) from \(x.dims) (H and W only)")
            }
            (outH, outW) = (sizes[2], sizes[3])
            (scaleH, scaleW) = (Double(outH) / Double(x.dims[2]), Double(outW) / Double(x.dims[3]))
        } else if let scales {
            guard scales.count == 4, scales[0] == 1, scales[1] == 1, scales[2...].allSatisfy({ $0 > 0 && $0.isFinite }),
                scales[2...].allSatisfy({ $0 * Float(x.dims[2] + x.dims[3]) <= Float(ONNXLimits.maxElementCount) })
            else { throw op.unsupported("\(op.opType) scales \(scales) (positive H, W scales only)") }
            (scaleH, scaleW) = (Double(scales[2]), Double(scales[3]))
            (outH, outW) = (Int((Float(x.dims[2]) * scales[2]).rounded(.down)), Int((Float(x.dims[3]) * scales[3]).rounded(.down)))
        } else {
            throw op.mismatch("neither scales nor sizes given")
        }
        guard outH >= 1, outW >= 1, outH <= ONNXLimits.maxDimension, outW <= ONNXLimits.maxDimension,
            ONNXLimits.elementCount([x.dims[0], x.dims[1], outH, outW]) != nil
        else { throw op.unsupported("\(op.opType) of \(x.dims) to \(outH)×\(outW) (size)") }
        let output = try op.output(0)
        let dims = [x.dims[0], x.dims[1], outH, outW]
        if outH == x.dims[2] && outW == x.dims[3] && (mode == "nearest" || (scaleH == 1 && scaleW == 1)) {
            values[output] = .activation(x)
            return
        }
        if mode == "linear" {
            let t: ResizeCoordinateTransform
            switch transform {
            case "half_pixel": t = .halfPixel
            case "pytorch_half_pixel": t = .pytorchHalfPixel
            case "align_corners": t = .alignCorners
            case "asymmetric": t = .asymmetric
            default: throw op.unsupported("Resize linear with coordinate_transformation_mode '\(transform)'")
            }
            if op.int("antialias", 0) != 0 && (scaleH < 1 || scaleW < 1) {
                throw op.unsupported("Resize linear downsampling with antialias = 1")
            }
            emit(op, .resizeBilinear(ResizeBilinearParameters(transform: t, scaleH: scaleH, scaleW: scaleW)),
                 inputs: [x.tensor], output: output, dims: dims)
            return
        }
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
        guard outH % x.dims[2] == 0, outW % x.dims[3] == 0, scaleH == Double(outH / x.dims[2]), scaleW == Double(outW / x.dims[3])
        else { throw op.unsupported("\(op.opType) nearest to \(outH)×\(outW) from \(x.dims) (integer H, W factors only)") }
        guard outH / x.dims[2] <= ModelFormat.maxGeometry, outW / x.dims[3] <= ModelFormat.maxGeometry else {
            throw op.unsupported("\(op.opType) nearest factors above \(ModelFormat.maxGeometry)")
        }
        emit(op, .upsampleNearest(factorH: outH / x.dims[2], factorW: outW / x.dims[3]), inputs: [x.tensor], output: output, dims: dims)
    }
}
