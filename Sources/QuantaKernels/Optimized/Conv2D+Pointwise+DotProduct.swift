#if arch(arm64) && QUANTA_DOTPROD
import _Builtin_intrinsics.arm.neon

// The dot-product GEMM kernel for Armv8.2-A cores with the dot product extension (builds
// with `-D QUANTA_DOTPROD` and a dotprod CPU, Targets/aarch64-cortex-a76.env). Inner loop:
// `sdot v.4s, v.16b, v.4b[lane]` (four int8×int8 products summed into each int32 lane),
// `zip1`/`zip2 v.8h` to turn two packed k-pairs into k-quads, `ldr q` loads. See
// docs/PERFORMANCE-KERNELS.md, "Inner loops on aarch64".
//
// Swift's SIMD code never becomes `sdot` (tried: widening multiplies with 4-way lane sums,
// `wrappedSum`, shuffles; only the loop vectorizer forms it, for a scalar dot product over
// contiguous k, which the packed layout is not), so this file calls the Clang intrinsic
// `vdotq_s32` from arm_neon.h, the way the x86 kernel uses immintrin.h. Compiling this
// file for a CPU without dotprod is a compiler crash ("Cannot select AArch64ISD::SDOT"),
// hence the compile-time condition.

extension PointwiseGEMM {
    /// The dot-product kernel; same results as `runPortable` and `Int8Reference.conv2D`
    /// (int8×int8 products summed in wrapping int32, as the other kernels). Reads the same
    /// packed weights (zipped into k-quads in registers) and the int8 rows of A directly:
    /// the panel scratch is not used.
    ///
    /// For each block of 8 channels (output stage prepared once), tiles of 8 rows (5 to 8
    /// rows left), 4 rows (2 to 4) or 1 row; a tile's missing rows repeat its last row and
    /// are not stored. Reads of A stay within `a[p * aRowStride ..< p * aRowStride + depth]`
    /// for the rows `p < rows`.
    public static func runDotProduct(_ g: GEMMOperands) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        for block in 0..<(paddedColumns(g.columns) / 8) {
            let n0 = block * 8
            let valid = min(8, g.columns - n0)
            let stage = DotOutputStage(
                bias: UnsafeRawPointer(g.packed).loadUnaligned(fromByteOffset: 4 * n0, as: SIMD8<Int32>.self),
                requantization: RequantizationBlock8(g.requantization, first: g.channelOffset + n0, count: valid),
                count: valid)
            var row = 0
            while row < g.rows {
                let left = g.rows - row
                if left >= 5 {
                    dotTile8(g, block: block, stage: stage, firstRow: row, rows: min(8, left))
                    row += 8
                } else if left >= 2 {
                    dotTile4(g, block: block, stage: stage, firstRow: row, rows: left)
                    row += 4
                } else {
                    dotTile1(g, block: block, stage: stage, firstRow: row)
                    row += 1
                }
            }
        }
    }

    @inline(never) @usableFromInline
    static func dotTile8(_ g: GEMMOperands, block: Int, stage: DotOutputStage, firstRow: Int, rows: Int) {
        dotTile(g, block: block, stage: stage, firstRow: firstRow, rows: rows, height: 8)
    }

    @inline(never) @usableFromInline
    static func dotTile4(_ g: GEMMOperands, block: Int, stage: DotOutputStage, firstRow: Int, rows: Int) {
        dotTile(g, block: block, stage: stage, firstRow: firstRow, rows: rows, height: 4)
    }

    @inline(never) @usableFromInline
    static func dotTile1(_ g: GEMMOperands, block: Int, stage: DotOutputStage, firstRow: Int) {
        dotTile(g, block: block, stage: stage, firstRow: firstRow, rows: 1, height: 1)
    }

    /// `rows` (1...height) rows from `firstRow` × the 8 channels of `block`. `height` is a
    /// constant (8, 4 or 1) at each inlined call, so the rows past it compile away.
    @inline(__always) @usableFromInline
    static func dotTile(_ g: GEMMOperands, block: Int, stage: DotOutputStage, firstRow: Int, rows: Int, height: Int) {
        let k = g.depth
        let kPad = paddedDepth(k)
        @inline(__always) func rowPointer(_ r: Int) -> UnsafeRawPointer {
            UnsafeRawPointer(g.a + (firstRow + min(r, rows - 1)) * g.aRowStride)
        }
        let a0 = rowPointer(0), a1 = rowPointer(1), a2 = rowPointer(2), a3 = rowPointer(3)
        let a4 = rowPointer(4), a5 = rowPointer(5), a6 = rowPointer(6), a7 = rowPointer(7)
        // The block: kPad / 2 pairs of 16 bytes after the biases; pair j (A's k = 2j, 2j+1)
        // at 16 * j. `wi` follows `i`: the pair i/2, at byte 8 * i.
        var wi = UnsafeRawPointer(g.packed) + 4 * paddedColumns(g.columns) + block * 8 * kPad
        var c0 = DotRow(), c1 = DotRow(), c2 = DotRow(), c3 = DotRow()
        var c4 = DotRow(), c5 = DotRow(), c6 = DotRow(), c7 = DotRow()
        var i = 0
        while i + 16 <= k {
            let q = DotQuads4(wi)
            c0.add(q, a0 + i)
            if height > 1 { c1.add(q, a1 + i); c2.add(q, a2 + i); c3.add(q, a3 + i) }
            if height > 4 { c4.add(q, a4 + i); c5.add(q, a5 + i); c6.add(q, a6 + i); c7.add(q, a7 + i) }
            i += 16
            wi += 128
        }
        while i + 4 <= k {
            let q = DotQuad(pairs: wi)
            c0.add(q, broadcast: a0 + i)
            if height > 1 { c1.add(q, broadcast: a1 + i); c2.add(q, broadcast: a2 + i); c3.add(q, broadcast: a3 + i) }
            if height > 4 {
                c4.add(q, broadcast: a4 + i); c5.add(q, broadcast: a5 + i)
                c6.add(q, broadcast: a6 + i); c7.add(q, broadcast: a7 + i)
            }
            i += 4
            wi += 32
        }
        if i < k {
            // 1 to 3 values of A left: pairs i/2 and, for 3, i/2 + 1 (its second weight
            // is the 0 padding); the missing bytes of A are 0.
            let q = k - i == 3 ? DotQuad(pairs: wi) : DotQuad(pair: wi)
            c0.add(q, tail: a0 + i, count: k - i)
            if height > 1 {
                c1.add(q, tail: a1 + i, count: k - i); c2.add(q, tail: a2 + i, count: k - i)
                c3.add(q, tail: a3 + i, count: k - i)
            }
            if height > 4 {
                c4.add(q, tail: a4 + i, count: k - i); c5.add(q, tail: a5 + i, count: k - i)
                c6.add(q, tail: a6 + i, count: k - i); c7.add(q, tail: a7 + i, count: k - i)
            }
        }
        let out = g.output + firstRow * g.outputRowStride + block * 8
        stage.store(c0, out)
        if height > 1 {
            if rows > 1 { stage.store(c1, out + g.outputRowStride) }
            if rows > 2 { stage.store(c2, out + 2 * g.outputRowStride) }
            if rows > 3 { stage.store(c3, out + 3 * g.outputRowStride) }
        }
        if height > 4 {
            if rows > 4 { stage.store(c4, out + 4 * g.outputRowStride) }
            if rows > 5 { stage.store(c5, out + 5 * g.outputRowStride) }
            if rows > 6 { stage.store(c6, out + 6 * g.outputRowStride) }
            if rows > 7 { stage.store(c7, out + 7 * g.outputRowStride) }
        }
    }
}

/// The output stage of one 8-channel block: folded bias, requantization, the number of
/// channels stored (`count`, 1...8).
@frozen @usableFromInline
struct DotOutputStage {
    @usableFromInline var bias: SIMD8<Int32>
    @usableFromInline var requantization: RequantizationBlock8
    @usableFromInline var count: Int

    @inline(__always) @usableFromInline
    init(bias: SIMD8<Int32>, requantization: RequantizationBlock8, count: Int) {
        self.bias = bias
        self.requantization = requantization
        self.count = count
    }

    /// Requantizes one row's sums and writes its `count` bytes at `out`.
    @inline(__always) @usableFromInline
    func store(_ c: DotRow, _ out: UnsafeMutablePointer<Int8>) {
        let sum = bias &+ SIMD8(lowHalf: c.low, highHalf: c.high)
        VectorMath.store8(requantization.apply(sum), out, count: count)
    }
}

/// Weights of one k-quad (A's k ..< k+4) for the 8 channels of a block, in `sdot` order:
/// `low` holds channels 0...3, `high` channels 4...7, 4 bytes (k, k+1, k+2, k+3) each.
/// Made from two packed k-pairs, whose int16 lanes are the channels, by `zip1`/`zip2`
/// on 16-bit elements.
@frozen @usableFromInline
struct DotQuad {
    @usableFromInline var low: SIMD16<Int8>
    @usableFromInline var high: SIMD16<Int8>

    /// The pairs at `p` and `p + 16`.
    @inline(__always) @usableFromInline
    init(pairs p: UnsafeRawPointer) {
        let first = p.loadUnaligned(as: SIMD8<Int16>.self)
        let second = p.loadUnaligned(fromByteOffset: 16, as: SIMD8<Int16>.self)
        low = unsafeBitCast(vzip1q_s16(first, second), to: SIMD16<Int8>.self)
        high = unsafeBitCast(vzip2q_s16(first, second), to: SIMD16<Int8>.self)
    }

    /// The pair at `p`, then zero weights (nothing is read past `p + 16`).
    @inline(__always) @usableFromInline
    init(pair p: UnsafeRawPointer) {
        let first = p.loadUnaligned(as: SIMD8<Int16>.self)
        let zero = SIMD8<Int16>()
        low = unsafeBitCast(vzip1q_s16(first, zero), to: SIMD16<Int8>.self)
        high = unsafeBitCast(vzip2q_s16(first, zero), to: SIMD16<Int8>.self)
    }
}

/// Four consecutive k-quads (16 values of k) of a block: the pairs at `p ..< p + 128`.
@frozen @usableFromInline
struct DotQuads4 {
    @usableFromInline var q0: DotQuad
    @usableFromInline var q1: DotQuad
    @usableFromInline var q2: DotQuad
    @usableFromInline var q3: DotQuad

    @inline(__always) @usableFromInline
    init(_ p: UnsafeRawPointer) {
        q0 = DotQuad(pairs: p)
        q1 = DotQuad(pairs: p + 32)
        q2 = DotQuad(pairs: p + 64)
        q3 = DotQuad(pairs: p + 96)
    }
}

/// One row's int32 sums for the 8 channels of a block (`low`: 0...3, `high`: 4...7).
@frozen @usableFromInline
struct DotRow {
    @usableFromInline var low = SIMD4<Int32>()
    @usableFromInline var high = SIMD4<Int32>()

    @inline(__always) @usableFromInline
    init() {}

    /// Adds 16 values of A at `a` (one `ldr q`) times the four quads: 8 × `sdot` by lane.
    @inline(__always) @usableFromInline
    mutating func add(_ q: DotQuads4, _ a: UnsafeRawPointer) {
        let x = a.loadUnaligned(as: SIMD4<Int32>.self)
        add(q.q0, SIMD4(repeating: x[0]))
        add(q.q1, SIMD4(repeating: x[1]))
        add(q.q2, SIMD4(repeating: x[2]))
        add(q.q3, SIMD4(repeating: x[3]))
    }

    /// Adds 4 values of A at `a` (broadcast, `ld1r {v.4s}`) times the quad.
    @inline(__always) @usableFromInline
    mutating func add(_ q: DotQuad, broadcast a: UnsafeRawPointer) {
        add(q, SIMD4(repeating: a.loadUnaligned(as: Int32.self)))
    }

    /// Adds `count` (1...3) values of A at `a`, zero-extended to 4, times the quad.
    @inline(__always) @usableFromInline
    mutating func add(_ q: DotQuad, tail a: UnsafeRawPointer, count: Int) {
        var bits: UInt32 = 0
        for j in 0..<count { bits |= UInt32(a.load(fromByteOffset: j, as: UInt8.self)) << (8 * j) }
        add(q, SIMD4(repeating: Int32(bitPattern: bits)))
    }

    /// `x` holds 4 bytes of A (k ..< k+4) in every 32-bit lane.
    @inline(__always) @usableFromInline
    mutating func add(_ q: DotQuad, _ x: SIMD4<Int32>) {
        let a = unsafeBitCast(x, to: SIMD16<Int8>.self)
        low = vdotq_s32(low, q.low, a)
        high = vdotq_s32(high, q.high, a)
    }
}
#endif
