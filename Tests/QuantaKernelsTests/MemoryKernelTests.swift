import XCTest
@testable import QuantaKernels

/// The memory-saving kernels (Sources/QuantaKernels/Memory/) against `Int8Reference` on
/// whole tensors, bit for bit, over random shapes and constants.
final class MemoryKernelTests: XCTestCase {
    /// One random convolution stage's constants (kept alive by the arrays).
    struct Stage {
        var weights: [Int8]
        var bias: [Int32]
        var multipliers: [Int32]
        var shifts: [Int32]
        var zeroPoint: Int32
        var clampMin: Int32
        var clampMax: Int32

        init(_ g: inout SplitMix64, filter: FilterShape, typical: Double) {
            weights = Int8TestData.int8s(filter.elementCount, &g, in: -127...127)
            bias = Int8TestData.int32s(filter.outputChannels, &g, in: -3000...3000)
            (multipliers, shifts) = Int8TestData.multipliers(filter.outputChannels, &g, typical: typical)
            zeroPoint = Int32.random(in: -30...30, using: &g)
            clampMin = Bool.random(using: &g) ? zeroPoint : -128
            clampMax = Bool.random(using: &g) ? min(127, zeroPoint + 90) : 127
        }

        /// `variant`'s packed weights for this stage (empty for the reference).
        func packed(_ variant: KernelVariant, inputShape: TensorShape, inputZeroPoint: Int32, filter: FilterShape, parameters: Conv2DParameters) -> [Int8] {
            OptimizedConv2D.packWeights(
                variant: variant, weights: weights, filter: filter, bias: bias, inputShape: inputShape,
                inputZeroPoint: inputZeroPoint, parameters: parameters)
        }

        /// Calls `body` with the stage as `FusedStage` (pointers valid only inside).
        func withStage<R>(variant: KernelVariant = .reference, packed: [Int8] = [], _ body: (FusedStage) -> R) -> R {
            weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    multipliers.withUnsafeBufferPointer { m in
                        shifts.withUnsafeBufferPointer { s in
                            packed.withUnsafeBytes { p in
                                body(FusedStage(
                                    weights: w.baseAddress!, bias: b.baseAddress!,
                                    requantization: Requantization(
                                        multipliers: m.baseAddress!, shifts: s.baseAddress!, channelCount: m.count,
                                        outputZeroPoint: zeroPoint, clampMin: clampMin, clampMax: clampMax),
                                    variant: variant, packedWeights: variant == .reference ? nil : p.baseAddress))
                            }
                        }
                    }
                }
            }
        }

        func reference(_ input: [Int8], _ shape: TensorShape, inputZeroPoint: Int32, filter: FilterShape, parameters: Conv2DParameters) -> [Int8] {
            let outShape = parameters.outputShape(input: shape, filter: filter)
            var out = [Int8](repeating: 0, count: outShape.elementCount)
            withStage { s in
                Int8Reference.conv2D(
                    input: input, inputShape: shape, inputZeroPoint: inputZeroPoint, weights: s.weights, filter: filter,
                    bias: s.bias, output: &out, outputShape: outShape, parameters: parameters,
                    requantization: s.requantization)
            }
            return out
        }
    }

    func testDepthwiseInPlaceEqualsReferenceOverRandomShapesPaddingAndDilation() {
        var g = SplitMix64(seed: 0xD1)
        for _ in 0..<150 {
            let kh = Int.random(in: 1...5, using: &g), kw = Int.random(in: 1...5, using: &g)
            let dh = Int.random(in: 1...2, using: &g), dw = Int.random(in: 1...2, using: &g)
            let spanH = dh * (kh - 1), spanW = dw * (kw - 1)
            let top = Int.random(in: 0...spanH, using: &g), left = Int.random(in: 0...spanW, using: &g)
            let shape = TensorShape(
                n: Int.random(in: 1...2, using: &g), h: Int.random(in: max(1, spanH)...9, using: &g),
                w: Int.random(in: max(1, spanW)...9, using: &g), c: Int.random(in: 1...7, using: &g))
            let parameters = Conv2DParameters(
                dilationH: dh, dilationW: dw,
                padding: Padding(top: top, left: left, bottom: spanH - top, right: spanW - left), groups: shape.c)
            let filter = FilterShape(outputChannels: shape.c, kernelH: kh, kernelW: kw, inputChannelsPerGroup: 1)
            XCTAssertTrue(DepthwiseInPlace.isSupported(inputShape: shape, filter: filter, parameters: parameters))
            let input = Int8TestData.int8s(shape.elementCount, &g)
            let zp = Int32.random(in: -128...127, using: &g)
            let stage = Stage(&g, filter: filter, typical: 1.0 / Double(kh * kw * 40))
            let expected = stage.reference(input, shape, inputZeroPoint: zp, filter: filter, parameters: parameters)

            // The in-place op takes the depthwise variants only (a single channel chooses a GEMM).
            let chosen = KernelVariant.choose(inputShape: shape, filter: filter, parameters: parameters, inputZeroPoint: zp)
            let fast = chosen == .depthwise || chosen == .depthwise3x3 ? chosen : .reference
            for variant in [KernelVariant.reference, fast] {
                var data = input
                var scratch = [Int8](repeating: 0, count: DepthwiseInPlace.scratchByteCount(inputShape: shape, filter: filter, parameters: parameters))
                XCTAssertEqual(scratch.count, min(spanH + 1, shape.h) * shape.w * shape.c)
                let packed = stage.packed(variant, inputShape: shape, inputZeroPoint: zp, filter: filter, parameters: parameters)
                stage.withStage(variant: variant, packed: packed) { s in
                    DepthwiseInPlace.run(
                        data: &data, shape: shape, inputZeroPoint: zp, weights: s.weights, filter: filter, bias: s.bias,
                        parameters: parameters, requantization: s.requantization, scratch: &scratch,
                        variant: s.variant, packedWeights: s.packedWeights)
                }
                XCTAssertEqual(data, expected, "\(variant): kernel \(kh)×\(kw) dilation \(dh),\(dw) padding \(parameters.padding) shape \(shape)")
            }
        }
    }

    /// 3×3 in place with at least 16 channels (the AVX2 kernel's ring of copied rows on
    /// x86_64): every top/left padding from 0 to 2 (bottom and right complete the "same"
    /// shape), heights from 1 (one row, no ring reuse) to 7, channel tails.
    func testDepthwiseInPlace3x3WideChannelsEqualsReferenceForEveryPadding() {
        var g = SplitMix64(seed: 0xD6)
        for trial in 0..<60 {
            let top = trial % 3, left = (trial / 3) % 3
            let shape = TensorShape(
                n: Int.random(in: 1...2, using: &g), h: Int.random(in: 1...7, using: &g),
                w: Int.random(in: 2...9, using: &g), c: [16, 19, 32, 45][Int.random(in: 0..<4, using: &g)])
            let parameters = Conv2DParameters(padding: Padding(top: top, left: left, bottom: 2 - top, right: 2 - left), groups: shape.c)
            let filter = FilterShape(outputChannels: shape.c, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
            XCTAssertTrue(DepthwiseInPlace.isSupported(inputShape: shape, filter: filter, parameters: parameters))
            let input = Int8TestData.int8s(shape.elementCount, &g)
            let zp = Int32.random(in: -128...127, using: &g)
            let stage = Stage(&g, filter: filter, typical: 1.0 / Double(9 * 40))
            let expected = stage.reference(input, shape, inputZeroPoint: zp, filter: filter, parameters: parameters)
            XCTAssertEqual(KernelVariant.choose(inputShape: shape, filter: filter, parameters: parameters, inputZeroPoint: zp), .depthwise3x3)
            var data = input
            let rows = DepthwiseInPlace.scratchByteCount(inputShape: shape, filter: filter, parameters: parameters)
            var scratch = [Int8](repeating: 0x5A, count: rows + 16)
            let packed = stage.packed(.depthwise3x3, inputShape: shape, inputZeroPoint: zp, filter: filter, parameters: parameters)
            stage.withStage(variant: .depthwise3x3, packed: packed) { s in
                DepthwiseInPlace.run(
                    data: &data, shape: shape, inputZeroPoint: zp, weights: s.weights, filter: filter, bias: s.bias,
                    parameters: parameters, requantization: s.requantization, scratch: &scratch,
                    variant: s.variant, packedWeights: s.packedWeights)
            }
            XCTAssertEqual(data, expected, "padding \(parameters.padding) shape \(shape)")
            XCTAssertTrue(scratch[rows...].allSatisfy { $0 == 0x5A }, "scratch overrun")
        }
    }

    func testDepthwiseInPlaceRejectsStridesMultipliersAndShapeChanges() {
        let shape = TensorShape(h: 8, w: 8, c: 4)
        let f3 = FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
        let same = Padding.uniform(1)
        XCTAssertTrue(DepthwiseInPlace.isSupported(inputShape: shape, filter: f3, parameters: Conv2DParameters(padding: same, groups: 4)))
        XCTAssertFalse(DepthwiseInPlace.isSupported(inputShape: shape, filter: f3, parameters: Conv2DParameters(strideH: 2, strideW: 2, padding: same, groups: 4)))
        XCTAssertFalse(DepthwiseInPlace.isSupported(inputShape: shape, filter: f3, parameters: Conv2DParameters(groups: 4)))
        let doubled = FilterShape(outputChannels: 8, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 1)
        XCTAssertFalse(DepthwiseInPlace.isSupported(inputShape: shape, filter: doubled, parameters: Conv2DParameters(padding: same, groups: 4)))
        let grouped = FilterShape(outputChannels: 4, kernelH: 3, kernelW: 3, inputChannelsPerGroup: 2)
        XCTAssertFalse(DepthwiseInPlace.isSupported(inputShape: shape, filter: grouped, parameters: Conv2DParameters(padding: same, groups: 2)))
    }

    /// A random block geometry; `residual` forces stride 1, equal channels and a 1×1 expand;
    /// otherwise one block in three has a stem-like K×K expand (stride 1 or 2).
    static func randomGeometry(_ g: inout SplitMix64, residual: Bool) -> InvertedResidualGeometry {
        let stem = !residual && Int.random(in: 0...2, using: &g) == 0
        let ek = stem ? [2, 3, 3].randomElement(using: &g)! : 1
        let es = stem ? Int.random(in: 1...2, using: &g) : 1
        let et = Int.random(in: 0...(ek - 1), using: &g), el = Int.random(in: 0...(ek - 1), using: &g)
        let expand = Conv2DParameters(
            strideH: es, strideW: es,
            padding: Padding(top: et, left: el, bottom: Int.random(in: 0...(ek - 1), using: &g), right: Int.random(in: 0...(ek - 1), using: &g)))
        let k = [1, 3, 3, 5].randomElement(using: &g)!
        let stride = residual ? 1 : Int.random(in: 1...2, using: &g)
        let dilation = residual || k == 1 ? 1 : Int.random(in: 1...2, using: &g)
        let span = dilation * (k - 1)
        let top = Int.random(in: 0...span, using: &g), left = Int.random(in: 0...span, using: &g)
        let bottom = residual ? span - top : Int.random(in: 0...span, using: &g)
        let right = residual ? span - left : Int.random(in: 0...span, using: &g)
        let cin = Int.random(in: 1...6, using: &g)
        let ce = cin * Int.random(in: 1...6, using: &g)
        let shape = TensorShape(
            n: Int.random(in: 1...2, using: &g), h: Int.random(in: max(1, span)...9, using: &g),
            w: Int.random(in: max(1, span)...9, using: &g), c: cin)
        return InvertedResidualGeometry(
            inputShape: shape, expandedChannels: ce, outputChannels: residual ? cin : Int.random(in: 1...8, using: &g),
            kernelH: k, kernelW: k,
            depthwise: Conv2DParameters(
                strideH: stride, strideW: stride, dilationH: dilation, dilationW: dilation,
                padding: Padding(top: top, left: left, bottom: bottom, right: right), groups: ce),
            hasResidual: residual, expandKernelH: ek, expandKernelW: ek, expand: expand)
    }

    func testFusedInvertedResidualEqualsUnfusedReferenceOverRandomBlocks() {
        var g = SplitMix64(seed: 0xF05E)
        var inPlaceRuns = 0
        var stems = 0
        for trial in 0..<240 {
            let geometry = Self.randomGeometry(&g, residual: trial % 2 == 0)
            guard geometry.isValid else { continue }
            if geometry.expandKernelH > 1 { stems += 1 }
            inPlaceRuns += checkFusedAgainstUnfused(geometry, &g)
        }
        XCTAssertGreaterThan(inPlaceRuns, 80)
        XCTAssertGreaterThan(stems, 20)
    }

    /// Runs one random block of `geometry` fused (separate output, then in place when
    /// allowed) with the reference and the fast variants, against the unfused reference;
    /// returns how many of those runs were in place.
    func checkFusedAgainstUnfused(_ geometry: InvertedResidualGeometry, _ g: inout SplitMix64) -> Int {
        var inPlaceRuns = 0
        let shape = geometry.inputShape
        let input = Int8TestData.int8s(shape.elementCount, &g)
        let zp = Int32.random(in: -128...127, using: &g)
        let expand = Stage(&g, filter: geometry.expandFilter, typical: 1.0 / Double(shape.c * 40))
        let depthwise = Stage(&g, filter: geometry.depthwiseFilter, typical: 1.0 / Double(geometry.kernelH * geometry.kernelW * 40))
        let project = Stage(&g, filter: geometry.projectFilter, typical: 1.0 / Double(geometry.expandedChannels * 40))
        let outZP = Int32.random(in: -20...20, using: &g)
        let addQ = tfliteAddQuantization(
            QuantizationParameters(scale: 0.05, zeroPoint: zp), QuantizationParameters(scale: 0.07, zeroPoint: project.zeroPoint),
            QuantizationParameters(scale: 0.09, zeroPoint: outZP))
        let blockInputFirst = Bool.random(using: &g)

        // Unfused: whole tensors.
        let e = expand.reference(input, shape, inputZeroPoint: zp, filter: geometry.expandFilter, parameters: geometry.expand)
        let d = depthwise.reference(e, geometry.expandedShape, inputZeroPoint: expand.zeroPoint, filter: geometry.depthwiseFilter, parameters: geometry.depthwise)
        var expected = project.reference(d, geometry.depthwiseShape, inputZeroPoint: depthwise.zeroPoint, filter: geometry.projectFilter, parameters: Conv2DParameters())
        let outShape = geometry.outputShape
        XCTAssertEqual(expected.count, outShape.elementCount)
        var residual: FusedResidual? = nil
        if geometry.hasResidual {
            var sum = [Int8](repeating: 0, count: expected.count)
            let q = blockInputFirst
                ? addQ
                : tfliteAddQuantization(
                    QuantizationParameters(scale: 0.07, zeroPoint: project.zeroPoint), QuantizationParameters(scale: 0.05, zeroPoint: zp),
                    QuantizationParameters(scale: 0.09, zeroPoint: outZP))
            Int8Reference.add(
                input1: blockInputFirst ? input : expected, shape1: outShape, input2: blockInputFirst ? expected : input,
                shape2: outShape, output: &sum, outputShape: outShape, quantization: q)
            expected = sum
            residual = FusedResidual(quantization: q, blockInputFirst: blockInputFirst)
        }

        let pointwise = Conv2DParameters()
        let expandRow = TensorShape(h: geometry.expandKernelH, w: shape.w, c: shape.c)
        let dwRowIn = TensorShape(h: 1, w: geometry.expandedShape.w, c: geometry.expandedChannels)
        let projectRow = TensorShape(h: 1, w: geometry.depthwiseShape.w, c: geometry.expandedChannels)
        for fast in [false, true] {
        // The fused kernel runs `.pointwise` for the 1×1 stages and the depthwise variants
        // in the middle (as `FusedInvertedResidual.chooseVariants` picks them).
        func only(_ v: KernelVariant, _ allowed: [KernelVariant]) -> KernelVariant { fast && allowed.contains(v) ? v : .reference }
        let ev = only(KernelVariant.choose(inputShape: expandRow, filter: geometry.expandFilter, parameters: geometry.expand, inputZeroPoint: zp), [.pointwise, .im2col])
        let dv = only(KernelVariant.choose(inputShape: dwRowIn, filter: geometry.depthwiseFilter, parameters: geometry.depthwise, inputZeroPoint: expand.zeroPoint), [.depthwise, .depthwise3x3])
        let pv = only(KernelVariant.choose(inputShape: projectRow, filter: geometry.projectFilter, parameters: pointwise, inputZeroPoint: depthwise.zeroPoint), [.pointwise])
        let ep = expand.packed(ev, inputShape: expandRow, inputZeroPoint: zp, filter: geometry.expandFilter, parameters: geometry.expand)
        let dp = depthwise.packed(dv, inputShape: dwRowIn, inputZeroPoint: expand.zeroPoint, filter: geometry.depthwiseFilter, parameters: geometry.depthwise)
        let pp = project.packed(pv, inputShape: projectRow, inputZeroPoint: depthwise.zeroPoint, filter: geometry.projectFilter, parameters: pointwise)
        let scratchBytes = geometry.scratchBytes + InvertedResidual.panelBytes(geometry: geometry, expand: ev, project: pv)

        // Fused, separate output, scratch surrounded by canaries.
        let canary: Int8 = 0x5A
        var scratch = [Int8](repeating: canary, count: scratchBytes + 32)
        var out = [Int8](repeating: 0, count: outShape.elementCount)
        expand.withStage(variant: ev, packed: ep) { es in depthwise.withStage(variant: dv, packed: dp) { ds in project.withStage(variant: pv, packed: pp) { ps in
            scratch.withUnsafeMutableBufferPointer { sp in
                InvertedResidual.run(
                    geometry: geometry, input: input, inputZeroPoint: zp, expand: es, depthwise: ds, project: ps,
                    residual: residual, output: &out, scratch: sp.baseAddress! + 16)
            }
        } } }
        XCTAssertEqual(out, expected, "variants \(ev), \(dv), \(pv), geometry \(geometry)")
        XCTAssertTrue(scratch[0..<16].allSatisfy { $0 == canary } && scratch.suffix(16).allSatisfy { $0 == canary })

        // Fused in place: the output overwrites the input.
        if geometry.canRunInPlace {
            inPlaceRuns += 1
            var data = input
            expand.withStage(variant: ev, packed: ep) { es in depthwise.withStage(variant: dv, packed: dp) { ds in project.withStage(variant: pv, packed: pp) { ps in
                data.withUnsafeMutableBufferPointer { p in
                    InvertedResidual.run(
                        geometry: geometry, input: p.baseAddress!, inputZeroPoint: zp, expand: es, depthwise: ds,
                        project: ps, residual: residual, output: p.baseAddress!, scratch: &scratch)
                }
            } } }
            XCTAssertEqual(Array(data[0..<outShape.elementCount]), expected, "in place, variants \(ev), \(dv), \(pv), geometry \(geometry)")
        }
        }
        return inPlaceRuns
    }

    /// Fused blocks whose depthwise stage is 3×3 with 16 to 40 expanded channels (on AVX2 the
    /// window of expanded rows is a ring read through row pointers): strides 1 and 2, every
    /// top padding, residual or not, stems included.
    func testFusedInvertedResidual3x3WideExpansionEqualsUnfused() {
        var g = SplitMix64(seed: 0xD7)
        var checked = 0, inPlace = 0
        for trial in 0..<80 {
            var geometry = Self.randomGeometry(&g, residual: trial % 2 == 0)
            guard geometry.kernelH == 3, geometry.depthwise.dilationH == 1 else { continue }
            geometry.expandedChannels = geometry.inputShape.c * Int.random(in: 1...6, using: &g) + 16
            geometry.depthwise.groups = geometry.expandedChannels
            guard geometry.isValid else { continue }
            checked += 1
            inPlace += checkFusedAgainstUnfused(geometry, &g)
        }
        XCTAssertGreaterThan(checked, 25)
        XCTAssertGreaterThan(inPlace, 5)
    }

    func testFusedBlockScratchIsRingOfWindowRowsPlusOneRowEach() {
        let g = InvertedResidualGeometry(
            inputShape: TensorShape(h: 16, w: 16, c: 8), expandedChannels: 48, outputChannels: 8, kernelH: 3, kernelW: 3,
            depthwise: Conv2DParameters(padding: .uniform(1), groups: 48), hasResidual: true)
        XCTAssertEqual(g.ringRows, 3)
        XCTAssertEqual(g.scratchBytes, 3 * 16 * 48 + 16 * 48 + 16 * 8)
        XCTAssertTrue(g.canRunInPlace)
        // Stride 2, more output channels than input rows can hold: not in place.
        let wide = InvertedResidualGeometry(
            inputShape: TensorShape(h: 8, w: 8, c: 4), expandedChannels: 24, outputChannels: 24, kernelH: 3, kernelW: 3,
            depthwise: Conv2DParameters(strideH: 2, strideW: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 24),
            hasResidual: false)
        XCTAssertFalse(wide.canRunInPlace)
        XCTAssertEqual(wide.ringRows, 3)
        XCTAssertEqual(wide.projectRowBytes, 0)
    }
}
