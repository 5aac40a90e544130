import QuantaKernels
import QuantaRuntime

extension ImportContext {
    // MARK: Flatten, Reshape, Transpose (activations)

    /// `[N, C, H, W]` → `[N, C*H*W]`. With `H*W > 1` a `.reshape` node keeps the NHWC
    /// element order and the result remembers it (`flattenedFrom`) so that the fully
    /// connected layer reading it permutes its weight columns instead.
    private func flatten(_ a: ImportedActivation, _ op: NodeContext, output: String) {
        guard a.dims.count == 4 else {
            values[output] = .activation(a)
            return
        }
        let (n, c, h, w) = (a.dims[0], a.dims[1], a.dims[2], a.dims[3])
        if h * w == 1 {
            values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: [n, c]))
        } else {
            emit(op, .reshape, inputs: [a.tensor], output: output, dims: [n, c * h * w], flattenedFrom: a.dims)
        }
    }

    func importFlatten(_ op: NodeContext) throws {
        let held = try anyActivation(try op.input(0), op)
        let axis = try op.axis(op.int("axis", 1), rank: held.dims.count, extra: 1, "Flatten axis")
        guard axis == 1, !held.plain else {
            // [d0·…·d(axis-1), d(axis)·…]: a reshape of the data in ONNX order.
            let dims = [held.dims[..<axis].reduce(1, *), held.dims[axis...].reduce(1, *)]
            try emitPlain(op, .reshape, inputs: [plain(held, op).tensor], output: try op.output(0), dims: dims)
            return
        }
        let a = held
        guard a.flattenedFrom == nil || a.dims.count == 2 else { throw op.pattern("Flatten of a flattened tensor") }
        flatten(a, op, output: try op.output(0))
    }

    /// The target shape of a Reshape with 0 (copy, unless `allowzero`) and -1 (infer) resolved.
    private func reshapeTarget(_ op: NodeContext, input dims: [Int]) throws -> [Int] {
        let raw: [Int]
        if op.opset < 5, let s = op.ints("shape") {
            raw = s
        } else {
            raw = try constant(try op.input(1), op).integers.map { Int($0) }
        }
        guard raw.count <= ONNXLimits.maxRank else {
            throw op.invalid("Reshape target \(ONNXLimits.short(raw)): more than \(ONNXLimits.maxRank) dims")
        }
        let allowZero = op.int("allowzero", 0) != 0
        var target = raw.enumerated().map { (i, d) in d == 0 && !allowZero && i < dims.count ? dims[i] : d }
        // Every dimension is checked against ONNXLimits before any product is formed.
        guard let total = ONNXLimits.elementCount(dims), target.filter({ $0 == -1 }).count <= 1 else {
            throw op.mismatch("cannot reshape \(dims) to \(raw)")
        }
        if let inferred = target.firstIndex(of: -1) {
            var known = target
            known.remove(at: inferred)
            guard let k = ONNXLimits.elementCount(known), k > 0, total % k == 0 else {
                throw op.mismatch("cannot reshape \(dims) to \(raw)")
            }
            target[inferred] = total / k
        }
        guard ONNXLimits.elementCount(target) == total else {
            throw op.mismatch("cannot reshape \(dims) to \(raw)")
        }
        return target
    }

    func importReshape(_ op: NodeContext) throws {
        let input = try value(try op.input(0), op)
        let output = try op.output(0)
        let target = try reshapeTarget(op, input: input.onnxDims)
        switch input {
        case .constant(var c):
            c.dims = target
            values[output] = .constant(c)
        case .shuffleTransposed(let a, let groups):
            guard target == a.dims else { throw op.pattern("channel shuffle must reshape back to \(a.dims), not \(target)") }
            emit(op, .channelShuffle(groups: groups), inputs: [a.tensor], output: output, dims: a.dims)
        case .shuffleSplit(let a, _):
            guard target == a.dims else { throw op.pattern("reshape of a rank-5 tensor to \(target)") }
            values[output] = .activation(a)
        case .nhwcView:
            throw op.pattern("reshape of an NCHW → NHWC transpose (supported only as a graph output)")
        case .activation(let a) where a.plain:
            if target == a.dims {
                values[output] = .activation(a)
            } else {
                try emitPlain(op, .reshape, inputs: [a.tensor], output: output, dims: target)
            }
        case .activation(let a):
            if let from = a.flattenedFrom {
                if target == a.dims {
                    values[output] = .activation(a)
                } else if target == from {
                    emit(op, .reshape, inputs: [a.tensor], output: output, dims: from)
                } else {
                    try emitPlain(op, .reshape, inputs: [plain(a, op).tensor], output: output, dims: target)
                }
                return
            }
            if target == a.dims {
                values[output] = .activation(a)
            } else if a.dims.count == 4 && target.count == 2 && target[0] == a.dims[0] {
                flatten(a, op, output: output)
            } else if a.dims.count == 2 && target.count == 4 && target == [a.dims[0], a.dims[1], 1, 1] {
                values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: target))
            } else if a.dims.count == 4 && target.count == 4 && a.dims[2] * a.dims[3] == 1
                && target[0] == a.dims[0] && target[1] == a.dims[1]
            {
                values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: target))
            } else if a.dims.count == 4 && target.count == 5 && target[0] == a.dims[0]
                && target[1] * target[2] == a.dims[1] && target[3] == a.dims[2] && target[4] == a.dims[3]
            {
                values[output] = .shuffleSplit(a, groups: target[1])
            } else {
                // Any other reshape: the data in ONNX order (a strided copy from NHWC), then
                // the same bytes with the new dims.
                try emitPlain(op, .reshape, inputs: [plain(a, op).tensor], output: output, dims: target)
            }
        }
    }

    func importTranspose(_ op: NodeContext) throws {
        let input = try value(try op.input(0), op)
        let rank = input.onnxDims.count
        let perm = op.ints("perm") ?? Array((0..<rank).reversed())
        try checkPermutation(perm, rank: rank, op)
        let output = try op.output(0)
        switch input {
        case .shuffleSplit(let a, let groups) where perm == [0, 2, 1, 3, 4]:
            values[output] = .shuffleTransposed(a, groups: groups)
        case .activation(let a) where perm == Array(0..<rank):
            values[output] = .activation(a)
        case .activation(let a) where rank == 4 && perm == [0, 3, 1, 2] && !a.plain && graph.inputs.contains(a.tensor)
            && onnxConsumers[op.node.inputs[0]] == 1:
            // tf2onnx: an NHWC graph input transposed to NCHW. Quanta's layout is NHWC, so the
            // input is taken as it is, declared NHWC (dims were read as [N, H, W, C]).
            let (n, h, w, c) = (a.dims[0], a.dims[1], a.dims[2], a.dims[3])
            graph.tensors[a.tensor].shape = TensorShape(n: n, h: h, w: w, c: c)
            graph.tensors[a.tensor].sourceLayout = .nhwc
            values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: [n, c, h, w]))
        case .activation(let a) where rank == 4 && perm == [0, 2, 3, 1] && a.flattenedFrom == nil && !a.plain:
            // NCHW → NHWC before a graph output (tf2onnx): the data is already NHWC.
            values[output] = .nhwcView(a)
        case .activation(let a):
            // Any permutation: a strided copy of the storage (NHWC or ONNX order) into ONNX
            // order; a reshape when it moves no byte.
            let source = a.flattenedFrom == nil ? a : plain(a, op)
            let view: StridedView
            if source.plain {
                view = .transpose(shape: source.dims, permutation: perm)
            } else {
                let dense = StridedView.denseStrides(storageDims(source.dims))
                view = StridedView(
                    dims: perm.map { source.dims[$0] }, strides: perm.map { dense[storageAxis($0, rank: rank)] }, base: 0)
            }
            let count = source.dims.reduce(1, *)
            try emitPlain(op, view.isIdentity(inputCount: count) ? .reshape : .stridedCopy(view), inputs: [source.tensor],
                      output: output, dims: view.dims)
        default:
            throw op.pattern(
                "Transpose with perm \(perm) of \(input.onnxDims): a rank-5 tensor that is not part of a channel shuffle "
                    + "(Reshape [N,g,C/g,H,W] → Transpose (0,2,1,3,4) → Reshape)")
        }
    }

    // MARK: Concat, split, slice (any axis of the NHWC-held activations)

    /// The channel axis for `rank`, or nil when `axis` is another axis.
    private func isChannelAxis(_ axis: Int, rank: Int) -> Bool {
        (axis < 0 ? axis + rank : axis) == 1
    }

    /// The axis of the NHWC storage that holds ONNX axis `axis` of an `[N, C, H, W]` or
    /// `[N, C]` activation (Quanta holds `[N, C]` as `N×1×1×C`).
    private func storageAxis(_ axis: Int, rank: Int) -> Int {
        rank == 4 ? [0, 3, 1, 2][axis] : [0, 3][axis]
    }

    /// Storage axis of ONNX axis `axis` of `a` (the axis itself when `a` is plain).
    private func storageAxis(_ axis: Int, of a: ImportedActivation) -> Int {
        a.plain ? axis : storageAxis(axis, rank: a.dims.count)
    }

    /// Storage dims of `a` (its dims when plain).
    private func storageDims(of a: ImportedActivation) -> [Int] {
        a.plain ? a.dims : storageDims(a.dims)
    }

    /// The NHWC storage dims of an ONNX `[N, C, H, W]` or `[N, C]` shape.
    private func storageDims(_ dims: [Int]) -> [Int] {
        let s = nhwcShape(dims)
        return [s.n, s.h, s.w, s.c]
    }

    /// A slice of activation `a` (ONNX axes: first element, step and count per axis) as a
    /// strided view of its NHWC storage.
    private func storageSlice(_ a: ImportedActivation, start: [Int], step: [Int], count: [Int]) -> StridedView {
        let shape = storageDims(of: a)
        var first = [Int](repeating: 0, count: shape.count), steps = [Int](repeating: 1, count: shape.count), counts = shape
        for axis in a.dims.indices {
            let k = storageAxis(axis, of: a)
            (first[k], steps[k], counts[k]) = (start[axis], step[axis], count[axis])
        }
        return .slice(shape: shape, start: first, step: steps, count: counts)
    }


    func importConcat(_ op: NodeContext) throws {
        let names = op.node.inputs.filter { !$0.isEmpty }
        var constants: [Int: ImportedConstant] = [:]
        for (k, name) in names.enumerated() { if case .constant(let c) = try value(name, op) { constants[k] = c } }
        var inputs = try names.enumerated().map { k, name in
            // A constant input joins as a constant tensor in ONNX order.
            try constants[k].map { ImportedActivation(tensor: -1, dims: $0.dims, plain: true) } ?? anyActivation(name, op)
        }
        guard let first = inputs.first, constants.count < names.count else { throw op.mismatch("no activation among the inputs") }
        let rank = first.dims.count
        let axis = try op.axis(op.int("axis", 1), rank: rank, "Concat axis")
        // Mixed holdings join in ONNX order.
        if inputs.contains(where: { $0.plain || $0.flattenedFrom != nil }) {
            inputs = inputs.enumerated().map { k, a in
                guard let c = constants[k] else { return plain(a, op) }
                let t = addConstantTensor(name: "\(names[k]) [\(op.name)]", shape: plainShape(c.dims), data: c.floats)
                return ImportedActivation(tensor: t, dims: c.dims, plain: true)
            }
        }
        var along = 0
        for a in inputs {
            guard a.dims.count == rank,
                a.dims.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.dims[$0.offset] })
            else { throw op.mismatch("inputs \(inputs.map { $0.dims }) differ outside axis \(axis)") }
            along += a.dims[axis]
        }
        var dims = inputs[0].dims
        dims[axis] = along
        let output = try op.output(0)
        let held = ImportedActivation(tensor: -1, dims: dims, plain: inputs[0].plain)
        let k = storageAxis(axis, of: held)
        let store = storageDims(of: held)
        guard k != store.count - 1 else {
            try emitLike(held, op, .concat, inputs: inputs.map { $0.tensor }, output: output, dims: dims)
            return
        }
        // Along another axis: the channel concat of the inputs viewed as outer × (d·inner)
        // rows of their storage (reshapes, free), reshaped to the output.
        let outer = store[..<k].reduce(1, *), inner = store[(k + 1)...].reduce(1, *)
        func rows(_ d: Int, _ what: String) -> Int {
            graph.addTensor(GraphTensor(name: "\(output) [\(what) as rows]", shape: TensorShape(n: 1, h: 1, w: outer, c: d * inner)))
        }
        var views: [Int] = []
        for (i, a) in inputs.enumerated() {
            let view = rows(storageDims(of: a)[k], "input \(i)")
            producer[view] = graph.addNode(GraphNode(name: op.name, op: .reshape, inputs: [a.tensor], outputs: [view]))
            views.append(view)
        }
        let joined = rows(store[k], "output")
        producer[joined] = graph.addNode(GraphNode(name: op.name, op: .concat, inputs: views, outputs: [joined]))
        try emitLike(held, op, .reshape, inputs: [joined], output: output, dims: dims)
    }

    func importSplit(_ op: NodeContext) throws {
        var a = try anyActivation(try op.input(0), op)
        if a.flattenedFrom != nil { a = plain(a, op) }
        let rank = a.dims.count
        let axis = try op.axis(op.int("axis", 0), rank: rank, "Split axis")
        let c = a.dims[axis]
        let count = op.node.outputs.count
        var sizes: [Int]
        if op.opset < 13, let s = op.ints("split") {
            sizes = s
        } else if let name = op.optionalInput(1) {
            sizes = try constant(name, op).integers.map { Int($0) }
        } else if let n = op.ints("num_outputs").map({ _ in op.int("num_outputs", count) }) {
            guard n >= 1, n <= c else { throw op.mismatch("\(c) values do not split into \(n) outputs") }
            let chunk = (c + n - 1) / n
            sizes = (0..<n).map { min(chunk, c - $0 * chunk) }
        } else {
            guard count > 0, c % count == 0 else { throw op.mismatch("\(c) values of axis \(axis) do not split evenly into \(count)") }
            sizes = [Int](repeating: c / count, count: count)
        }
        guard sizes.count == count, sizes.allSatisfy({ $0 > 0 && $0 <= c }), sizes.reduce(0, +) == c else {
            throw op.mismatch("split \(sizes) does not cover \(c) values of axis \(axis) in \(count) outputs")
        }
        var start = 0
        for (i, size) in sizes.enumerated() {
            let name = op.node.outputs[i]
            if !name.isEmpty {
                var dims = a.dims
                dims[axis] = size
                if storageAxis(axis, of: a) == storageDims(of: a).count - 1 {
                    try emitLike(a, op, .sliceChannels(start: start, count: size), inputs: [a.tensor], output: name, dims: dims)
                } else {
                    var first = [Int](repeating: 0, count: rank)
                    first[axis] = start
                    let view = storageSlice(a, start: first, step: [Int](repeating: 1, count: rank), count: dims)
                    try emitLike(a, op, .stridedCopy(view), inputs: [a.tensor], output: name, dims: dims)
                }
            }
            start += size
        }
    }

    /// Slice parameters per axis: starts, ends, axes, steps (attributes before opset 10).
    private func sliceParameters(_ op: NodeContext, rank: Int) throws -> (starts: [Int64], ends: [Int64], axes: [Int], steps: [Int64]) {
        let starts: [Int64], ends: [Int64]
        var axes: [Int]?
        var steps: [Int64]?
        if op.opset < 10 {
            starts = (op.ints("starts") ?? []).map { Int64($0) }
            ends = (op.ints("ends") ?? []).map { Int64($0) }
            axes = op.ints("axes")
        } else {
            starts = try constant(try op.input(1), op).integers
            ends = try constant(try op.input(2), op).integers
            if let n = op.optionalInput(3) { axes = try constant(n, op).integers.map { Int($0) } }
            if let n = op.optionalInput(4) { steps = try constant(n, op).integers }
        }
        let ax = (axes ?? Array(0..<starts.count)).map { $0 < 0 ? $0 + rank : $0 }
        let st = steps ?? [Int64](repeating: 1, count: starts.count)
        guard starts.count == ends.count, ax.count == starts.count, st.count == starts.count,
            ax.allSatisfy({ $0 >= 0 && $0 < rank })
        else { throw op.mismatch("inconsistent Slice starts/ends/axes/steps") }
        guard Set(ax).count == ax.count else { throw op.invalid("Slice axes \(axes ?? []): an axis is repeated") }
        guard !st.contains(0) else { throw op.invalid("Slice steps \(st): a step is 0") }
        return (starts, ends, ax, st)
    }

    /// `[start, end)` of a step-1 slice of an axis of size `dim`, clamped as ONNX does.
    private func clampedRange(_ start: Int64, _ end: Int64, dim: Int) -> (Int, Int) {
        func clamp(_ v: Int64) -> Int {
            let d = Int64(dim)
            let x = v < 0 ? v + d : v
            return Int(min(max(x, 0), d))
        }
        return (clamp(start), max(clamp(start), clamp(end)))
    }

    /// First element and count of a slice of an axis of size `dim` with `step` (not 0),
    /// clamped as ONNX does: negative starts and ends count from the end; for a positive
    /// step both are clamped to `0...dim`, for a negative one the start to `0...dim-1` and
    /// the end to `-1...dim-1`. Steps beyond ±2^31 are refused first.
    private func sliceRange(_ start: Int64, _ end: Int64, step: Int64, dim: Int, _ op: NodeContext) throws -> (first: Int, count: Int) {
        guard step >= -(1 << 31), step <= 1 << 31 else { throw op.unsupported("Slice step \(step)") }
        let d = Int64(dim)
        var s = start < 0 ? start + d : start
        var e = end < 0 ? end + d : end
        if step > 0 {
            s = min(max(s, 0), d)
            e = min(max(e, 0), d)
            return (Int(s), Int(max(0, (e - s + step - 1) / step)))
        }
        s = min(max(s, 0), d - 1)
        e = min(max(e, -1), d - 1)
        return (Int(s), Int(max(0, (s - e - step - 1) / -step)))
    }

    /// Slice of any axes with any steps: a channel range of step 1 is the vector channel
    /// slice, anything else a strided copy of the NHWC storage.
    func importSlice(_ op: NodeContext) throws {
        var a = try anyActivation(try op.input(0), op)
        if a.flattenedFrom != nil { a = plain(a, op) }
        let rank = a.dims.count
        let p = try sliceParameters(op, rank: rank)
        var start = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), count = a.dims
        for k in 0..<p.axes.count {
            let axis = p.axes[k]
            let range = try sliceRange(p.starts[k], p.ends[k], step: p.steps[k], dim: a.dims[axis], op)
            guard range.count > 0 else { throw op.mismatch("empty slice of axis \(axis) of \(a.dims)") }
            (start[axis], step[axis], count[axis]) = (range.first, Int(p.steps[k]), range.count)
        }
        let output = try op.output(0)
        if count == a.dims && step.allSatisfy({ $0 == 1 }) {
            values[output] = .activation(a)
        } else if let c = (0..<rank).first(where: { storageAxis($0, of: a) == storageDims(of: a).count - 1 }),
                  step.allSatisfy({ $0 == 1 }), (0..<rank).allSatisfy({ $0 == c || count[$0] == a.dims[$0] }) {
            try emitLike(a, op, .sliceChannels(start: start[c], count: count[c]), inputs: [a.tensor], output: output, dims: count)
        } else {
            try emitLike(a, op, .stridedCopy(storageSlice(a, start: start, step: step, count: count)), inputs: [a.tensor],
                     output: output, dims: count)
        }
    }

    /// DepthToSpace (DCR or CRD) and SpaceToDepth of an `[N, C, H, W]` activation with block
    /// `b`: one strided copy of the NHWC storage into NHWC (six axes):
    ///
    ///     DepthToSpace: out[n, y·b+i, x·b+j, c] = in[n, y, x, (i·b+j)·C' + c]   (DCR)
    ///                                           = in[n, y, x, c·b² + i·b + j]  (CRD)
    ///     SpaceToDepth: out[n, y, x, (i·b+j)·C + c] = in[n, y·b+i, x·b+j, c]    (DCR)
    ///                   out[n, y, x, c·b² + i·b + j] = in[n, y·b+i, x·b+j, c]   (CRD)
    func importDepthSpace(_ op: NodeContext) throws {
        let a = try spatialActivation(try op.input(0), op)
        let (n, c, h, w) = (a.dims[0], a.dims[1], a.dims[2], a.dims[3])
        let b = op.int("blocksize", 0)
        guard b >= 1, b <= ModelFormat.maxGeometry else { throw op.invalid("blocksize \(b)") }
        let (sN, sH, sW) = (h * w * c, w * c, c)  // NHWC strides of the input
        let view: StridedView, dims: [Int]
        let mode = op.string("mode", "DCR")
        guard mode == "DCR" || mode == "CRD" else { throw op.unsupported("\(op.opType) mode '\(mode)'") }
        if op.opType == "DepthToSpace" {
            guard c % (b * b) == 0 else { throw op.mismatch("\(c) channels are not a multiple of blocksize² \(b * b)") }
            let co = c / (b * b)
            let (si, sj, sc) = mode == "DCR" ? (b * co, co, 1) : (b, 1, b * b)
            view = StridedView(dims: [n, h, b, w, b, co], strides: [sN, sH, si, sW, sj, sc], base: 0)
            dims = [n, co, h * b, w * b]
        } else {
            guard h % b == 0, w % b == 0 else { throw op.mismatch("\(h)×\(w) is not a multiple of blocksize \(b)") }
            view = mode == "DCR"
                ? StridedView(dims: [n, h / b, w / b, b, b, c], strides: [sN, b * sH, b * sW, sH, sW, 1], base: 0)
                : StridedView(dims: [n, h / b, w / b, c, b, b], strides: [sN, b * sH, b * sW, 1, sH, sW], base: 0)
            dims = [n, c * b * b, h / b, w / b]
        }
        emit(op, .stridedCopy(view), inputs: [a.tensor], output: try op.output(0), dims: dims)
    }

    /// Gather of an activation with constant indices (negative ones count from the end):
    /// evenly spaced ones (one index, a run, a stride, repeats) are one strided view of the
    /// data in ONNX order, `out[…, j…, …] = data[…, i0 + k·d, …]` with `k` the row-major
    /// position of `j` in the indices; any others one slice per index joined by the row-view
    /// concat. Output dims: `data[..<axis] + indices + data[(axis+1)...]`.
    func importGather(_ op: NodeContext) throws {
        let held = try anyActivation(try op.input(0), op)
        let rank = held.dims.count
        let axis = try op.axis(op.int("axis", 0), rank: rank, "Gather axis")
        let indices = try constant(try op.input(1), op)
        let d = held.dims[axis]
        let raw = indices.integers
        guard !raw.isEmpty, raw.allSatisfy({ $0 >= -Int64(d) && $0 < Int64(d) }) else {
            throw op.invalid("Gather indices \(ONNXLimits.short(raw.map { Int(clamping: $0) })) outside -\(d)..<\(d)")
        }
        let index = raw.map { Int($0 < 0 ? $0 + Int64(d) : $0) }
        let step = index.count > 1 ? index[1] - index[0] : 1
        let a = plain(held, op)
        let dims = Array(a.dims[..<axis]) + indices.dims + Array(a.dims[(axis + 1)...])
        guard dims.count <= ONNXLimits.maxRank, ONNXLimits.elementCount(dims) != nil else {
            throw op.unsupported("a Gather result of shape \(ONNXLimits.short(dims))")
        }
        guard zip(index, index.dropFirst()).allSatisfy({ $1 - $0 == step }) else {
            guard index.count <= 255 else { throw op.unsupported("Gather of \(index.count) unevenly spaced indices (at most 255)") }
            let outer = a.dims[..<axis].reduce(1, *), inner = a.dims[(axis + 1)...].reduce(1, *)
            let output = try op.output(0)
            var parts: [Int] = []
            for (k, i) in index.enumerated() {
                var start = [Int](repeating: 0, count: rank), count = a.dims
                (start[axis], count[axis]) = (i, 1)
                let view = StridedView.slice(shape: a.dims, start: start, step: [Int](repeating: 1, count: rank), count: count)
                let t = graph.addTensor(GraphTensor(name: "\(output) [index \(k)]", shape: TensorShape(n: 1, h: 1, w: outer, c: inner)))
                producer[t] = graph.addNode(GraphNode(name: op.name, op: .stridedCopy(view), inputs: [a.tensor], outputs: [t]))
                parts.append(t)
            }
            let joined = graph.addTensor(GraphTensor(name: "\(output) [rows]", shape: TensorShape(n: 1, h: 1, w: outer, c: index.count * inner)))
            producer[joined] = graph.addNode(GraphNode(name: op.name, op: .concat, inputs: parts, outputs: [joined]))
            try emitPlain(op, .reshape, inputs: [joined], output: output, dims: dims)
            return
        }
        var start = [Int](repeating: 0, count: rank), steps = [Int](repeating: 1, count: rank), count = a.dims
        (start[axis], steps[axis], count[axis]) = (index[0], step, index.count)
        let view = StridedView.slice(shape: a.dims, start: start, step: steps, count: count)
        try emitPlain(op, view.isIdentity(inputCount: a.dims.reduce(1, *)) ? .reshape : .stridedCopy(view),
                  inputs: [a.tensor], output: try op.output(0), dims: dims)
    }

    // MARK: Pad, Squeeze, Unsqueeze

    /// Pad of H and W; pads from the attribute before opset 11, from the constant input
    /// after. `constant` → `.pad`; `reflect` and `edge` → `.borderPad` (reflect needs each
    /// pad below the size it pads, as numpy and onnxruntime do); `wrap` (opset 19) is not
    /// supported.
    func importPad(_ op: NodeContext) throws {
        let a = try spatialActivation(try op.input(0), op)
        let mode = op.string("mode", "constant")
        let border: BorderPadMode?
        switch mode {
        case "constant": border = nil
        case "reflect": border = .reflect
        case "edge": border = .edge
        default: throw op.unsupported("Pad mode '\(mode)' (constant, reflect and edge only)")
        }
        var pads: [Int]
        var value: Float = 0
        if op.opset < 11 {
            pads = op.ints("pads") ?? op.ints("paddings") ?? []
            value = op.float("value", 0)
        } else {
            pads = try constant(try op.input(1), op).integers.map { Int($0) }
            if let v = op.optionalInput(2) {
                let c = try constant(v, op)
                guard c.count == 1 else { throw op.mismatch("constant_value must be a scalar") }
                value = c.floats[0]
            }
            if let axesName = op.optionalInput(3) {
                let raw = try constant(axesName, op).integers
                let axes = try raw.map { try op.axis(Int(clamping: $0), rank: 4, "Pad axis") }
                guard Set(axes).count == axes.count else { throw op.invalid("Pad axes \(raw): an axis is repeated") }
                guard pads.count == 2 * axes.count else {
                    throw op.invalid("pads \(pads) for axes \(raw): needs \(2 * axes.count) values (begin and end per axis)")
                }
                var full = [Int](repeating: 0, count: 8)
                for (k, axis) in axes.enumerated() {
                    full[axis] = pads[k]
                    full[axis + 4] = pads[k + axes.count]
                }
                pads = full
            }
        }
        guard pads.count == 8 else { throw op.mismatch("pads \(pads) for a rank-4 tensor") }
        guard pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw op.unsupported("padding of the batch or channel axis \(pads)")
        }
        guard pads.allSatisfy({ $0 >= 0 }) else { throw op.unsupported("negative pads \(pads)") }
        guard pads.allSatisfy({ $0 <= ModelFormat.maxGeometry }) else {
            throw op.unsupported("pads \(pads) (at most \(ModelFormat.maxGeometry))")
        }
        let padding = Padding(top: pads[2], left: pads[3], bottom: pads[6], right: pads[7])
        let dims = [a.dims[0], a.dims[1], a.dims[2] + pads[2] + pads[6], a.dims[3] + pads[3] + pads[7]]
        if let border {
            if border == .reflect {
                guard max(pads[2], pads[6]) < a.dims[2], max(pads[3], pads[7]) < a.dims[3] else {
                    throw op.unsupported("Pad reflect by \(pads) of \(a.dims) (each pad must be below the size it pads)")
                }
            }
            if pads.allSatisfy({ $0 == 0 }) {
                values[try op.output(0)] = .activation(a)
                return
            }
            emit(op, .borderPad(padding, mode: border), inputs: [a.tensor], output: try op.output(0), dims: dims)
            return
        }
        emit(op, .pad(padding, value: value), inputs: [a.tensor], output: try op.output(0), dims: dims)
    }

    /// The axes of a Squeeze/Unsqueeze (attribute before opset 13, input after).
    private func squeezeAxes(_ op: NodeContext) throws -> [Int]? {
        if op.opset < 13 { return op.ints("axes") }
        return try op.optionalInput(1).map { try constant($0, op).integers.map { Int($0) } }
    }

    /// Squeeze and Unsqueeze: `[N, C, 1, 1]` ↔ `[N, C]` keep the NHWC-held data; any other
    /// is a reshape of the data in ONNX order (free on a plain tensor).
    func importSqueeze(_ op: NodeContext) throws {
        let a = try anyActivation(try op.input(0), op)
        let axes = try squeezeAxes(op)
        let output = try op.output(0)
        let rank = a.dims.count
        var dims: [Int]
        if op.opType == "Squeeze" {
            let normalized = try Set((axes ?? a.dims.indices.filter { a.dims[$0] == 1 }).map { try op.axis($0, rank: rank, "Squeeze axis") })
            guard normalized.allSatisfy({ a.dims[$0] == 1 }) else {
                throw op.mismatch("Squeeze of \(a.dims) over axes \(axes ?? []): a squeezed dimension is not 1")
            }
            dims = a.dims.indices.filter { !normalized.contains($0) }.map { a.dims[$0] }
            if !a.plain, rank == 4, normalized == [2, 3] {
                values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: dims))
                return
            }
        } else {
            let raw = axes ?? []
            let outRank = rank + raw.count
            let normalized = try raw.map { try op.axis($0, rank: outRank, "Unsqueeze axis") }
            guard Set(normalized).count == normalized.count, outRank <= ONNXLimits.maxRank else {
                throw op.invalid("Unsqueeze axes \(raw) of a rank-\(rank) tensor")
            }
            var rest = a.dims.makeIterator()
            dims = (0..<outRank).map { normalized.contains($0) ? 1 : rest.next() ?? 1 }
            if !a.plain, rank == 2, a.flattenedFrom == nil, Set(normalized) == [2, 3] {
                values[output] = .activation(ImportedActivation(tensor: a.tensor, dims: dims))
                return
            }
        }
        try emitPlain(op, .reshape, inputs: [plain(a, op).tensor], output: output, dims: dims)
    }

    // MARK: Constants and shape arithmetic

    func importConstantNode(_ op: NodeContext) throws {
        let output = try op.output(0)
        if let t = op.node.attribute("value")?.t {
            values[output] = .constant(try constant(from: t))
        } else if let a = op.node.attribute("value_float") {
            values[output] = .constant(ImportedConstant(dims: [], floats: [a.f]))
        } else if let a = op.node.attribute("value_floats") {
            values[output] = .constant(ImportedConstant(dims: [a.floats.count], floats: a.floats))
        } else if let a = op.node.attribute("value_int") {
            values[output] = .constant(ImportedConstant(dims: [], ints: [a.i]))
        } else if let a = op.node.attribute("value_ints") {
            values[output] = .constant(ImportedConstant(dims: [a.ints.count], ints: a.ints))
        } else {
            throw op.unsupported("Constant without a value, value_float(s) or value_int(s) attribute")
        }
    }

    /// Shape of any value (its ONNX dims), as an int64 constant.
    func importShape(_ op: NodeContext) throws {
        let dims = try value(try op.input(0), op).onnxDims
        let rank = dims.count
        func norm(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let start = norm(op.int("start", 0)), end = norm(op.int("end", rank))
        let slice = start < end ? Array(dims[start..<end]) : []
        values[try op.output(0)] = .constant(ImportedConstant(dims: [slice.count], ints: slice.map { Int64($0) }))
    }

    /// Evaluates a node whose inputs are all constants (shape arithmetic, constant
    /// weights transposed or reshaped). Returns false when the node is not one of these.
    func foldConstantNode(_ op: NodeContext) throws -> Bool {
        let names = op.node.inputs.filter { !$0.isEmpty }
        guard !names.isEmpty else { return false }
        var inputs: [ImportedConstant] = []
        for n in names {
            guard case .constant(let c)? = values[n] else { return false }
            inputs.append(c)
        }
        let x = inputs[0]
        let result: ImportedConstant
        switch op.opType {
        case "Identity", "Dropout":
            result = x
        case "Cast":
            let to = op.int("to", 1)
            let isFloat = to == 1 || to == 10 || to == 11 || to == 16
            result = isFloat ? ImportedConstant(dims: x.dims, floats: x.floats) : ImportedConstant(dims: x.dims, ints: x.integers)
        case "Reshape":
            var r = x
            r.dims = try reshapeTarget(op, input: x.dims)
            result = r
        case "Flatten":
            var axis = op.int("axis", 1)
            guard axis >= -x.dims.count, axis <= x.dims.count else { throw op.invalid("axis \(axis) for rank \(x.dims.count)") }
            if axis < 0 { axis += x.dims.count }
            var r = x
            r.dims = [x.dims.prefix(axis).reduce(1, *), x.dims.dropFirst(axis).reduce(1, *)]
            result = r
        case "Squeeze", "Unsqueeze":
            let axes = try squeezeAxes(op)
            var r = x
            if op.opType == "Squeeze" {
                let normalized = try (axes ?? x.dims.indices.filter { x.dims[$0] == 1 }).map { try op.axis($0, rank: x.dims.count) }
                let set = Set(normalized)
                guard set.count == normalized.count else { throw op.invalid("repeated axes \(axes ?? [])") }
                guard set.allSatisfy({ x.dims[$0] == 1 }) else { throw op.invalid("axes \(axes ?? []) of \(x.dims): only dims of 1 squeeze") }
                r.dims = x.dims.enumerated().filter { !set.contains($0.offset) }.map { $0.element }
            } else {
                let outRank = x.dims.count + (axes?.count ?? 0)
                let normalized = try (axes ?? []).map { try op.axis($0, rank: outRank) }
                let set = Set(normalized)
                guard set.count == normalized.count else { throw op.invalid("repeated axes \(axes ?? [])") }
                var it = x.dims.makeIterator()
                r.dims = (0..<outRank).map { set.contains($0) ? 1 : it.next() ?? 1 }
            }
            result = r
        case "Concat":
            result = try concatConstants(inputs, axis: op.int("axis", 0), op)
        case "Gather":
            result = try gatherConstant(x, indices: inputs.count > 1 ? inputs[1] : x, axis: op.int("axis", 0), op)
        case "Transpose":
            let perm = op.ints("perm") ?? Array((0..<x.dims.count).reversed())
            try checkPermutation(perm, rank: x.dims.count, op)
            result = transposeConstant(x, perm: perm)
        case "Add", "Sub", "Mul", "Div", "Equal", "Min", "Max":
            guard inputs.count >= 2 else { return false }
            result = try inputs.dropFirst().reduce(inputs[0]) { try elementwiseConstants($0, $1, op) }
        case "Neg":
            result = x.ints.map { ImportedConstant(dims: x.dims, ints: $0.map { 0 &- $0 }) }
                ?? ImportedConstant(dims: x.dims, floats: x.floats.map { -$0 })
        case "Floor", "Ceil", "Sqrt":
            let f: (Float) -> Float = op.opType == "Floor" ? { $0.rounded(.down) } : op.opType == "Ceil" ? { $0.rounded(.up) } : { $0.squareRoot() }
            result = ImportedConstant(dims: x.dims, floats: x.floats.map(f))
        case "ConstantOfShape":
            guard x.count <= ONNXLimits.maxRank else { throw op.invalid("ConstantOfShape of \(x.count) dims (at most \(ONNXLimits.maxRank))") }
            let dims = x.integers.map { Int($0) }
            guard let count = ONNXLimits.elementCount(dims) else { throw op.mismatch("ConstantOfShape of \(dims)") }
            try op.check("the element count of ConstantOfShape \(dims)", count, limit: ONNXLimits.maxFoldedElements)
            let fill = try op.node.attribute("value")?.t.map { try constant(from: $0) } ?? ImportedConstant(dims: [1], floats: [0])
            guard fill.count == 1 else { throw op.mismatch("ConstantOfShape value must have one element") }
            result = fill.ints.map { ImportedConstant(dims: dims, ints: [Int64](repeating: $0[0], count: count)) }
                ?? ImportedConstant(dims: dims, floats: [Float](repeating: fill.floats[0], count: count))
        case "Range":
            guard inputs.count == 3, inputs.allSatisfy({ $0.count == 1 }) else { throw op.mismatch("Range needs three scalars") }
            let (start, limit, delta) = (inputs[0], inputs[1], inputs[2])
            let useInts = start.ints != nil && limit.ints != nil && delta.ints != nil
            let s = useInts ? Double(start.integers[0]) : Double(start.floats[0])
            let l = useInts ? Double(limit.integers[0]) : Double(limit.floats[0])
            let d = useInts ? Double(delta.integers[0]) : Double(delta.floats[0])
            let span = ((l - s) / d).rounded(.up)
            guard d != 0, span.isFinite, span <= Double(ONNXLimits.maxElementCount) else {
                throw op.mismatch("Range(\(s), \(l), \(d))")
            }
            let n = span <= 0 ? 0 : Int(span)
            try op.check("the element count of Range(\(s), \(l), \(d))", n, limit: ONNXLimits.maxFoldedElements)
            result = useInts
                ? ImportedConstant(dims: [n], ints: (0..<n).map { start.integers[0] &+ Int64($0) &* delta.integers[0] })
                : ImportedConstant(dims: [n], floats: (0..<n).map { start.floats[0] + Float($0) * delta.floats[0] })
        case "Expand":
            guard inputs.count == 2 else { return false }
            guard inputs[1].count <= ONNXLimits.maxRank else { throw op.invalid("Expand to \(inputs[1].count) dims (at most \(ONNXLimits.maxRank))") }
            let shape = ImportedConstant(dims: inputs[1].integers.map { Int($0) }, floats: [])
            result = try broadcastConstants([x], outputDims: broadcastDims([x.dims, shape.dims], op), op) { $0[0] }
        case "Where":
            guard inputs.count == 3 else { return false }
            let dims = try broadcastDims(inputs.map { $0.dims }, op)
            let allInts = inputs[1].ints != nil && inputs[2].ints != nil
            result = try broadcastConstants(inputs, outputDims: dims, op, ints: allInts) { $0[0] != 0 ? $0[1] : $0[2] }
        case "Slice":
            guard x.dims.count == 1 else { return false }
            let p = try sliceParameters(op, rank: 1)
            guard p.steps == [1] else { return false }
            let (s, e) = clampedRange(p.starts[0], p.ends[0], dim: x.dims[0])
            result = x.ints.map { ImportedConstant(dims: [e - s], ints: Array($0[s..<e])) }
                ?? ImportedConstant(dims: [e - s], floats: Array(x.floats[s..<e]))
        default:
            return false
        }
        values[try op.output(0)] = .constant(result)
        return true
    }

    private func strides(_ dims: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= dims[i]
        }
        return s
    }

    private func concatConstants(_ inputs: [ImportedConstant], axis: Int, _ op: NodeContext) throws -> ImportedConstant {
        let rank = inputs[0].dims.count
        guard inputs.allSatisfy({ $0.dims.count == rank }) else { throw op.mismatch("Concat of constants of different ranks") }
        let ax = try op.axis(axis, rank: rank)
        guard inputs.allSatisfy({ c in c.dims.indices.allSatisfy { $0 == ax || c.dims[$0] == inputs[0].dims[$0] } }) else {
            throw op.mismatch("Concat of \(inputs.map { $0.dims }) on axis \(axis): the other dims differ")
        }
        try op.check("the element count of the Concat", inputs.reduce(0) { $0 + $1.count }, limit: ONNXLimits.maxFoldedElements)
        let outer = inputs[0].dims.prefix(ax).reduce(1, *)
        let inner = inputs[0].dims.dropFirst(ax + 1).reduce(1, *)
        let allInts = inputs.allSatisfy { $0.ints != nil }
        var floats: [Float] = [], ints: [Int64] = []
        for o in 0..<outer {
            for c in inputs {
                let chunk = c.dims[ax] * inner
                floats += c.floats[(o * chunk)..<((o + 1) * chunk)]
                if allInts { ints += c.ints![(o * chunk)..<((o + 1) * chunk)] }
            }
        }
        var dims = inputs[0].dims
        dims[ax] = inputs.reduce(0) { $0 + $1.dims[ax] }
        return allInts ? ImportedConstant(dims: dims, ints: ints) : ImportedConstant(dims: dims, floats: floats)
    }

    private func gatherConstant(_ x: ImportedConstant, indices: ImportedConstant, axis: Int, _ op: NodeContext) throws -> ImportedConstant {
        let rank = x.dims.count
        let ax = axis < 0 ? axis + rank : axis
        guard ax >= 0, ax < rank else { throw op.mismatch("Gather axis \(axis) of \(x.dims)") }
        let outer = x.dims.prefix(ax).reduce(1, *)
        let inner = x.dims.dropFirst(ax + 1).reduce(1, *)
        let n = x.dims[ax]
        let (gathered, overflow) = (outer * inner).multipliedReportingOverflow(by: indices.count)
        try op.check("the element count of the Gather", overflow ? Int.max : gathered, limit: ONNXLimits.maxFoldedElements)
        var floats: [Float] = [], ints: [Int64] = []
        for o in 0..<outer {
            for raw in indices.integers {
                let i = Int(raw < 0 ? raw + Int64(n) : raw)
                guard i >= 0, i < n else { throw op.mismatch("Gather index \(raw) out of range 0..<\(n)") }
                let base = (o * n + i) * inner
                floats += x.floats[base..<(base + inner)]
                if let xi = x.ints { ints += xi[base..<(base + inner)] }
            }
        }
        let dims = Array(x.dims.prefix(ax)) + indices.dims + Array(x.dims.dropFirst(ax + 1))
        return x.ints != nil ? ImportedConstant(dims: dims, ints: ints) : ImportedConstant(dims: dims, floats: floats)
    }

    /// Throws `invalidAttribute` unless `perm` is a permutation of `0..<rank`.
    func checkPermutation(_ perm: [Int], rank: Int, _ op: NodeContext) throws {
        guard perm.count == rank, perm.sorted() == Array(0..<rank) else {
            throw op.invalid("perm \(ONNXLimits.short(perm)) for rank \(rank): not a permutation of 0..<\(rank)")
        }
    }

    /// - Precondition: `perm` is a permutation of `x`'s axes (`checkPermutation`).
    func transposeConstant(_ x: ImportedConstant, perm: [Int]) -> ImportedConstant {
        let outDims = perm.map { x.dims[$0] }
        let inStrides = strides(x.dims)
        let count = x.count
        var floats = [Float](repeating: 0, count: count)
        var ints = x.ints.map { [Int64](repeating: 0, count: $0.count) }
        var index = [Int](repeating: 0, count: outDims.count)
        for k in 0..<count {
            var src = 0
            for (d, p) in perm.enumerated() { src += index[d] * inStrides[p] }
            floats[k] = x.floats[src]
            if ints != nil { ints![k] = x.ints![src] }
            var d = outDims.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < outDims[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return ints.map { ImportedConstant(dims: outDims, ints: $0) } ?? ImportedConstant(dims: outDims, floats: floats)
    }

    /// numpy broadcasting of several shapes.
    func broadcastDims(_ shapes: [[Int]], _ op: NodeContext) throws -> [Int] {
        let rank = shapes.map { $0.count }.max() ?? 0
        var dims = [Int](repeating: 1, count: rank)
        for s in shapes {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            for (i, d) in padded.enumerated() where d != 1 {
                guard dims[i] == 1 || dims[i] == d else { throw op.mismatch("shapes \(shapes) do not broadcast") }
                dims[i] = d
            }
        }
        guard ONNXLimits.elementCount(dims) != nil else { throw op.mismatch("broadcast shape \(dims) too large") }
        return dims
    }

    /// Evaluates `f` elementwise over constants broadcast to `outputDims` (in Double for
    /// floats, exactly for integers when `ints`).
    func broadcastConstants(
        _ inputs: [ImportedConstant], outputDims: [Int], _ op: NodeContext, ints: Bool? = nil, _ f: ([Double]) -> Double
    ) throws -> ImportedConstant {
        let rank = outputDims.count
        let count = ONNXLimits.elementCount(outputDims) ?? 0
        try op.check("the element count of the broadcast \(outputDims)", count, limit: ONNXLimits.maxFoldedElements)
        let useInts = ints ?? inputs.allSatisfy { $0.ints != nil }
        let inputStrides: [[Int]] = inputs.map { c in
            let padded = [Int](repeating: 1, count: rank - c.dims.count) + c.dims
            var st = strides(padded)
            for i in 0..<rank where padded[i] == 1 { st[i] = 0 }
            return st
        }
        var index = [Int](repeating: 0, count: rank)
        var floats = [Float](), intValues = [Int64]()
        if useInts { intValues.reserveCapacity(count) } else { floats.reserveCapacity(count) }
        // One argument array for every element (a new one per element made a 2^24-element
        // Expand take over 10 s under AddressSanitizer: a fuzzer timeout).
        var args = [Double](repeating: 0, count: inputs.count)
        for _ in 0..<count {
            for (k, c) in inputs.enumerated() {
                var off = 0
                for d in 0..<rank { off += index[d] * inputStrides[k][d] }
                args[k] = c.ints.map { Double($0[off]) } ?? Double(c.floats[off])
            }
            let v = f(args)
            if useInts {
                intValues.append(v.isNaN ? 0 : v >= 9.2e18 ? .max : v <= -9.2e18 ? .min : Int64(v))
            } else {
                floats.append(Float(v))
            }
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < outputDims[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return useInts ? ImportedConstant(dims: outputDims, ints: intValues) : ImportedConstant(dims: outputDims, floats: floats)
    }

    private func elementwiseConstants(_ a: ImportedConstant, _ b: ImportedConstant, _ op: NodeContext) throws -> ImportedConstant {
        let dims = try broadcastDims([a.dims, b.dims], op)
        let n = ONNXLimits.elementCount(dims) ?? 0
        if let ai = a.ints, let bi = b.ints, ai.count == n || ai.count == 1, bi.count == n || bi.count == 1, op.opType != "Equal" {
            // Integer shape arithmetic, exact (each operand whole or a single value).
            let a = ImportedConstant(dims: a.dims, ints: ai), b = ImportedConstant(dims: b.dims, ints: bi)
            let r: [Int64] = (0..<n).map { k in
                let x = ai[a.count == 1 ? 0 : k], y = bi[b.count == 1 ? 0 : k]
                switch op.opType {
                case "Add": return x &+ y
                case "Sub": return x &- y
                case "Mul": return x &* y
                case "Min": return min(x, y)
                case "Max": return max(x, y)
                default:
                    // Division by zero gives 0 (as the float path); Int64.min / -1 wraps
                    // to Int64.min (ONNX Runtime's result on x86 and ARM) instead of trapping.
                    return y == 0 ? 0 : x.dividedReportingOverflow(by: y).partialValue
                }
            }
            return ImportedConstant(dims: dims, ints: r)
        }
        let isInt = a.ints != nil && b.ints != nil
        return try broadcastConstants([a, b], outputDims: dims, op, ints: isInt || op.opType == "Equal") { v in
            switch op.opType {
            case "Add": return Double(Float(v[0]) + Float(v[1]))
            case "Sub": return Double(Float(v[0]) - Float(v[1]))
            case "Mul": return Double(Float(v[0]) * Float(v[1]))
            case "Min": return min(v[0], v[1])
            case "Max": return max(v[0], v[1])
            case "Equal": return v[0] == v[1] ? 1 : 0
            default: return isInt ? (v[1] == 0 ? 0 : (v[0] / v[1]).rounded(.towardZero)) : Double(Float(v[0]) / Float(v[1]))
            }
        }
    }
}
