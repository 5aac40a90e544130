import QuantaKernels

/// `VectorPool.maxPool`, `VectorPool.averagePool` and `VectorLayout` (NEON on aarch64 and
/// armv7) bit for bit against `Int8Reference.maxPool`/`averagePool` and `Layout`'s element loops, on pseudo-random shapes: channel
/// counts 1...70 (vector, overlapping-tail and scalar paths), windows 1...3 with strides
/// 1...3 and paddings below the window, clamps inside int8; concat slices, channel slices
/// shuffles of 1...4 groups and two-input interleaves; input quantization (`VectorQuantize`) against
/// `Quantizer.quantize`; adds (`VectorAdd`) against `Int8Reference.add`. Returns the cases
/// run and the first mismatch.
func checkLayout(random: inout SplitMix) -> (cases: Int, failure: String?) {
    var cases = 0
    for trial in 0..<80 {
        let c = 1 + random.next(below: 70)
        let shape = TensorShape(n: 1 + random.next(below: 2), h: 1 + random.next(below: 9), w: 1 + random.next(below: 9), c: c)
        let kh = 1 + random.next(below: 3), kw = 1 + random.next(below: 3)
        let pool = PoolParameters(kernelH: kh, kernelW: kw, strideH: 1 + random.next(below: 3), strideW: 1 + random.next(below: 3),
                                  padding: Padding(top: random.next(below: kh), left: random.next(below: kw),
                                                   bottom: random.next(below: kh), right: random.next(below: kw)))
        let outShape = pool.outputShape(input: shape)
        var input = [Int8](repeating: 0, count: shape.elementCount)
        for i in input.indices { input[i] = random.int8() }
        let clampMin = Int32(trial % 3 == 0 ? -20 : -128), clampMax = Int32(trial % 5 == 0 ? 30 : 127)
        if outShape.h >= 1 && outShape.w >= 1 {
            var expected = [Int8](repeating: 0, count: outShape.elementCount), found = expected
            for average in [false, true] {
                input.withUnsafeBufferPointer { x in
                    expected.withUnsafeMutableBufferPointer { e in
                        found.withUnsafeMutableBufferPointer { f in
                            if average {
                                Int8Reference.averagePool(input: x.baseAddress!, inputShape: shape, output: e.baseAddress!, outputShape: outShape,
                                                          parameters: pool, clampMin: clampMin, clampMax: clampMax)
                                VectorPool.averagePool(input: x.baseAddress!, inputShape: shape, output: f.baseAddress!, outputShape: outShape,
                                                       parameters: pool, clampMin: clampMin, clampMax: clampMax)
                            } else {
                                Int8Reference.maxPool(input: x.baseAddress!, inputShape: shape, output: e.baseAddress!, outputShape: outShape,
                                                      parameters: pool, clampMin: clampMin, clampMax: clampMax)
                                VectorPool.maxPool(input: x.baseAddress!, inputShape: shape, output: f.baseAddress!, outputShape: outShape,
                                                   parameters: pool, clampMin: clampMin, clampMax: clampMax)
                            }
                        }
                    }
                }
                if found != expected {
                    return (cases, "\(average ? "averagePool" : "maxPool") \(shape.n)×\(shape.h)×\(shape.w)×\(c) kernel \(kh)×\(kw) "
                        + "stride \(pool.strideH)×\(pool.strideW)")
                }
                cases += 1
            }
        }
        let pixels = shape.n * shape.h * shape.w
        // Concat: this tensor into a channel slice of a wider one, around random bytes.
        let offset = random.next(below: 20), wide = c + offset + random.next(below: 20)
        var concatExpected = [Int8](repeating: 7, count: pixels * wide), concatFound = concatExpected
        // Slice: channels start..<start+count of this tensor.
        let start = random.next(below: c), count = 1 + random.next(below: c - start)
        var sliceExpected = [Int8](repeating: 0, count: pixels * count), sliceFound = sliceExpected
        // Shuffle: groups dividing c.
        let groups = [1, 2, 3, 4].filter { c % $0 == 0 }[random.next(below: [1, 2, 3, 4].filter { c % $0 == 0 }.count)]
        var shuffleExpected = [Int8](repeating: 0, count: shape.elementCount), shuffleFound = shuffleExpected
        input.withUnsafeBufferPointer { x in
            let p = x.baseAddress!
            concatExpected.withUnsafeMutableBufferPointer {
                Layout.concatChannels(input: p, inputChannels: c, output: $0.baseAddress!, outputChannels: wide, channelOffset: offset, pixels: pixels)
            }
            concatFound.withUnsafeMutableBufferPointer {
                VectorLayout.concatChannels(input: p, inputChannels: c, output: $0.baseAddress!, outputChannels: wide, channelOffset: offset, pixels: pixels)
            }
            sliceExpected.withUnsafeMutableBufferPointer {
                Layout.sliceChannels(input: p, inputChannels: c, output: $0.baseAddress!, start: start, count: count, pixels: pixels)
            }
            sliceFound.withUnsafeMutableBufferPointer {
                VectorLayout.sliceChannels(input: p, inputChannels: c, output: $0.baseAddress!, start: start, count: count, pixels: pixels)
            }
            shuffleExpected.withUnsafeMutableBufferPointer {
                Layout.channelShuffle(input: p, output: $0.baseAddress!, shape: shape, groups: groups)
            }
            shuffleFound.withUnsafeMutableBufferPointer {
                VectorLayout.channelShuffle(input: p, output: $0.baseAddress!, shape: shape, groups: groups)
            }
        }
        if concatFound != concatExpected { return (cases, "concatChannels \(pixels) pixels × \(c) into \(wide) at \(offset)") }
        if sliceFound != sliceExpected { return (cases, "sliceChannels \(pixels) pixels × \(c) from \(start) count \(count)") }
        if shuffleFound != shuffleExpected { return (cases, "channelShuffle \(pixels) pixels × \(c), \(groups) groups") }
        // Interleave of two inputs (concat → shuffle of 2): this tensor and its reverse.
        let other = Array(input.reversed())
        var interleaveExpected = [Int8](repeating: 0, count: 2 * input.count), interleaveFound = interleaveExpected
        input.withUnsafeBufferPointer { x in
            other.withUnsafeBufferPointer { y in
                interleaveExpected.withUnsafeMutableBufferPointer {
                    Layout.interleaveChannels(input: x.baseAddress!, channels: c, output: $0.baseAddress!, groups: 2, group: 0, pixels: pixels)
                    Layout.interleaveChannels(input: y.baseAddress!, channels: c, output: $0.baseAddress!, groups: 2, group: 1, pixels: pixels)
                }
                interleaveFound.withUnsafeMutableBufferPointer {
                    VectorLayout.interleave2(x.baseAddress!, y.baseAddress!, channels: c, output: $0.baseAddress!, pixels: pixels)
                }
            }
        }
        if interleaveFound != interleaveExpected { return (cases, "interleave2 \(pixels) pixels × \(c)") }
        cases += 4
    }
    // Input quantization: planar floats (ties at x.5 steps of the scale, NaN, infinities,
    // values beyond int8) into interleaved int8, 1 to 4 planes, sizes around 16.
    for trial in 0..<40 {
        let planes = 1 + trial % 4, planeSize = random.next(below: 40)
        let q = QuantizationParameters(scale: [0.5, 0.017, 3.0, 1.0 / 255][trial % 4], zeroPoint: Int32(random.next(below: 256)) - 128)
        var src = [Float](repeating: 0, count: planes * planeSize)
        for i in src.indices {
            switch random.next(below: 12) {
            case 0: src[i] = Float.nan
            case 1: src[i] = random.next(below: 2) == 0 ? Float.infinity : -Float.infinity
            case 2, 3: src[i] = (Float(random.next(below: 512)) - 256 + 0.5) * q.scale  // ties
            default: src[i] = (Float(random.next(below: 1 << 20)) / Float(1 << 20) - 0.5) * 300 * q.scale
            }
        }
        var expected = [Int8](repeating: 0, count: src.count), found = expected
        for p in 0..<planeSize {
            for c in 0..<planes { expected[p * planes + c] = Quantizer.quantize(src[c * planeSize + p], q) }
        }
        src.withUnsafeBufferPointer { x in
            found.withUnsafeMutableBufferPointer {
                VectorQuantize.planes(x.baseAddress!, planes: planes, planeSize: planeSize, into: $0.baseAddress!, q)
            }
        }
        if found != expected { return (cases, "VectorQuantize.planes \(planes) planes of \(planeSize), scale \(q.scale)") }
        cases += 1
    }
    // Add (VectorAdd: NEON on ARM) against Int8Reference.add: TFLite's left shift 20,
    // input shifts 0 down to -3, output shifts 0 down to -20, lengths 1...70, in place too.
    for trial in 0..<60 {
        let count = 1 + random.next(below: 70)
        let q = AddQuantization(
            input1ZeroPoint: Int32(random.next(below: 256)) - 128, input2ZeroPoint: Int32(random.next(below: 256)) - 128,
            outputZeroPoint: Int32(random.next(below: 256)) - 128, leftShift: trial % 5 == 0 ? Int32(random.next(below: 23)) : 20,
            input1Multiplier: Int32(1 << 30) + Int32(random.next(below: 1 << 30)), input1Shift: -Int32(random.next(below: 4)),
            input2Multiplier: Int32(1 << 30) + Int32(random.next(below: 1 << 30)), input2Shift: -Int32(random.next(below: 4)),
            outputMultiplier: Int32(1 << 30) + Int32(random.next(below: 1 << 30)), outputShift: -Int32(random.next(below: 21)),
            clampMin: trial % 3 == 0 ? -100 : -128, clampMax: trial % 4 == 0 ? 100 : 127)
        var a = [Int8](repeating: 0, count: count), b = a
        for i in 0..<count { a[i] = random.int8(); b[i] = random.int8() }
        let shape = TensorShape(n: 1, h: 1, w: 1, c: count)
        var expected = [Int8](repeating: 0, count: count), found = expected
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                expected.withUnsafeMutableBufferPointer {
                    Int8Reference.add(input1: x.baseAddress!, shape1: shape, input2: y.baseAddress!, shape2: shape,
                                      output: $0.baseAddress!, outputShape: shape, quantization: q)
                }
                found.withUnsafeMutableBufferPointer {
                    VectorAdd.run(input1: x.baseAddress!, input2: y.baseAddress!, output: $0.baseAddress!, count: count, quantization: q)
                }
            }
        }
        // In place: the output over the first operand.
        var inPlace = a
        inPlace.withUnsafeMutableBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                VectorAdd.run(input1: x.baseAddress!, input2: y.baseAddress!, output: x.baseAddress!, count: count, quantization: q)
            }
        }
        if found != expected || inPlace != expected { return (cases, "VectorAdd.run \(count) lanes, trial \(trial)") }
        cases += 2
    }
    return (cases, nil)
}
