import QuantaKernels

/// `VectorPool.maxPool` and `VectorLayout` (NEON on aarch64 and armv7) bit for bit against
/// `Int8Reference.maxPool` and `Layout`'s element loops, on pseudo-random shapes: channel
/// counts 1...70 (vector, overlapping-tail and scalar paths), windows 1...3 with strides
/// 1...3 and paddings below the window, clamps inside int8; concat slices, channel slices
/// and shuffles of 1...4 groups. Returns the cases run and the first mismatch.
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
            input.withUnsafeBufferPointer { x in
                expected.withUnsafeMutableBufferPointer {
                    Int8Reference.maxPool(input: x.baseAddress!, inputShape: shape, output: $0.baseAddress!, outputShape: outShape,
                                          parameters: pool, clampMin: clampMin, clampMax: clampMax)
                }
                found.withUnsafeMutableBufferPointer {
                    VectorPool.maxPool(input: x.baseAddress!, inputShape: shape, output: $0.baseAddress!, outputShape: outShape,
                                       parameters: pool, clampMin: clampMin, clampMax: clampMax)
                }
            }
            if found != expected {
                return (cases, "maxPool \(shape.n)×\(shape.h)×\(shape.w)×\(c) kernel \(kh)×\(kw) stride \(pool.strideH)×\(pool.strideW)")
            }
            cases += 1
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
        cases += 3
    }
    return (cases, nil)
}
