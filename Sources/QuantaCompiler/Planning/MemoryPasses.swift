import QuantaKernels

/// One convolution stage of a fused block: its constants and its output zero point (the
/// zero point of the tensor it no longer writes whole).
public struct FusedConvStage: Equatable {
    public var weights: [Int8]
    public var bias: [Int32]
    public var requantization: RequantizationConstants
    public var outputZeroPoint: Int32
    /// The stage's kernel (`.reference`, `.pointwise` for the 1×1 stages, a depthwise
    /// variant for the middle one), chosen for the stage's row shapes.
    public var variant: KernelVariant = .reference
}

/// An inverted-residual block run a row at a time (`QuantaKernels.InvertedResidual`): the
/// expanded and depthwise tensors are quantized exactly as unfused but never stored whole.
public struct FusedInvertedResidual {
    public var geometry: InvertedResidualGeometry
    public var expand: FusedConvStage
    public var depthwise: FusedConvStage
    public var project: FusedConvStage
    /// The residual add's constants (nil without a residual).
    public var residual: AddQuantization?
    /// The block input is the add's first operand.
    public var blockInputFirst: Bool
    /// Names of the ops the block replaces, in order (expand, depthwise, project[, add]).
    public var replacedOps: [String]

    /// The input shapes the stages' kernels see (one row; the variants' packing and
    /// applicability do not depend on the height).
    public var stageInputRows: (expand: TensorShape, depthwise: TensorShape, project: TensorShape) {
        let g = geometry
        return (TensorShape(n: 1, h: g.expandKernelH, w: g.inputShape.w, c: g.inputShape.c),
                TensorShape(n: 1, h: 1, w: g.expandedShape.w, c: g.expandedChannels),
                TensorShape(n: 1, h: 1, w: g.depthwiseShape.w, c: g.expandedChannels))
    }

    /// GEMM panel scratch of the 1×1 stages' variants.
    public var panelBytes: Int {
        InvertedResidual.panelBytes(geometry: geometry, expand: expand.variant, project: project.variant)
    }

    /// All scratch of the fused op: window, rows and panel.
    public var scratchBytes: Int { geometry.scratchBytes + panelBytes }

    /// Every stage on the reference kernel (no GEMM panel).
    mutating func useReferenceStages() {
        expand.variant = .reference
        depthwise.variant = .reference
        project.variant = .reference
    }

    /// Each GEMM stage on its scratch-free form where one applies (`.directGEMM` for a 1×1
    /// int8 stage of even depth, `.im2colDirect` for a K×K expand), the others unchanged
    /// (a `.pointwiseU8` stage, the pair-bounded x86 GEMM asked for by the user, keeps its
    /// panel): the same kernels without the GEMM panel. Whether that removed the whole
    /// panel: `panelBytes == 0`.
    /// `inputZeroPoint`: the block input's.
    mutating func useDirectStages(inputZeroPoint expandInputZeroPoint: Int32) {
        let rows = stageInputRows, g = geometry
        func direct(_ v: KernelVariant, _ input: TensorShape, _ filter: FilterShape, _ parameters: Conv2DParameters, _ zp: Int32) -> KernelVariant {
            guard v != .pointwiseU8 else { return v }
            return v.scratchFree(inputShape: input, filter: filter, parameters: parameters, inputZeroPoint: zp) ?? v
        }
        expand.variant = direct(expand.variant, rows.expand, g.expandFilter, g.expand, expandInputZeroPoint)
        project.variant = direct(project.variant, rows.project, g.projectFilter, Conv2DParameters(), depthwise.outputZeroPoint)
    }

    /// Picks each stage's fast variant (`KernelVariant.choose` on the stage's row shapes),
    /// keeping only the kinds the fused kernel runs: `.pointwise` (`.pointwiseU8` with
    /// `pairBoundedWeights` when the weights' pairs fit, or `.im2col` for a K×K expand) for
    /// the outer stages, the depthwise variants for the middle one; anything else
    /// stays `.reference`.
    mutating func chooseVariants(inputZeroPoint: Int32, pairBoundedWeights: Bool = false) {
        let rows = stageInputRows, g = geometry
        let e = KernelVariant.choose(inputShape: rows.expand, filter: g.expandFilter, parameters: g.expand, inputZeroPoint: inputZeroPoint)
        let d = KernelVariant.choose(inputShape: rows.depthwise, filter: g.depthwiseFilter, parameters: g.depthwise, inputZeroPoint: expand.outputZeroPoint)
        let p = KernelVariant.choose(inputShape: rows.project, filter: g.projectFilter, parameters: Conv2DParameters(), inputZeroPoint: depthwise.outputZeroPoint)
        expand.variant = e == .pointwise || e == .im2col ? e : .reference
        depthwise.variant = d == .depthwise || d == .depthwise3x3 ? d : .reference
        project.variant = p == .pointwise ? p : .reference
        expand.variant = expand.variant.fitted(toWeights: expand.weights, filter: g.expandFilter, pairBoundedWeights: pairBoundedWeights)
        depthwise.variant = depthwise.variant.fitted(toWeights: depthwise.weights, filter: g.depthwiseFilter, pairBoundedWeights: pairBoundedWeights)
        project.variant = project.variant.fitted(toWeights: project.weights, filter: g.projectFilter, pairBoundedWeights: pairBoundedWeights)
    }
}

/// What the planner decided for one fusable block.
public struct FusionDecision: Equatable {
    /// Names of the block's ops (expand, depthwise, project[, add]).
    public var ops: [String]
    public var fused: Bool
    /// Largest bytes alive during the block's steps, unfused (whole tensors, no memory passes).
    public var unfusedPeak: Int
    /// Bytes alive at the fused op's step (tensors, ring and row scratch).
    public var fusedPeak: Int
    public var ringRows: Int
    public var scratchBytes: Int
    /// The block's output may overwrite its input (`InvertedResidualGeometry.canRunInPlace`).
    public var outputOverInput: Bool
    /// Kernel variants of the expand, depthwise and project stages.
    public var stageVariants: [KernelVariant] = []
}

/// Which memory passes `MemoryPasses.apply` runs.
public struct MemoryPassOptions: Equatable {
    /// Fuse inverted-residual blocks where that lowers the bytes alive during the block.
    public var fuseBlocks: Bool
    /// Run shape-keeping depthwise convolutions in place where their input dies.
    public var depthwiseInPlace: Bool
    /// Keep a block fused only where unfusing it would grow the arena: fused blocks run
    /// a few rows at a time and are slower than the unfused whole-tensor kernels, so the
    /// blocks away from the peak run unfused (same arena, faster). Off: every block that
    /// lowers its own step's bytes stays fused.
    public var fuseOnlyWhereArenaNeedsIt: Bool
    /// Keep a depthwise convolution in place only where running it on the whole-tensor
    /// kernel would grow the arena (`MemoryPasses.inPlaceOnlyWhereArenaNeedsIt`). Off: every
    /// eligible one runs in place.
    public var inPlaceOnlyWhereArenaNeedsIt: Bool
    /// Switch any op whose kernel scratch sets the peak to the reference kernel when that
    /// saves 1/16 of the arena, however slow (`--smallest-arena`). Off (the default): only
    /// ops with at most 1/200 of the model's MACs, which bounds the cost near 10 % of an
    /// invoke (measured: MobileNetV2 0.35/96 30.0 KiB at 5.3 ms with every switch, 33.9 KiB
    /// at 0.49 ms bounded).
    public var smallestArena: Bool
    /// A concat whose only reader is a channel shuffle of as many groups as it has inputs,
    /// all of one shape (ShuffleNet's), becomes one `.interleaveChannels` op: the concat
    /// tensor is never written (one copy of the data instead of two).
    public var interleaveConcats: Bool

    public init(fuseBlocks: Bool = true, depthwiseInPlace: Bool = true, fuseOnlyWhereArenaNeedsIt: Bool = true,
                inPlaceOnlyWhereArenaNeedsIt: Bool = true, smallestArena: Bool = false, interleaveConcats: Bool = true) {
        self.interleaveConcats = interleaveConcats
        self.fuseBlocks = fuseBlocks
        self.depthwiseInPlace = depthwiseInPlace
        self.fuseOnlyWhereArenaNeedsIt = fuseOnlyWhereArenaNeedsIt
        self.inPlaceOnlyWhereArenaNeedsIt = inPlaceOnlyWhereArenaNeedsIt
        self.smallestArena = smallestArena
    }

    public static let none = MemoryPassOptions(fuseBlocks: false, depthwiseInPlace: false, interleaveConcats: false)
}

/// The passes that take a model below the bound of any plan of whole tensors:
///
/// 1. **Block fusion**: expand (1×1, or a K×K groups-1 conv such as the stem) → depthwise
///    (multiplier 1) → project 1×1 (→ add of the block input), on consecutive ops whose intermediate tensors have exactly one reader
///    and are no model output, becomes one `.invertedResidual` op. The planner fuses a block
///    when the bytes alive at the fused step are fewer than the most bytes alive during the
///    block's steps unfused (`FusionDecision`): with the fast stage kernels if that is
///    fewer, else with the reference stages (no GEMM panel) if that is.
/// 2. **Depthwise in place**: a remaining shape-keeping depthwise `conv2D` (multiplier 1,
///    stride 1) whose input dies at it becomes `.depthwiseConv2DInPlace`, so the planner may
///    put its output over its input.
///
/// Numerics are unchanged: every int8 value the model computes is the same as without the
/// passes (tested on whole models).
public enum MemoryPasses {
    /// A fusable block: op indices (consecutive) and the tensors involved.
    struct Candidate {
        var first: Int
        var opCount: Int
        var block: FusedInvertedResidual
        var input: Int
        var output: Int
    }

    /// The model after the passes, the decision for every fusable block, and the ops whose
    /// kernel variant the passes chose (`scratchFreePeak`) instead of the writer's own.
    public static func apply(
        _ model: QuantizedModel, options: MemoryPassOptions = MemoryPassOptions(), kernels: KernelSelection = .fast
    ) -> (model: QuantizedModel, decisions: [FusionDecision], forcedVariants: [Int: KernelVariant]) {
        var decisions: [FusionDecision] = []
        var current = model
        if options.fuseBlocks {
            let fastCandidates = findBlocks(model, kernels: kernels)
            if !fastCandidates.isEmpty {
                // The same blocks with reference stages: no GEMM panel, for maps so small that
                // the panel would outweigh the whole tensors fusion saves.
                var referenceCandidates = fastCandidates
                for k in referenceCandidates.indices { referenceCandidates[k].block.useReferenceStages() }
                let unfusedProfile = MemoryPlanner.liveProfile(ModelWriter.planArena(model, kernels: kernels).requests)
                let all = Set(fastCandidates.indices)
                let fastProfile = MemoryPlanner.liveProfile(
                    ModelWriter.planArena(fuse(model, fastCandidates, chosen: all), kernels: kernels).requests)
                let referenceProfile = MemoryPlanner.liveProfile(
                    ModelWriter.planArena(fuse(model, referenceCandidates, chosen: all), kernels: kernels).requests)
                var chosen: [Candidate] = []
                var chosenDecision: [Int] = []
                var removed = 0
                for (k, c) in fastCandidates.enumerated() {
                    var before = 0
                    for s in c.first..<(c.first + c.opCount) { before = max(before, unfusedProfile.bytes(at: s)) }
                    // In the all-fused models, block k sits at its first op's index minus the
                    // ops removed by the blocks before it.
                    let step = c.first - removed
                    removed += c.opCount - 1
                    let fast = fastProfile.bytes(at: step), reference = referenceProfile.bytes(at: step)
                    var pick: Candidate? = nil
                    if fast < before {
                        pick = c
                    } else if reference < before {
                        pick = referenceCandidates[k]
                    }
                    if let pick { chosen.append(pick); chosenDecision.append(decisions.count) }
                    let block = (pick ?? c).block
                    decisions.append(FusionDecision(
                        ops: block.replacedOps, fused: pick != nil, unfusedPeak: before,
                        fusedPeak: pick == nil ? min(fast, reference) : (fast < before ? fast : reference),
                        ringRows: block.geometry.ringRows, scratchBytes: block.scratchBytes,
                        outputOverInput: block.geometry.canRunInPlace,
                        stageVariants: [block.expand.variant, block.depthwise.variant, block.project.variant]))
                }
                var keep = Set(chosen.indices)
                if options.fuseOnlyWhereArenaNeedsIt && !chosen.isEmpty {
                    // The arena the rest of the passes would give with these blocks fused.
                    func arena(_ fused: Set<Int>) -> Int {
                        var m = fuse(model, chosen, chosen: fused)
                        if options.depthwiseInPlace { m = depthwiseInPlace(m) }
                        return finalArena(m, kernels: kernels, options: options)
                    }
                    var best = arena(keep)
                    for k in chosen.indices {
                        let trial = keep.subtracting([k])
                        let size = arena(trial)
                        if size <= best {
                            keep = trial
                            best = size
                            decisions[chosenDecision[k]].fused = false
                        }
                    }
                }
                current = fuse(model, chosen, chosen: keep)
            }
        }
        if options.depthwiseInPlace {
            current = depthwiseInPlace(current)
            if options.inPlaceOnlyWhereArenaNeedsIt { current = inPlaceOnlyWhereArenaNeedsIt(current, kernels: kernels, options: options) }
        }
        if options.interleaveConcats { current = interleaveConcats(current) }
        let forced = options == .none ? [:] : scratchFreePeak(&current, kernels: kernels, smallestArena: options.smallestArena)
        return (current, decisions, forced)
    }

    /// Keeps the kernels' own scratch from setting the peak: while the step where the most
    /// bytes are alive is an op with kernel scratch, that op
    /// 1. runs `.directGEMM` (the 1×1 GEMM reading its input where it lies, no panel) when
    ///    it is a 1×1 convolution that variant applies to and the arena gets smaller: fast on
    ///    every target (on ARM the same kernels, on x86 one instruction more per k-pair and
    ///    row), so at any size of the op;
    /// 2. else runs the reference kernels, when that makes the arena smaller by at least
    ///    1/16 (an optimized variant's im2col buffer or GEMM panel, or a fused block's stage
    ///    kernels' panel), and, unless `smallestArena`, the op has at most 1/200 of the
    ///    model's MACs (the reference kernels run about 20× slower: that bounds the cost
    ///    near 10 % of an invoke; MobileNetV2 0.3/64 with every switch: 14.8 KiB, 2.4 ms;
    ///    bounded: 17.9 KiB, 0.26 ms). On MobileNetV2 1.0/224 the fused stem's panel is
    ///    1.7 KiB of 359 KiB, and the reference stem would cost about 100 ms per invoke.
    /// At most 8 switches. Returns the variant of every switched op (fused blocks are
    /// changed in `model`).
    static func scratchFreePeak(_ model: inout QuantizedModel, kernels: KernelSelection, smallestArena: Bool = false) -> [Int: KernelVariant] {
        guard kernels == .fast else { return [:] }
        let totalMACs = ModelStatistics(model).macs
        var chosen: [Int: KernelVariant] = [:]
        var plan = ModelWriter.planArena(model, kernels: kernels)
        for _ in 0..<8 {
            guard let peak = MemoryPlanner.liveProfile(plan.requests).peakStep, peak < model.ops.count,
                  plan.scratchRequest[peak] != nil, chosen[peak] == nil
            else { break }
            if let direct = scratchFreeVariant(model.ops[peak], in: model, kernels: kernels) {
                let trial = chosen.merging([peak: direct]) { $1 }
                let next = ModelWriter.planArena(model, kernels: kernels, forcedVariants: trial)
                if next.plan.arenaSize < plan.plan.arenaSize {
                    chosen = trial
                    plan = next
                    continue
                }
            }
            if case var .invertedResidual(block) = model.ops[peak].kind, block.panelBytes > 0 {
                // The fused block's GEMM stages on their scratch-free forms, when that
                // leaves no panel and the arena gets smaller.
                // (The op's own variant byte stays 0: nothing goes into `chosen`.)
                block.useDirectStages(inputZeroPoint: model.tensors[model.ops[peak].inputs[0]].quantization.zeroPoint)
                if block.panelBytes == 0 {
                    var trialModel = model
                    trialModel.ops[peak].kind = .invertedResidual(block)
                    let next = ModelWriter.planArena(trialModel, kernels: kernels, forcedVariants: chosen)
                    if next.plan.arenaSize < plan.plan.arenaSize {
                        model = trialModel
                        plan = next
                        continue
                    }
                }
            }
            if !smallestArena {
                var single = model
                single.ops = [model.ops[peak]]
                guard ModelStatistics(single).macs * 200 <= totalMACs else { break }
            }
            var trialModel = model
            if case var .invertedResidual(block) = model.ops[peak].kind {
                guard block.panelBytes > 0 else { break }
                block.useReferenceStages()
                trialModel.ops[peak].kind = .invertedResidual(block)
            }
            let trial = chosen.merging([peak: .reference]) { $1 }
            let next = ModelWriter.planArena(trialModel, kernels: kernels, forcedVariants: trial)
            guard 16 * (plan.plan.arenaSize - next.plan.arenaSize) >= plan.plan.arenaSize else { break }
            chosen = trial
            model = trialModel
            plan = next
        }
        return chosen
    }

    /// The scratch-free form of `op`'s writer-chosen variant (`KernelVariant.scratchFree`),
    /// nil when there is none.
    static func scratchFreeVariant(_ op: QuantizedOp, in model: QuantizedModel, kernels: KernelSelection) -> KernelVariant? {
        guard case let .conv2D(parameters, filter, _, _, _) = op.kind, let input = op.inputs.first else { return nil }
        let tensor = model.tensors[input]
        return ModelWriter.variant(op, in: model, kernels: kernels).scratchFree(
            inputShape: tensor.shape, filter: filter, parameters: parameters, inputZeroPoint: tensor.quantization.zeroPoint)
    }

    /// Readers (op indices) of every tensor.
    static func readers(_ model: QuantizedModel) -> [[Int]] {
        var r = [[Int]](repeating: [], count: model.tensors.count)
        for (i, op) in model.ops.enumerated() { for t in Set(op.inputs) { r[t].append(i) } }
        return r
    }

    static func pointwise(_ op: QuantizedOp) -> (Conv2DParameters, FilterShape, [Int8], [Int32], RequantizationConstants)? {
        guard case let .conv2D(p, f, w, b, r) = op.kind, p.groups == 1, f.kernelH == 1, f.kernelW == 1,
              p.strideH == 1, p.strideW == 1, p.padding == .zero, op.inputs.count == 1
        else { return nil }
        return (p, f, w, b, r)
    }

    static func stage(_ weights: [Int8], _ bias: [Int32], _ r: RequantizationConstants, _ channels: Int, zeroPoint: Int32) -> FusedConvStage {
        FusedConvStage(weights: weights, bias: bias, requantization: r, outputZeroPoint: zeroPoint)
    }

    /// Every expand → depthwise → project (→ add) run of consecutive ops that can be fused.
    static func findBlocks(_ model: QuantizedModel, kernels: KernelSelection = .fast) -> [Candidate] {
        let readers = readers(model)
        let outputs = Set(model.outputs)
        func private1(_ t: Int, reader: Int) -> Bool { readers[t] == [reader] && !outputs.contains(t) && model.tensors[t].data == nil }
        var result: [Candidate] = []
        var i = 0
        let ops = model.ops
        while i + 2 < ops.count {
            defer { i += 1 }
            guard case let .conv2D(ep, ef, ew, eb, er) = ops[i].kind, ops[i].inputs.count == 1, ep.groups == 1,
                  ep.dilationH == 1, ep.dilationW == 1
            else { continue }
            let x = ops[i].inputs[0], e = ops[i].outputs[0]
            guard model.tensors[x].data == nil, !model.inputs.contains(e), private1(e, reader: i + 1) else { continue }
            guard case let .conv2D(dp, df, dw, db, dr) = ops[i + 1].kind, ops[i + 1].inputs == [e],
                  df.inputChannelsPerGroup == 1, dp.groups == ef.outputChannels, df.outputChannels == ef.outputChannels
            else { continue }
            let d = ops[i + 1].outputs[0]
            guard private1(d, reader: i + 2), let (_, pf, pw, pb, pr) = pointwise(ops[i + 2]), ops[i + 2].inputs == [d]
            else { continue }
            let p = ops[i + 2].outputs[0]
            let xShape = model.tensors[x].shape
            var residual: AddQuantization? = nil
            var blockInputFirst = true
            var output = p
            var count = 3
            if i + 3 < ops.count, case let .add(q) = ops[i + 3].kind, private1(p, reader: i + 3),
               Set(ops[i + 3].inputs) == Set([x, p]), ops[i + 3].inputs.count == 2,
               model.tensors[p].shape == xShape {
                residual = q
                blockInputFirst = ops[i + 3].inputs[0] == x
                output = ops[i + 3].outputs[0]
                count = 4
            }
            let geometry = InvertedResidualGeometry(
                inputShape: xShape, expandedChannels: ef.outputChannels, outputChannels: pf.outputChannels,
                kernelH: df.kernelH, kernelW: df.kernelW, depthwise: dp, hasResidual: residual != nil,
                expandKernelH: ef.kernelH, expandKernelW: ef.kernelW, expand: ep)
            guard geometry.isValid, geometry.outputShape == model.tensors[output].shape,
                  model.tensors[e].quantization.zeroPoint >= -128, model.tensors[e].quantization.zeroPoint <= 127
            else { continue }
            var block = FusedInvertedResidual(
                geometry: geometry,
                expand: stage(ew, eb, er, ef.outputChannels, zeroPoint: model.tensors[e].quantization.zeroPoint),
                depthwise: stage(dw, db, dr, df.outputChannels, zeroPoint: model.tensors[d].quantization.zeroPoint),
                project: stage(pw, pb, pr, pf.outputChannels, zeroPoint: model.tensors[p].quantization.zeroPoint),
                residual: residual, blockInputFirst: blockInputFirst,
                replacedOps: ops[i..<(i + count)].map(\.name))
            if kernels == .fast {
                block.chooseVariants(inputZeroPoint: model.tensors[x].quantization.zeroPoint, pairBoundedWeights: model.pairBoundedWeights)
            }
            result.append(Candidate(first: i, opCount: count, block: block, input: x, output: output))
            i += count - 1
        }
        return result
    }

    /// `model` with the `chosen` candidates replaced by fused ops and the tensors only they
    /// used removed.
    static func fuse(_ model: QuantizedModel, _ candidates: [Candidate], chosen: Set<Int>) -> QuantizedModel {
        var ops: [QuantizedOp] = []
        var i = 0
        var k = 0
        while i < model.ops.count {
            while k < candidates.count && candidates[k].first < i { k += 1 }
            if k < candidates.count, candidates[k].first == i, chosen.contains(k) {
                let c = candidates[k]
                ops.append(QuantizedOp(
                    name: c.block.replacedOps.joined(separator: " + "), kind: .invertedResidual(c.block),
                    inputs: [c.input], outputs: [c.output]))
                i += c.opCount
            } else {
                ops.append(model.ops[i])
                i += 1
            }
        }
        var result = model
        result.ops = ops
        return compact(result)
    }

    /// Concat → channel shuffle pairs become `.interleaveChannels` ops (see
    /// `MemoryPassOptions.interleaveConcats`): the concat's G ≥ 2 inputs have one shape, its
    /// output is read by the next op alone, a shuffle of G groups, and is no model output. The values are
    /// the same (`out[p, j·G + g] = input_g[p, j]` is the shuffle of the concat), and no
    /// step holds more bytes than before (the concat's step held its inputs and output).
    static func interleaveConcats(_ model: QuantizedModel) -> QuantizedModel {
        let readers = readers(model)
        let outputs = Set(model.outputs)
        var result = model
        var removed = Set<Int>()
        for (i, op) in model.ops.enumerated() {
            guard case .concat = op.kind, op.inputs.count >= 2, op.outputs.count == 1 else { continue }
            let joined = op.outputs[0]
            let shape = model.tensors[op.inputs[0]].shape
            guard !outputs.contains(joined), readers[joined].count == 1,
                  op.inputs.allSatisfy({ model.tensors[$0].shape == shape }) else { continue }
            let j = readers[joined][0]
            // The shuffle right after the concat: its output then lives no longer than before.
            guard j == i + 1, case let .channelShuffle(groups) = model.ops[j].kind, groups == op.inputs.count,
                  model.ops[j].inputs == [joined], model.ops[j].outputs.count == 1 else { continue }
            result.ops[i] = QuantizedOp(
                name: op.name + " + " + model.ops[j].name, kind: .interleaveChannels,
                inputs: op.inputs, outputs: model.ops[j].outputs)
            removed.insert(j)
        }
        if removed.isEmpty { return model }
        result.ops = result.ops.enumerated().filter { !removed.contains($0.offset) }.map { $0.element }
        return compact(result)
    }

    /// Removes tensors that no op, input or output refers to, renumbering the rest.
    static func compact(_ model: QuantizedModel) -> QuantizedModel {
        var used = [Bool](repeating: false, count: model.tensors.count)
        for op in model.ops { for t in op.inputs + op.outputs { used[t] = true } }
        for t in model.inputs + model.outputs { used[t] = true }
        var map = [Int](repeating: -1, count: model.tensors.count)
        var tensors: [QuantizedTensor] = []
        for t in model.tensors.indices where used[t] {
            map[t] = tensors.count
            tensors.append(model.tensors[t])
        }
        let ops = model.ops.map { op in
            QuantizedOp(name: op.name, kind: op.kind, inputs: op.inputs.map { map[$0] }, outputs: op.outputs.map { map[$0] })
        }
        var result = QuantizedModel(tensors: tensors, ops: ops, inputs: model.inputs.map { map[$0] }, outputs: model.outputs.map { map[$0] })
        result.pairBoundedWeights = model.pairBoundedWeights
        return result
    }

    /// Shape-keeping depthwise convolutions whose input dies at them become in-place ops.
    static func depthwiseInPlace(_ model: QuantizedModel) -> QuantizedModel {
        let lifetimes = ModelWriter.lifetimes(model)
        let outputs = Set(model.outputs)
        var result = model
        for (i, op) in model.ops.enumerated() {
            guard case let .conv2D(p, f, w, b, r) = op.kind, op.inputs.count == 1 else { continue }
            let x = op.inputs[0]
            guard let life = lifetimes[x], life.last == i, !outputs.contains(x),
                  DepthwiseInPlace.isSupported(inputShape: model.tensors[x].shape, filter: f, parameters: p)
            else { continue }
            result.ops[i].kind = .depthwiseConv2DInPlace(parameters: p, filter: f, weights: w, bias: b, requantization: r)
        }
        return result
    }

    /// The arena `model` gets once the scratch-free pass has run on it (`scratchFreePeak`
    /// on a copy), as the writer will plan it: what the "only where the arena needs it"
    /// choices compare.
    static func finalArena(_ model: QuantizedModel, kernels: KernelSelection, options: MemoryPassOptions) -> Int {
        var m = model
        let forced = scratchFreePeak(&m, kernels: kernels, smallestArena: options.smallestArena)
        return ModelWriter.planArena(m, kernels: kernels, forcedVariants: forced).plan.arenaSize
    }

    /// Turns in-place depthwise ops back into whole-tensor convolutions, one at a time in
    /// plan order, wherever that leaves the arena (after the scratch-free pass) no larger:
    /// the whole-tensor 3×3 kernel loops channel blocks outside and builds each block's
    /// set-up once per image, the in-place one once per row (its ring is filled row by row),
    /// so the ops away from the peak run faster at the same arena.
    static func inPlaceOnlyWhereArenaNeedsIt(_ model: QuantizedModel, kernels: KernelSelection, options: MemoryPassOptions) -> QuantizedModel {
        var current = model
        var best = finalArena(current, kernels: kernels, options: options)
        for i in current.ops.indices {
            guard case let .depthwiseConv2DInPlace(p, f, w, b, r) = current.ops[i].kind else { continue }
            var trial = current
            trial.ops[i].kind = .conv2D(parameters: p, filter: f, weights: w, bias: b, requantization: r)
            let size = finalArena(trial, kernels: kernels, options: options)
            if size <= best {
                current = trial
                best = size
            }
        }
        return current
    }

    /// Arena scratch of a memory op (nil for other ops): the depthwise ring, or the fused
    /// block's ring plus its depthwise and project rows.
    static func scratchSize(_ op: QuantizedOp, in model: QuantizedModel) -> Int? {
        switch op.kind {
        case let .depthwiseConv2DInPlace(p, f, _, _, _):
            return DepthwiseInPlace.scratchByteCount(inputShape: model.tensors[op.inputs[0]].shape, filter: f, parameters: p)
        case let .invertedResidual(block):
            return block.scratchBytes
        default:
            return nil
        }
    }

    /// Ops whose output may overwrite a larger input (a fused block with a smaller output).
    static func mayShrinkInPlace(_ op: QuantizedOp) -> Bool {
        if case let .invertedResidual(block) = op.kind { return block.geometry.canRunInPlace }
        return false
    }
}

extension KernelVariant {
    /// The variant that runs this layer without arena scratch, where it applies to these
    /// shapes: a GEMM with a panel (`.pointwise`, `.pointwiseU8`, `.grouped`) → `.directGEMM`,
    /// else (a grouped K×K, an odd depth) → `.im2colDirect`; `.im2col` → `.im2colDirect`;
    /// nil otherwise.
    func scratchFree(inputShape: TensorShape, filter: FilterShape, parameters: Conv2DParameters, inputZeroPoint: Int32) -> KernelVariant? {
        // The 1×1 GEMM read in place first; else the stack-tiled im2col (any geometry and
        // groups: a grouped K×K or an odd-depth 1×1 too).
        let candidates: [KernelVariant]
        switch self {
        case .pointwise, .pointwiseU8, .grouped: candidates = [.directGEMM, .im2colDirect]
        case .im2col: candidates = [.im2colDirect]
        default: return nil
        }
        return candidates.first {
            $0.applies(inputShape: inputShape, filter: filter, parameters: parameters, inputZeroPoint: inputZeroPoint)
        }
    }
}
