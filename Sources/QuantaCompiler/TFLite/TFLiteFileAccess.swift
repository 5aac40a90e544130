import QuantaKernels

/// Reading a `.tflite` file's operators independently of the numbers' type: what the
/// int8 import (`TFLiteConversion`) and the float import (`TFLiteFloatConversion`) share —
/// shapes, options, constant operands and each operator's geometry, checked once.
protocol TFLiteFileAccess {
    var file: TFLiteModel { get }
    /// TFLite tensor → the index of the tensor made for it so far.
    var mapped: [Int: Int] { get }
    /// Makes the tensor for TFLite tensor `t` (an activation, or a constant operand).
    mutating func materialize(_ t: Int, op: String) throws -> Int
    /// A new intermediate tensor of `shape` with the type and quantization of tensor `like`
    /// (a view that no TFLite tensor names).
    mutating func addTensor(like: Int, shape: TensorShape, name: String) -> Int
    /// Writes a data movement as the conversion's own op (the int8 one checks that the
    /// inputs share the output's quantization).
    mutating func emit(_ move: TFLiteMove, inputs: [Int], output: Int, name: String) throws
}

/// A convolution's geometry from its options and filter tensor: parameters, OHWI filter
/// shape, output shape and fused activation code.
struct TFLiteConvolutionGeometry {
    var parameters: Conv2DParameters
    var filter: FilterShape
    var output: TensorShape
    var activation: Int8
    /// The filter tensor (TFLite index).
    var filterTensor: Int
}

extension TFLiteFileAccess {
    /// The tensor of input `k` of `op`: written by an earlier operator, or a constant.
    mutating func input(_ op: TFLiteOperator, _ k: Int, name: String) throws -> Int {
        guard k < op.inputs.count, let t = op.inputs[k] else {
            throw TFLiteImportError.invalidModel(op: name, detail: "input \(k) is missing")
        }
        if let q = mapped[t] { return q }
        guard !file.data(t).isEmpty else {
            throw TFLiteImportError.invalidModel(op: name, detail: "input '\(file.tensors[t].name)' is read before any operator writes it")
        }
        return try materialize(t, op: name)
    }

    /// The tensor for output `t` of an operator: written once, never a constant.
    mutating func newOutput(_ t: Int, name: String) throws -> Int {
        guard mapped[t] == nil, file.data(t).isEmpty else {
            throw TFLiteImportError.invalidModel(op: name, detail: "output '\(file.tensors[t].name)' is written twice or is a constant")
        }
        return try materialize(t, op: name)
    }
    /// The builtin code of operator `index`; a CUSTOM operator is `unsupportedOperator`
    /// naming it.
    func builtinCode(_ op: TFLiteOperator, index: Int) throws -> Int32 {
        guard let code = file.code(op) else {
            throw TFLiteImportError.unsupportedOperator(
                index: index, name: "CUSTOM '\(file.customCodes[op.codeIndex] ?? "")'", supported: TFLiteImporter.supported)
        }
        return code
    }

    /// The name used in messages for operator `index`.
    func opName(_ op: TFLiteOperator, _ index: Int) -> String {
        let name = file.code(op).map(TFLiteOperatorCode.name) ?? "CUSTOM '\(file.customCodes[op.codeIndex] ?? "")'"
        let output = op.outputs.first.map { " → '\(file.tensors[$0].name)'" } ?? ""
        return "operator \(index) (\(name)\(output))"
    }

    /// TFLite shape → Quanta's NHWC shape: rank 4 as is, `[N, C]` as `N×1×1×C`, `[N, L, C]`
    /// as `N×1×L×C`, `[C]` as `1×1×1×C`, ranks 5 and 6 with the leading dimensions folded
    /// into N. Both hold the same row-major bytes, so data movement (reshape, transpose,
    /// slices) sees the file's order whatever the reading.
    func nhwc(_ t: Int) throws -> TensorShape {
        let tensor = file.tensors[t]
        let s = tensor.shape
        guard !s.contains(where: { $0 < 1 }) else {
            throw TFLiteImportError.unsupportedShape(tensor: tensor.name, shape: s, detail: "a dimension below 1")
        }
        // Row-major bytes are the same in every reading; ops that need axes check the rank.
        switch s.count {
        case 4: return TensorShape(n: s[0], h: s[1], w: s[2], c: s[3])
        case 3: return TensorShape(n: s[0], h: 1, w: s[1], c: s[2])
        case 2: return TensorShape(n: s[0], h: 1, w: 1, c: s[1])
        case 1: return TensorShape(n: 1, h: 1, w: 1, c: s[0])
        case 5, 6:
            let n = s.dropLast(3).reduce(1, *)
            guard n <= ONNXLimits.maxDimension else {
                throw TFLiteImportError.unsupportedShape(tensor: tensor.name, shape: s, detail: "leading dimensions of \(n) elements")
            }
            return TensorShape(n: n, h: s[s.count - 3], w: s[s.count - 2], c: s[s.count - 1])
        default:
            throw TFLiteImportError.unsupportedShape(tensor: tensor.name, shape: s, detail: "rank \(s.count); Quanta holds ranks 1 to 6")
        }
    }

    /// The bytes of constant tensor `t` of `type`, with `count` elements of `width` bytes.
    func constant(_ t: Int?, type: TFLiteTensorType, op: String, what: String) throws -> (tensor: TFLiteTensor, bytes: ArraySlice<UInt8>) {
        guard let t else { throw TFLiteImportError.invalidModel(op: op, detail: "\(what) is missing") }
        let tensor = file.tensors[t]
        let bytes = file.data(t)
        guard tensor.type == type else {
            throw TFLiteImportError.unsupportedQuantization(tensor: tensor.name, detail: "\(what) of \(op) is \(tensor.type.name), expected \(type.name)")
        }
        guard !bytes.isEmpty || tensor.shape.contains(0) else {
            throw TFLiteImportError.invalidModel(op: op, detail: "\(what) '\(tensor.name)' is not a constant (no buffer data)")
        }
        let width = [TFLiteTensorType.int8: 1, .uint8: 1, .int16: 2, .int32: 4, .float32: 4, .int64: 8][type] ?? 1
        let count = tensor.shape.reduce(1, *)
        guard bytes.count == count * width else {
            throw TFLiteImportError.invalidModel(op: op, detail: "\(what) '\(tensor.name)' has \(bytes.count) bytes for shape \(tensor.shape) of \(type.name)")
        }
        return (tensor, bytes)
    }

    /// A constant int32 (or int64) vector, e.g. axes, paddings, permutations.
    func integers(_ t: Int?, op: String, what: String) throws -> [Int] {
        guard let t else { throw TFLiteImportError.invalidModel(op: op, detail: "\(what) is missing") }
        let type = file.tensors[t].type
        let (_, bytes) = try constant(t, type: type == .int64 ? .int64 : .int32, op: op, what: what)
        let width = type == .int64 ? 8 : 4
        return stride(from: bytes.startIndex, to: bytes.endIndex, by: width).map { p in
            var v: UInt64 = 0
            for k in 0..<width { v |= UInt64(bytes[p + k]) << (8 * UInt64(k)) }
            return width == 8 ? Int(truncatingIfNeeded: Int64(bitPattern: v)) : Int(Int32(truncatingIfNeeded: v))
        }
    }

    /// TFLite's `ComputePaddingHeightWidth` along one axis: the output size and the padding
    /// before and after (`total / 2` before, the odd unit after).
    func padding(_ code: UInt8, input: Int, kernel: Int, stride: Int, dilation: Int, op: String) throws -> (size: Int, before: Int, after: Int) {
        guard stride >= 1, dilation >= 1, kernel >= 1, stride <= 1 << 16, dilation <= 1 << 16 else {
            throw TFLiteImportError.invalidModel(op: op, detail: "stride \(stride), dilation \(dilation), kernel \(kernel)")
        }
        let effective = (kernel - 1) * dilation + 1
        let size: Int
        switch code {
        case 0: size = (input + stride - 1) / stride
        case 1: size = (input + stride - effective) / stride
        default: throw TFLiteImportError.unsupportedForm(op: op, detail: "padding code \(code)")
        }
        guard size >= 1 else { throw TFLiteImportError.invalidModel(op: op, detail: "the window of \(effective) does not fit the input of \(input)") }
        let total = max(0, (size - 1) * stride + effective - input)
        return (size, total / 2, total - total / 2)
    }

    /// The declared shape of `t` must be `expected`.
    func expect(_ t: Int, _ expected: TensorShape, op: String) throws {
        let found = try nhwc(t)
        guard found == expected else {
            throw TFLiteImportError.invalidModel(
                op: op, detail: "output '\(file.tensors[t].name)' is declared \(file.tensors[t].shape), the operator computes \([expected.n, expected.h, expected.w, expected.c]) (NHWC)")
        }
    }

    /// The options table of `op`, checked to be of `type` (the BuiltinOptions union tag).
    func options(_ op: TFLiteOperator, type: UInt8, name: String) throws -> FlatTable? {
        guard let table = op.options else { return nil }
        guard op.optionsType == type else {
            throw TFLiteImportError.invalidModel(op: name, detail: "options of union type \(op.optionsType), expected \(type)")
        }
        return table
    }


    /// A fused activation code (NONE, RELU, RELU_N1_TO_1, RELU6) as a float clamp.
    func fusedActivation(_ code: Int8, op: String) throws -> FloatClamp {
        switch code {
        case 0: return .none
        case 1: return .relu
        case 2: return FloatClamp(min: -1, max: 1)
        case 3: return .relu6
        default: throw TFLiteImportError.unsupportedForm(op: op, detail: "fused activation \(code == 4 ? "TANH" : code == 5 ? "SIGN_BIT" : "\(code)")")
        }
    }

    /// The operands of ADD / SUB / MUL (tensor and shape each) in the order the runtime
    /// takes them: the second of the first's shape, or broadcast over H and W (`N×1×1×C`),
    /// or a scalar (`1×1×1×1`) — the runtime's rule. A commutative op whose broadcast
    /// operand comes first is swapped (TFLite scales each operand on its own, so the sum or
    /// product is the same).
    func binaryOperands(_ a: (Int, TensorShape), _ b: (Int, TensorShape), commutes: Bool, name: String) throws -> (first: Int, second: Int, shape: TensorShape) {
        func takes(_ first: TensorShape, _ second: TensorShape) -> Bool {
            second == first || second == TensorShape(n: first.n, h: 1, w: 1, c: first.c) || second == TensorShape(n: 1, h: 1, w: 1, c: 1)
        }
        if takes(a.1, b.1) { return (a.0, b.0, a.1) }
        if commutes && takes(b.1, a.1) { return (b.0, a.0, b.1) }
        let (sa, sb) = (a.1, b.1)
        throw TFLiteImportError.unsupportedForm(
            op: name, detail: "broadcast of \([sa.n, sa.h, sa.w, sa.c]) with \([sb.n, sb.h, sb.w, sb.c]) (only equal shapes, or [N, 1, 1, C] / a scalar over H and W)")
    }

    // MARK: Operator geometry

    /// CONV_2D: filter `[O, KH, KW, I]` with I dividing the input channels (groups = C / I).
    func convolutionGeometry(_ op: TFLiteOperator, name: String, input inShape: TensorShape, filterType: TFLiteTensorType) throws -> TFLiteConvolutionGeometry {
        let options = try self.options(op, type: 1, name: name)
        let t = op.inputs.count > 1 ? op.inputs[1] : nil
        let fs = try constant(t, type: filterType, op: name, what: "filter").tensor.shape
        guard fs.count == 4, fs[3] >= 1, inShape.c % fs[3] == 0 else {
            throw TFLiteImportError.invalidModel(op: name, detail: "filter shape \(fs) for \(inShape.c) input channels (expected [O, KH, KW, I] with I dividing the channels)")
        }
        let groups = inShape.c / fs[3]
        guard fs[0] % groups == 0 else {
            throw TFLiteImportError.invalidModel(op: name, detail: "\(fs[0]) output channels in \(groups) groups")
        }
        let filter = FilterShape(outputChannels: fs[0], kernelH: fs[1], kernelW: fs[2], inputChannelsPerGroup: fs[3])
        // Conv2DOptions: padding 0, stride_w 1, stride_h 2, activation 3, dilation_w 4, dilation_h 5.
        return try windowGeometry(
            options, name: name, input: inShape, filter: filter, groups: groups,
            fields: (padding: 0, strideW: 1, strideH: 2, activation: 3, dilationW: 4, dilationH: 5), filterTensor: t!)
    }

    /// DEPTHWISE_CONV_2D: filter `[1, KH, KW, C·M]`; the geometry has the OHWI filter
    /// `[C·M, KH, KW, 1]` (`depthwiseToOHWI` reorders the values) and groups = C.
    func depthwiseGeometry(_ op: TFLiteOperator, name: String, input inShape: TensorShape, filterType: TFLiteTensorType) throws -> TFLiteConvolutionGeometry {
        let options = try self.options(op, type: 2, name: name)
        let t = op.inputs.count > 1 ? op.inputs[1] : nil
        let fs = try constant(t, type: filterType, op: name, what: "filter").tensor.shape
        guard fs.count == 4, fs[0] == 1, fs[3] % inShape.c == 0 else {
            throw TFLiteImportError.invalidModel(op: name, detail: "filter shape \(fs) for \(inShape.c) input channels (expected [1, KH, KW, C·M])")
        }
        // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
        // activation 4, dilation_w 5, dilation_h 6.
        if let declared = try options?.i32(3), declared != 0, Int(declared) != fs[3] / inShape.c {
            throw TFLiteImportError.invalidModel(op: name, detail: "depth multiplier \(declared), the filter has \(fs[3]) channels for \(inShape.c) inputs")
        }
        let filter = FilterShape(outputChannels: fs[3], kernelH: fs[1], kernelW: fs[2], inputChannelsPerGroup: 1)
        return try windowGeometry(
            options, name: name, input: inShape, filter: filter, groups: inShape.c,
            fields: (padding: 0, strideW: 1, strideH: 2, activation: 4, dilationW: 5, dilationH: 6), filterTensor: t!)
    }

    private func windowGeometry(
        _ options: FlatTable?, name: String, input inShape: TensorShape, filter: FilterShape, groups: Int,
        fields f: (padding: Int, strideW: Int, strideH: Int, activation: Int, dilationW: Int, dilationH: Int), filterTensor: Int
    ) throws -> TFLiteConvolutionGeometry {
        let stride = (h: Int(try options?.i32(f.strideH) ?? 1), w: Int(try options?.i32(f.strideW) ?? 1))
        let dilation = (h: Int(try options?.i32(f.dilationH, default: 1) ?? 1), w: Int(try options?.i32(f.dilationW, default: 1) ?? 1))
        let code = try options?.u8(f.padding) ?? 0
        let ph = try padding(code, input: inShape.h, kernel: filter.kernelH, stride: stride.h, dilation: dilation.h, op: name)
        let pw = try padding(code, input: inShape.w, kernel: filter.kernelW, stride: stride.w, dilation: dilation.w, op: name)
        let terms = filter.kernelH * filter.kernelW * filter.inputChannelsPerGroup
        guard terms <= QuantizePipeline.maxAccumulatorTerms else {
            throw TFLiteImportError.unsupportedForm(
                op: name, detail: "\(terms) products per output, above the int32 accumulator's bound of \(QuantizePipeline.maxAccumulatorTerms)")
        }
        return TFLiteConvolutionGeometry(
            parameters: Conv2DParameters(
                strideH: stride.h, strideW: stride.w, dilationH: dilation.h, dilationW: dilation.w,
                padding: Padding(top: ph.before, left: pw.before, bottom: ph.after, right: pw.after), groups: groups),
            filter: filter, output: TensorShape(n: inShape.n, h: ph.size, w: pw.size, c: filter.outputChannels),
            activation: try options?.i8(f.activation) ?? 0, filterTensor: filterTensor)
    }

    /// `[1, KH, KW, O]` values → OHWI `[O, KH, KW, 1]`.
    static func depthwiseToOHWI<T>(_ values: [T], taps: Int, channels: Int) -> [T] {
        (0..<(channels * taps)).map { i in values[(i % taps) * channels + i / taps] }
    }

    /// FULLY_CONNECTED: weights `[O, K]` with K the values per batch item of the input;
    /// plain weights format only.
    func fullyConnectedGeometry(_ op: TFLiteOperator, name: String, input inShape: TensorShape, weightType: TFLiteTensorType) throws -> (outputs: Int, perItem: Int, activation: Int8, weights: Int) {
        // FullyConnectedOptions: activation 0, weights_format 1.
        let options = try self.options(op, type: 8, name: name)
        guard try options?.u8(1) ?? 0 == 0 else { throw TFLiteImportError.unsupportedForm(op: name, detail: "shuffled weights format") }
        let t = op.inputs.count > 1 ? op.inputs[1] : nil
        let fs = try constant(t, type: weightType, op: name, what: "weights").tensor.shape
        let perItem = inShape.h * inShape.w * inShape.c
        guard fs.count == 2, fs[1] == perItem else {
            throw TFLiteImportError.invalidModel(op: name, detail: "weights \(fs) for an input of \(perItem) values per batch item (expected [O, \(perItem)])")
        }
        guard perItem <= QuantizePipeline.maxAccumulatorTerms else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "\(perItem) products per output, above the int32 accumulator's bound")
        }
        return (fs[0], perItem, try options?.i8(0) ?? 0, t!)
    }

    /// AVERAGE_POOL_2D / MAX_POOL_2D: the window, TFLite's padding and the output shape.
    func poolGeometry(_ op: TFLiteOperator, name: String, input s: TensorShape) throws -> (parameters: PoolParameters, output: TensorShape, activation: Int8) {
        // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, activation 5.
        guard let options = try self.options(op, type: 5, name: name) else {
            throw TFLiteImportError.invalidModel(op: name, detail: "no Pool2DOptions")
        }
        let kh = Int(try options.i32(4)), kw = Int(try options.i32(3))
        guard kh >= 1, kw >= 1, kh * kw <= ONNXLimits.maxPoolWindow else {
            throw TFLiteImportError.invalidModel(op: name, detail: "pool window \(kh)×\(kw)")
        }
        let sh = Int(try options.i32(2)), sw = Int(try options.i32(1))
        let code = try options.u8(0)
        let ph = try padding(code, input: s.h, kernel: kh, stride: sh, dilation: 1, op: name)
        let pw = try padding(code, input: s.w, kernel: kw, stride: sw, dilation: 1, op: name)
        return (PoolParameters(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                               padding: Padding(top: ph.before, left: pw.before, bottom: ph.after, right: pw.after)),
                TensorShape(n: s.n, h: ph.size, w: pw.size, c: s.c), try options.i8(5))
    }

    /// MEAN must reduce a rank-4 tensor over H and W (axes {1, 2}).
    func checkMean(_ op: TFLiteOperator, name: String) throws {
        let rank = file.tensors[op.inputs.first.flatMap { $0 } ?? 0].shape.count
        guard rank == 4 else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "MEAN of a rank-\(rank) tensor (only rank 4 over H and W)")
        }
        let axes = Set(try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "axes").map { $0 < 0 ? $0 + 4 : $0 })
        guard axes == [1, 2] else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "MEAN over axes \(axes.sorted()) (only over H and W: [1, 2])")
        }
    }

    /// PAD / PADV2 paddings: H and W of a rank-4 tensor only, non-negative.
    func padGeometry(_ op: TFLiteOperator, name: String) throws -> Padding {
        let rank = file.tensors[op.inputs.first.flatMap { $0 } ?? 0].shape.count
        let pads = try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "paddings")
        guard rank == 4, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[6] == 0, pads[7] == 0,
              pads[2...5].allSatisfy({ $0 >= 0 && $0 <= ONNXLimits.maxDimension }) else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "paddings \(pads) of a rank-\(rank) tensor (only H and W of rank 4, non-negative)")
        }
        return Padding(top: pads[2], left: pads[4], bottom: pads[3], right: pads[5])
    }

    /// TRANSPOSE as a view of its input (`StridedView.transpose`), rank ≤ 6; the output
    /// tensor must have the permuted shape.
    func transposeView(_ op: TFLiteOperator, name: String) throws -> StridedView {
        let input = file.tensors[op.inputs.first.flatMap { $0 } ?? 0]
        let perm = try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "permutation")
        guard perm.sorted() == Array(0..<input.shape.count), input.shape.count <= StridedCopyGeometry.rank else {
            throw TFLiteImportError.invalidModel(op: name, detail: "permutation \(perm) of a rank-\(input.shape.count) tensor")
        }
        let view = StridedView.transpose(shape: input.shape, permutation: perm)
        let output = file.tensors[op.outputs[0]]
        guard output.shape == view.dims else {
            throw TFLiteImportError.invalidModel(op: name, detail: "TRANSPOSE \(perm) of \(input.shape) gives \(view.dims), the output is \(output.shape)")
        }
        return view
    }

    /// STRIDED_SLICE as a view of its input, with TFLite's index rules
    /// (`strided_slice_logic.h`): negative begin/end count from the end; begin clamped to
    /// `0...d` (step > 0) or `-1...d-1` (step < 0), and end likewise; a begin-mask bit takes
    /// the first element in the step's direction, an end-mask bit runs to the end; a
    /// shrink-axis bit takes the one element at begin and drops the axis. Steps of any sign
    /// but 0. `channels` is set when the slice is one channel range (every other axis whole,
    /// step 1), which the vector slice kernel copies.
    func stridedSliceView(_ op: TFLiteOperator, name: String) throws -> (view: StridedView, channels: (start: Int, count: Int)?) {
        guard op.outputs.count == 1 else { throw TFLiteImportError.invalidModel(op: name, detail: "\(op.outputs.count) outputs") }
        let dims = file.tensors[op.inputs.first.flatMap { $0 } ?? 0].shape
        let rank = dims.count
        let begin = try integers(op.inputs.count > 1 ? op.inputs[1] : nil, op: name, what: "begin")
        let end = try integers(op.inputs.count > 2 ? op.inputs[2] : nil, op: name, what: "end")
        let steps = try integers(op.inputs.count > 3 ? op.inputs[3] : nil, op: name, what: "strides")
        // StridedSliceOptions: begin_mask 0, end_mask 1, ellipsis 2, new_axis 3, shrink 4, offset 5.
        let options = try self.options(op, type: 32, name: name)
        let beginMask = Int(try options?.i32(0) ?? 0), endMask = Int(try options?.i32(1) ?? 0)
        let shrinkMask = Int(try options?.i32(4) ?? 0)
        guard try (options?.i32(2) ?? 0) == 0, try (options?.i32(3) ?? 0) == 0, try !(options?.bool(5) ?? false) else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "STRIDED_SLICE with an ellipsis, new-axis mask or offset")
        }
        guard begin.count == rank, end.count == rank, steps.count == rank, (1...StridedCopyGeometry.rank).contains(rank) else {
            throw TFLiteImportError.invalidModel(op: name, detail: "begin \(begin), end \(end), strides \(steps) for a rank-\(rank) input")
        }
        var start = [Int](), count = [Int](), kept = [Int]()
        for a in 0..<rank {
            let d = dims[a], step = steps[a], bit = 1 << a
            guard step != 0, abs(step) <= 1 << 24 else { throw TFLiteImportError.invalidModel(op: name, detail: "stride \(step) on axis \(a)") }
            func clamped(_ v: Int) -> Int {
                let i = v < 0 ? v + d : v
                return step > 0 ? min(max(i, 0), d) : min(max(i, -1), d - 1)
            }
            let first = beginMask & bit != 0 ? (step > 0 ? 0 : d - 1) : clamped(begin[a])
            if shrinkMask & bit != 0 {
                let i = begin[a] < 0 ? begin[a] + d : begin[a]
                guard (0..<d).contains(i) else {
                    throw TFLiteImportError.invalidModel(op: name, detail: "shrunk axis \(a) at \(begin[a]) of \(d)")
                }
                start.append(i)
                count.append(1)
                continue
            }
            let stop = endMask & bit != 0 ? (step > 0 ? d : -1) : clamped(end[a])
            let n = step > 0 ? (stop - first + step - 1) / step : (first - stop - step - 1) / -step
            guard n >= 1 else { throw TFLiteImportError.invalidModel(op: name, detail: "an empty slice of axis \(a)") }
            start.append(first)
            count.append(n)
            kept.append(n)
        }
        let output = file.tensors[op.outputs[0]]
        guard output.shape == kept else {
            throw TFLiteImportError.invalidModel(op: name, detail: "the slice has shape \(kept), the output is \(output.shape)")
        }
        let view = StridedView.slice(shape: dims, start: start, step: steps, count: count)
        let wholeAbove = (0..<(rank - 1)).allSatisfy { count[$0] == dims[$0] && steps[$0] == 1 }
        let channels = wholeAbove && steps[rank - 1] == 1 && shrinkMask == 0 ? (start[rank - 1], count[rank - 1]) : nil
        return (view, channels)
    }

    /// RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR of a rank-4 tensor to the declared output
    /// size (the size operand, when constant, must agree): `alignCorners`, `halfPixelCenters`.
    /// A nearest resize must be by integer factors without align corners (the source index
    /// is then `floor(x / f)` either way of half-pixel centers: a nearest upsampling).
    func resizeGeometry(_ op: TFLiteOperator, name: String, input: TensorShape, bilinear: Bool) throws -> (output: TensorShape, alignCorners: Bool, halfPixelCenters: Bool) {
        // ResizeBilinearOptions (15): align_corners 2, half_pixel_centers 3;
        // ResizeNearestNeighborOptions (74): align_corners 0, half_pixel_centers 1.
        let options = try self.options(op, type: bilinear ? 15 : 74, name: name)
        let align = try options?.bool(bilinear ? 2 : 0) ?? false
        let half = try options?.bool(bilinear ? 3 : 1) ?? false
        let output = try nhwc(op.outputs[0])
        guard output.n == input.n, output.c == input.c else {
            throw TFLiteImportError.invalidModel(op: name, detail: "a resize changes N or C")
        }
        if op.inputs.count > 1, let t = op.inputs[1], !file.data(t).isEmpty {
            let size = try integers(t, op: name, what: "size")
            guard size == [output.h, output.w] else {
                throw TFLiteImportError.invalidModel(op: name, detail: "size \(size), the output is declared \(output.h)×\(output.w)")
            }
        }
        guard bilinear || (!align && output.h % input.h == 0 && output.w % input.w == 0) else {
            throw TFLiteImportError.unsupportedForm(op: name, detail: "nearest resize \(input.h)×\(input.w) → \(output.h)×\(output.w) (only integer factors, without align corners)")
        }
        return (output, align, half)
    }

    /// TFLite's `ResizeBilinearInteger` source rows (or columns) `[i0, i1, w1]` per output
    /// index, `w1` in Q10: `scale10 = (1024·in + out/2) / out` (align corners:
    /// `(1024·(in−1) + (out−1)/2) / (out−1)`), `v = x·scale10` (half-pixel centers:
    /// `+ scale10/2 − 512`), `i0 = max(v / 1024, 0)` (C division), `i1 = min((v + 1023) / 1024,
    /// in − 1)`, `w1 = v − 1024·i0`, set to 0 where `i0 == i1` (the two terms are then one
    /// row, so the sum is the same; it keeps the weight in 0...1024).
    static func bilinearTable(input: Int, output: Int, alignCorners: Bool, halfPixelCenters: Bool) -> [Int32] {
        var scale = (1024 * input + output / 2) / output
        if alignCorners && output > 1 { scale = (1024 * (input - 1) + (output - 1) / 2) / (output - 1) }
        var table: [Int32] = []
        for x in 0..<output {
            let v = halfPixelCenters ? x * scale + scale / 2 - 512 : x * scale
            let i0 = max(v / 1024, 0)
            let i1 = min((v + 1023) / 1024, input - 1)
            let lower = min(i0, input - 1)
            let w = lower == i1 ? 0 : v - 1024 * lower
            table += [Int32(lower), Int32(i1), Int32(max(0, min(1024, w)))]
        }
        return table
    }

    /// TRANSPOSE_CONV: inputs `[output_shape, weights [O, KH, KW, I], input, bias?]`; the
    /// output size from the declared output (the shape operand, when constant, must agree);
    /// TFLite's padding (`ComputePaddingHeightWidth` on the output size, only the leading
    /// padding is used), expressed as Quanta's leading/trailing padding plus an output
    /// padding below the stride.
    func transposeConvolutionGeometry(_ op: TFLiteOperator, name: String, input inShape: TensorShape, filterType: TFLiteTensorType)
        throws -> (stride: (h: Int, w: Int), padding: Padding, outputPadding: (h: Int, w: Int), filter: FilterShape, output: TensorShape, activation: Int8, filterTensor: Int)
    {
        // TransposeConvOptions (49): padding 0, stride_w 1, stride_h 2, fused_activation 3.
        let options = try self.options(op, type: 49, name: name)
        let t = op.inputs.count > 1 ? op.inputs[1] : nil
        let fs = try constant(t, type: filterType, op: name, what: "weights").tensor.shape
        guard fs.count == 4, fs[3] == inShape.c else {
            throw TFLiteImportError.invalidModel(op: name, detail: "weights \(fs) for \(inShape.c) input channels (expected [O, KH, KW, \(inShape.c)])")
        }
        let output = try nhwc(op.outputs[0])
        guard output.n == inShape.n, output.c == fs[0] else {
            throw TFLiteImportError.invalidModel(op: name, detail: "output \(file.tensors[op.outputs[0]].shape) for weights \(fs)")
        }
        if let s = op.inputs.first ?? nil, !file.data(s).isEmpty {
            let declared = try integers(s, op: name, what: "output shape")
            guard declared == [output.n, output.h, output.w, output.c] else {
                throw TFLiteImportError.invalidModel(op: name, detail: "output shape operand \(declared), the output is declared \(file.tensors[op.outputs[0]].shape)")
            }
        }
        let stride = (h: Int(try options?.i32(2) ?? 1), w: Int(try options?.i32(1) ?? 1))
        let code = try options?.u8(0) ?? 0
        let ph = try padding(code, input: output.h, kernel: fs[1], stride: stride.h, dilation: 1, op: name)
        let pw = try padding(code, input: output.w, kernel: fs[2], stride: stride.w, dilation: 1, op: name)
        // out = stride·(in − 1) + k − top − bottom + outputPadding, 0 ≤ outputPadding < stride.
        func trailing(_ input: Int, _ out: Int, _ k: Int, _ s: Int, _ top: Int) throws -> (Int, Int) {
            let r = s * (input - 1) + k - top - out
            guard r > -s else {
                throw TFLiteImportError.unsupportedForm(op: name, detail: "transposed convolution to \(out) from \(input) (stride \(s), kernel \(k)): output padding \(-r) ≥ stride")
            }
            return r >= 0 ? (r, 0) : (0, -r)
        }
        let (bottom, padH) = try trailing(inShape.h, output.h, fs[1], stride.h, ph.before)
        let (right, padW) = try trailing(inShape.w, output.w, fs[2], stride.w, pw.before)
        return (stride, Padding(top: ph.before, left: pw.before, bottom: bottom, right: right), (padH, padW),
                FilterShape(outputChannels: fs[0], kernelH: fs[1], kernelW: fs[2], inputChannelsPerGroup: fs[3]),
                output, try options?.i8(3) ?? 0, t!)
    }
}
