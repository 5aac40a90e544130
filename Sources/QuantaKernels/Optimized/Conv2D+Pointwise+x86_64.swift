#if arch(x86_64) && QUANTA_AVX2
import _Builtin_intrinsics.intel

// The AVX2 GEMM kernels (x86_64 builds with `-Xcc -mavx2`, which Package.swift passes
// together with `-D QUANTA_AVX2`): 6 rows × 16 channels per tile, 12 ymm accumulators
// (started at the folded bias). The inner loop is the layout's (`AVX2GEMMLoop`):
// `PointwiseGEMM`'s `vpmovsxbw` weights, `vpbroadcastd` int16 pairs of A, `vpmaddwd` +
// `vpaddd` here; `PointwiseU8GEMM`'s in Conv2D+PointwiseU8+x86_64.swift.

/// The 6 × 16 int32 accumulators of `PointwiseGEMM.tile16AVX2` (row r: `cr0` columns 0-7,
/// `cr1` columns 8-15), started at the folded bias.
@frozen @usableFromInline
struct Tile16Accumulators {
    @usableFromInline var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51: __m256i

    @inline(__always) @usableFromInline
    init(ba: __m256i, bb: __m256i) {
        c00 = ba; c01 = bb; c10 = ba; c11 = bb; c20 = ba; c21 = bb
        c30 = ba; c31 = bb; c40 = ba; c41 = bb; c50 = ba; c51 = bb
    }
}

/// The inner loop of one GEMM operand layout; `PointwiseGEMM.panelAVX2` is specialized per
/// conforming type. A *step* is one k-pair (`AVX2PairLoop`) or k-quad (`AVX2QuadLoop`): the
/// depth one weight vector of 8 columns covers.
@usableFromInline
protocol AVX2GEMMLoop {
    /// Steps in depth `k` (the padded depth over the step's k).
    static func steps(depth k: Int) -> Int
    /// Bytes of one panel row for depth `k`.
    static func rowBytes(depth k: Int) -> Int
    /// Bytes of one 8-column weight block for depth `k`.
    static func blockBytes(depth k: Int) -> Int
    /// Writes rows `firstRow..<firstRow+count` of `g.a` to the panel in this layout's form.
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int)
    /// Where the operand row `firstRow` (filled by `fillPanel`) starts, and the bytes from
    /// one operand row to the next: the panel's first row, or A's row itself.
    static func operandRows(_ g: GEMMOperands, firstRow: Int) -> (base: UnsafeRawPointer, rowBytes: Int)
    /// Step `step` of a panel row in every 32-bit lane.
    static func broadcast(_ row: UnsafeRawPointer, _ step: Int) -> __m256i
    /// Step `step` of an 8-column weight block, ready for `add`.
    static func weights(_ block: UnsafeRawPointer, _ step: Int) -> __m256i
    /// `c0 += va · x0`, `c1 += vb · x1`, each the step's products summed per column (int32).
    static func add(_ c0: inout __m256i, _ c1: inout __m256i, _ va: __m256i, _ vb: __m256i, _ x0: __m256i, _ x1: __m256i)
}

extension AVX2GEMMLoop {
    /// The panel layouts: `fillPanel` wrote the rows from the panel's start.
    @inline(__always) @usableFromInline
    static func operandRows(_ g: GEMMOperands, firstRow: Int) -> (base: UnsafeRawPointer, rowBytes: Int) {
        (UnsafeRawPointer(g.panel!), rowBytes(depth: g.depth))
    }

    /// `add` of one panel row's step `x` to two 8-column blocks.
    @inline(__always) @usableFromInline
    static func add(_ c0: inout __m256i, _ c1: inout __m256i, _ va: __m256i, _ vb: __m256i, _ x: __m256i) {
        add(&c0, &c1, va, vb, x, x)
    }

    /// Adds step `step` of the first `rows` panel rows (rows `rowBytes` apart) times the two
    /// 8-column weight blocks `wa`, `wb` to `t`.
    @inline(__always) @usableFromInline
    static func accumulate(_ t: inout Tile16Accumulators, _ rows: Int, _ step: Int, panel: UnsafeRawPointer, rowBytes: Int,
                           wa: UnsafeRawPointer, wb: UnsafeRawPointer) {
        let va = weights(wa, step)
        let vb = weights(wb, step)
        add(&t.c00, &t.c01, va, vb, broadcast(panel, step))
        if rows > 1 { add(&t.c10, &t.c11, va, vb, broadcast(panel + rowBytes, step)) }
        if rows > 2 { add(&t.c20, &t.c21, va, vb, broadcast(panel + 2 &* rowBytes, step)) }
        if rows > 3 { add(&t.c30, &t.c31, va, vb, broadcast(panel + 3 &* rowBytes, step)) }
        if rows > 4 { add(&t.c40, &t.c41, va, vb, broadcast(panel + 4 &* rowBytes, step)) }
        if rows > 5 { add(&t.c50, &t.c51, va, vb, broadcast(panel + 5 &* rowBytes, step)) }
    }
}

/// `PointwiseGEMM`'s layout: int16 panel rows, weights as int8 k-pairs (16 bytes per step
/// and block) widened with `vpmovsxbw`; `vpbroadcastd` of an int16 pair, `vpmaddwd` + `vpaddd`.
@frozen @usableFromInline
enum AVX2PairLoop: AVX2GEMMLoop {
    @inline(__always) @usableFromInline
    static func steps(depth k: Int) -> Int { PointwiseGEMM.paddedDepth(k) / 2 }
    @inline(__always) @usableFromInline
    static func rowBytes(depth k: Int) -> Int { PointwiseGEMM.paddedDepth(k) * 2 }
    @inline(__always) @usableFromInline
    static func blockBytes(depth k: Int) -> Int { PointwiseGEMM.paddedDepth(k) * 8 }
    @inline(__always) @usableFromInline
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int) { PointwiseGEMM.fillPanel(g, firstRow: firstRow, count: count) }
    @inline(__always) @usableFromInline
    static func broadcast(_ row: UnsafeRawPointer, _ step: Int) -> __m256i {
        _mm256_set1_epi32(row.loadUnaligned(fromByteOffset: 4 &* step, as: Int32.self))
    }
    @inline(__always) @usableFromInline
    static func weights(_ block: UnsafeRawPointer, _ step: Int) -> __m256i {
        _mm256_cvtepi8_epi16(PointwiseGEMM.loadu128(block + 16 &* step))
    }
    @inline(__always) @usableFromInline
    static func add(_ c0: inout __m256i, _ c1: inout __m256i, _ va: __m256i, _ vb: __m256i, _ x0: __m256i, _ x1: __m256i) {
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(va, x0))
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(vb, x1))
    }
}

/// `PointwiseGEMM.runDirect`'s layout on AVX2: no panel. A's int8 rows are read where they
/// lie, each k-pair broadcast (`vpbroadcastw`) and widened (`vpmovsxbw`) as it is used,
/// then as `AVX2PairLoop` (`vpmaddwd` + `vpaddd` with the same packed weights). One
/// instruction more per row and step than the int16 panel; even depths only (a step reads
/// two bytes of A, never past a row's last value).
@frozen @usableFromInline
enum AVX2DirectPairLoop: AVX2GEMMLoop {
    @inline(__always) @usableFromInline
    static func steps(depth k: Int) -> Int { k / 2 }
    @inline(__always) @usableFromInline
    static func rowBytes(depth k: Int) -> Int { 0 }  // unused: operandRows gives A's row stride
    @inline(__always) @usableFromInline
    static func blockBytes(depth k: Int) -> Int { AVX2PairLoop.blockBytes(depth: k) }
    @inline(__always) @usableFromInline
    static func fillPanel(_ g: GEMMOperands, firstRow: Int, count: Int) {}
    @inline(__always) @usableFromInline
    static func operandRows(_ g: GEMMOperands, firstRow: Int) -> (base: UnsafeRawPointer, rowBytes: Int) {
        (UnsafeRawPointer(g.a + firstRow * g.aRowStride), g.aRowStride)
    }
    @inline(__always) @usableFromInline
    static func broadcast(_ row: UnsafeRawPointer, _ step: Int) -> __m256i {
        _mm256_cvtepi8_epi16(_mm_set1_epi16(row.loadUnaligned(fromByteOffset: 2 &* step, as: Int16.self)))
    }
    @inline(__always) @usableFromInline
    static func weights(_ block: UnsafeRawPointer, _ step: Int) -> __m256i { AVX2PairLoop.weights(block, step) }
    @inline(__always) @usableFromInline
    static func add(_ c0: inout __m256i, _ c1: inout __m256i, _ va: __m256i, _ vb: __m256i, _ x0: __m256i, _ x1: __m256i) {
        AVX2PairLoop.add(&c0, &c1, va, vb, x0, x1)
    }
}

extension PointwiseGEMM {
    /// The AVX2 kernel; same results as `runPortable` and `Int8Reference.conv2D`.
    public static func runAVX2(_ g: GEMMOperands) { runAVX2(g, AVX2PairLoop.self) }

    /// The AVX2 kernel without a panel (`runDirect`): even depth; `g.panel` is not used.
    public static func runDirectAVX2(_ g: GEMMOperands) {
        precondition(g.depth % 2 == 0, "PointwiseGEMM.runDirectAVX2: odd depth")
        runAVX2(g, AVX2DirectPairLoop.self)
    }

    /// The AVX2 driver of both operand layouts (`L`: `AVX2PairLoop`, `AVX2QuadLoop`).
    ///
    /// The output stage's per-call constants (zero point, clamp, whether any shift is left
    /// or any multiplier `Int32.min`) are set up once per call (`AVX2GEMMOutput`). Rows go
    /// `panelRows(depth:)` at a time (up to 48, converted once into the panel by
    /// `L.fillPanel`); for each pair of 8-column blocks the per-channel constants are loaded
    /// once per panel, then every 6-row tile of the panel runs (a tail of 1–5 rows runs a
    /// tile of that height).
    @inline(__always) @usableFromInline
    static func runAVX2<L: AVX2GEMMLoop>(_ g: GEMMOperands, _ loop: L.Type) {
        precondition(g.rows >= 0 && g.depth >= 1 && g.columns >= 1, "PointwiseGEMM: empty operand")
        let stage = AVX2GEMMOutput(g.requantization, first: g.channelOffset, count: g.columns)
        let panelRows = panelRows(depth: g.depth)
        var row = 0
        while row < g.rows {
            let rows = min(panelRows, g.rows - row)
            L.fillPanel(g, firstRow: row, count: rows)
            if stage.short {
                panelAVX2(g, stage, firstRow: row, rows: rows, AVX2ShortRounding.self, L.self)
            } else if stage.shiftsLeft || stage.maySaturate {
                panelAVX2(g, stage, firstRow: row, rows: rows, AVX2GeneralRounding.self, L.self)
            } else {
                panelAVX2(g, stage, firstRow: row, rows: rows, AVX2PlainRounding.self, L.self)
            }
            row += rows
        }
    }

    /// One panel (rows `firstRow..<firstRow+rows`, already in `g.panel`, or A's own rows for
    /// `AVX2DirectPairLoop`) × all columns.
    /// Specialized per output stage `R`: `AVX2ShortRounding` (every multiplier of the call
    /// in `ShortMultiplier`'s 32-bit form), `AVX2PlainRounding` (no left shift, no
    /// `Int32.min` multiplier), `AVX2GeneralRounding` (the rest).
    @inline(never) @usableFromInline
    static func panelAVX2<R: AVX2OutputRounding, L: AVX2GEMMLoop>(
        _ g: GEMMOperands, _ stage: AVX2GEMMOutput, firstRow: Int, rows: Int, _ rounding: R.Type, _ loop: L.Type
    ) {
        let nPad = paddedColumns(g.columns)
        let blocks = nPad / 8
        let (panel, rowBytes) = L.operandRows(g, firstRow: firstRow)
        let blockBytes = L.blockBytes(depth: g.depth)
        let steps = L.steps(depth: g.depth)
        let weights = UnsafeRawPointer(g.packed) + 4 * nPad
        let s = g.outputRowStride
        var block = 0
        // A single row (a fully connected layer): 32 columns per pass, four weight streams
        // at once instead of two (the layer is bound by streaming its weights).
        if rows == 1 {
            while block + 3 < blocks {
                let n0 = block * 8
                let wa = weights + block * blockBytes
                row32AVX2(panel: panel, steps: steps, weights: wa, blockBytes: blockBytes,
                          bias: UnsafeRawPointer(g.packed) + 4 * n0, stage: stage, rounding: R.self, loop: L.self, n0: n0,
                          output: g.output + firstRow * s + n0, columns: g.columns)
                block += 4
            }
        }
        while block + 1 < blocks {
            let n0 = block * 8
            let valid = min(16, g.columns - n0)
            let qa = R(stage, n0, count: valid)
            let qb = R(stage, n0 + 8, count: valid - 8)
            let ba = loadu256(UnsafeRawPointer(g.packed) + 4 * n0)
            let bb = loadu256(UnsafeRawPointer(g.packed) + 4 * n0 + 32)
            let wa = weights + block * blockBytes
            let wb = wa + blockBytes
            var r = 0
            while r + 6 <= rows {
                tile16AVX2(6, panel: panel + r * rowBytes, rowBytes: rowBytes, steps: steps,
                           wa: wa, wb: wb, ba: ba, bb: bb, qa: qa, qb: qb, stage: stage, loop: L.self,
                           output: g.output + (firstRow + r) * s + n0, stride: s, count: valid)
                r += 6
            }
            if r < rows {
                let p = panel + r * rowBytes
                let o = g.output + (firstRow + r) * s + n0
                switch rows - r {
                case 1: tile16AVX2(1, panel: p, rowBytes: rowBytes, steps: steps, wa: wa, wb: wb, ba: ba, bb: bb,
                                   qa: qa, qb: qb, stage: stage, loop: L.self, output: o, stride: s, count: valid)
                case 2: tile16AVX2(2, panel: p, rowBytes: rowBytes, steps: steps, wa: wa, wb: wb, ba: ba, bb: bb,
                                   qa: qa, qb: qb, stage: stage, loop: L.self, output: o, stride: s, count: valid)
                case 3: tile16AVX2(3, panel: p, rowBytes: rowBytes, steps: steps, wa: wa, wb: wb, ba: ba, bb: bb,
                                   qa: qa, qb: qb, stage: stage, loop: L.self, output: o, stride: s, count: valid)
                case 4: tile16AVX2(4, panel: p, rowBytes: rowBytes, steps: steps, wa: wa, wb: wb, ba: ba, bb: bb,
                                   qa: qa, qb: qb, stage: stage, loop: L.self, output: o, stride: s, count: valid)
                default: tile16AVX2(5, panel: p, rowBytes: rowBytes, steps: steps, wa: wa, wb: wb, ba: ba, bb: bb,
                                    qa: qa, qb: qb, stage: stage, loop: L.self, output: o, stride: s, count: valid)
                }
            }
            block += 2
        }
        if block < blocks {
            let n0 = block * 8
            let valid = min(8, g.columns - n0)
            let qa = R(stage, n0, count: valid)
            let ba = loadu256(UnsafeRawPointer(g.packed) + 4 * n0)
            let wa = weights + block * blockBytes
            var r = 0
            while r < rows {
                tile8AVX2(min(6, rows - r), panel: panel + r * rowBytes, rowBytes: rowBytes, steps: steps,
                          wa: wa, ba: ba, qa: qa, stage: stage, loop: L.self,
                          output: g.output + (firstRow + r) * s + n0, stride: s, count: valid)
                r += 6
            }
        }
    }

    /// `rows` (1...6; a constant where inlined) panel rows from `panel` × the 16 columns of
    /// weights `wa`, `wb` (two 8-column blocks), accumulators started at the folded bias.
    @inline(__always) @usableFromInline
    static func tile16AVX2<R: AVX2OutputRounding, L: AVX2GEMMLoop>(
        _ rows: Int, panel: UnsafeRawPointer, rowBytes: Int, steps: Int, wa: UnsafeRawPointer, wb: UnsafeRawPointer,
        ba: __m256i, bb: __m256i, qa: R, qb: R, stage: AVX2GEMMOutput, loop: L.Type,
        output o: UnsafeMutablePointer<Int8>, stride s: Int, count: Int
    ) {
        var t = Tile16Accumulators(ba: ba, bb: bb)
        // Two steps per iteration: half the loop overhead, and a 66-instruction body (int16
        // path) whose speed depends less on where it falls in the 64-byte fetch windows (the
        // 34-instruction body ran 8 % slower or faster on MobileNetV2 with unrelated code
        // moved before it).
        var step = 0
        while step + 1 < steps {
            L.accumulate(&t, rows, step, panel: panel, rowBytes: rowBytes, wa: wa, wb: wb)
            L.accumulate(&t, rows, step &+ 1, panel: panel, rowBytes: rowBytes, wa: wa, wb: wb)
            step &+= 2
        }
        if step < steps { L.accumulate(&t, rows, step, panel: panel, rowBytes: rowBytes, wa: wa, wb: wb) }
        let c00 = t.c00, c01 = t.c01, c10 = t.c10, c11 = t.c11, c20 = t.c20, c21 = t.c21
        let c30 = t.c30, c31 = t.c31, c40 = t.c40, c41 = t.c41, c50 = t.c50, c51 = t.c51
        if rows == 1 {
            stage.store16(qa.rounded(c00), qb.rounded(c01), o, count: count)
            return
        }
        // A full tile rounds all six rows of columns 0-7, then of 8-15, so one block's
        // constants are live at a time and load once per tile (interleaved, as the tails
        // below, they stayed on the stack as memory operands: 4-5 % slower at K = 16-32).
        if rows == 6 {
            let a01 = stage.words(qa.rounded(c00), qa.rounded(c10))
            let a23 = stage.words(qa.rounded(c20), qa.rounded(c30))
            let a45 = stage.words(qa.rounded(c40), qa.rounded(c50))
            let b01 = stage.words(qb.rounded(c01), qb.rounded(c11))
            let b23 = stage.words(qb.rounded(c21), qb.rounded(c31))
            let b45 = stage.words(qb.rounded(c41), qb.rounded(c51))
            stage.storeWords(a01, b01, o, o + s, count: count)
            stage.storeWords(a23, b23, o + 2 * s, o + 3 * s, count: count)
            stage.storeWords(a45, b45, o + 4 * s, o + 5 * s, count: count)
            return
        }
        stage.store2x16(qa.rounded(c00), qb.rounded(c01),
                        qa.rounded(c10), qb.rounded(c11),
                        o, o + s, count: count)
        if rows == 3 {
            stage.store16(qa.rounded(c20), qb.rounded(c21), o + 2 * s, count: count)
        } else if rows > 3 {
            stage.store2x16(qa.rounded(c20), qb.rounded(c21),
                            qa.rounded(c30), qb.rounded(c31),
                            o + 2 * s, o + 3 * s, count: count)
        }
        if rows == 5 {
            stage.store16(qa.rounded(c40), qb.rounded(c41), o + 4 * s, count: count)
        } else if rows > 5 {
            stage.store2x16(qa.rounded(c40), qb.rounded(c41),
                            qa.rounded(c50), qb.rounded(c51),
                            o + 4 * s, o + 5 * s, count: count)
        }
    }

    /// One panel row × 32 columns (four 8-column weight blocks `blockBytes` apart, starting
    /// at `weights`), accumulators started at the folded bias at `bias`, written to
    /// `output` (columns `n0 ..< min(n0 + 32, columns)` of the call).
    @inline(__always) @usableFromInline
    static func row32AVX2<R: AVX2OutputRounding, L: AVX2GEMMLoop>(
        panel: UnsafeRawPointer, steps: Int, weights: UnsafeRawPointer, blockBytes: Int, bias: UnsafeRawPointer,
        stage: AVX2GEMMOutput, rounding: R.Type, loop: L.Type, n0: Int, output o: UnsafeMutablePointer<Int8>, columns: Int
    ) {
        var c0 = loadu256(bias), c1 = loadu256(bias + 32), c2 = loadu256(bias + 64), c3 = loadu256(bias + 96)
        let w0 = weights, w1 = weights + blockBytes, w2 = weights + 2 &* blockBytes, w3 = weights + 3 &* blockBytes
        for step in 0..<steps {
            let x = L.broadcast(panel, step)
            L.add(&c0, &c1, L.weights(w0, step), L.weights(w1, step), x)
            L.add(&c2, &c3, L.weights(w2, step), L.weights(w3, step), x)
        }
        let first = min(16, columns - n0), second = min(16, columns - n0 - 16)
        stage.store16(R(stage, n0, count: first).rounded(c0), R(stage, n0 + 8, count: first - 8).rounded(c1), o, count: first)
        stage.store16(R(stage, n0 + 16, count: second).rounded(c2), R(stage, n0 + 24, count: second - 8).rounded(c3),
                      o + 16, count: second)
    }

    /// Up to 6 rows × the last (odd) 8-column block (`rows` is not specialized: this block
    /// runs once per panel).
    @inline(__always) @usableFromInline
    static func tile8AVX2<R: AVX2OutputRounding, L: AVX2GEMMLoop>(
        _ rows: Int, panel: UnsafeRawPointer, rowBytes: Int, steps: Int, wa: UnsafeRawPointer, ba: __m256i,
        qa: R, stage: AVX2GEMMOutput, loop: L.Type,
        output o: UnsafeMutablePointer<Int8>, stride s: Int, count: Int
    ) {
        let p0 = panel
        let p1 = panel + min(1, rows - 1) * rowBytes
        let p2 = panel + min(2, rows - 1) * rowBytes
        let p3 = panel + min(3, rows - 1) * rowBytes
        let p4 = panel + min(4, rows - 1) * rowBytes
        let p5 = panel + min(5, rows - 1) * rowBytes
        var c0 = ba, c1 = ba, c2 = ba, c3 = ba, c4 = ba, c5 = ba
        for step in 0..<steps {
            let va = L.weights(wa, step)
            L.add(&c0, &c1, va, va, L.broadcast(p0, step), L.broadcast(p1, step))
            L.add(&c2, &c3, va, va, L.broadcast(p2, step), L.broadcast(p3, step))
            L.add(&c4, &c5, va, va, L.broadcast(p4, step), L.broadcast(p5, step))
        }
        stage.store8(qa.rounded(c0), o, count: count)
        if rows > 1 { stage.store8(qa.rounded(c1), o + s, count: count) }
        if rows > 2 { stage.store8(qa.rounded(c2), o + 2 * s, count: count) }
        if rows > 3 { stage.store8(qa.rounded(c3), o + 3 * s, count: count) }
        if rows > 4 { stage.store8(qa.rounded(c4), o + 4 * s, count: count) }
        if rows > 5 { stage.store8(qa.rounded(c5), o + 5 * s, count: count) }
    }

    @inline(__always) @usableFromInline
    static func loadu128(_ p: UnsafeRawPointer) -> __m128i {
        _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
    }

    @inline(__always) @usableFromInline
    static func loadu256(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self))
    }

    /// Stores the first `count` of 16 int32 lanes (`a` then `b`, all within -128...127) as bytes.
    @inline(__always) @usableFromInline
    static func store16(_ a: __m256i, _ b: __m256i, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        let words = _mm256_permutevar8x32_epi32(_mm256_packs_epi32(a, b), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7))
        let bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), __m128i(words[2], words[3]))
        if count >= 16 {
            _mm_storeu_si128(UnsafeMutableRawPointer(p).assumingMemoryBound(to: __m128i.self), bytes)
        } else {
            let v = unsafeBitCast(bytes, to: SIMD16<Int8>.self)
            for i in 0..<count { p[i] = v[i] }
        }
    }
}

/// The output stage of one 8-channel block as the GEMM tiles apply it: `rounded` gives
/// `RDBPOT(SRDHM(acc << left, M), right)` (or a value that clamps the same, see
/// `AVX2ShortRounding`) before the zero point and clamp. `PointwiseGEMM.panelAVX2` is
/// specialized per conforming type, chosen once per call.
@usableFromInline
protocol AVX2OutputRounding {
    /// The constants of the call's columns `n0..<n0+count` (lanes at or past `count`: any
    /// constants, their outputs are never stored).
    init(_ stage: AVX2GEMMOutput, _ n0: Int, count: Int)
    func rounded(_ acc: __m256i) -> __m256i
}

/// Every channel shifts right (or not at all) and no multiplier is `Int32.min`.
@frozen @usableFromInline
struct AVX2PlainRounding: AVX2OutputRounding {
    @usableFromInline var block: AVX2RoundingBlock
    @inline(__always) @usableFromInline
    init(_ stage: AVX2GEMMOutput, _ n0: Int, count: Int) { block = stage.block(n0, count: count) }
    @inline(__always) @usableFromInline
    func rounded(_ acc: __m256i) -> __m256i { block.rounded(acc, shiftsLeft: false, maySaturate: false) }
}

/// Some channel of the call may shift left or have the multiplier `Int32.min`.
@frozen @usableFromInline
struct AVX2GeneralRounding: AVX2OutputRounding {
    @usableFromInline var block: AVX2RoundingBlock
    @usableFromInline var shiftsLeft: Bool
    @usableFromInline var maySaturate: Bool
    @inline(__always) @usableFromInline
    init(_ stage: AVX2GEMMOutput, _ n0: Int, count: Int) {
        block = stage.block(n0, count: count)
        shiftsLeft = stage.shiftsLeft
        maySaturate = stage.maySaturate
    }
    @inline(__always) @usableFromInline
    func rounded(_ acc: __m256i) -> __m256i { block.rounded(acc, shiftsLeft: shiftsLeft, maySaturate: maySaturate) }
}

/// Every multiplier of the call has `ShortMultiplier`'s 32-bit form: clamp to `±510·2^e`,
/// `vpmulld` by `M >> (9+e)`, add the rounding term of the sign, `vpsrad` by 22. Equal to
/// the TFLite stage after the zero point and the int8 clamp (see `ShortMultiplier`).
@frozen @usableFromInline
struct AVX2ShortRounding: AVX2OutputRounding {
    @usableFromInline var multiplier: __m256i
    @usableFromInline var bound: __m256i
    @usableFromInline var negativeBound: __m256i
    @usableFromInline var positiveTerm: __m256i
    @usableFromInline var negativeTerm: __m256i

    @inline(__always) @usableFromInline
    init(_ stage: AVX2GEMMOutput, _ n0: Int, count: Int) {
        let (m, s) = stage.constants(n0, count: count)
        self.init(multipliers: m, shifts: s)
    }

    /// All bits set in the lanes whose `(multiplier, shift)` lacks the 32-bit form, zero in
    /// the others: `ShortMultiplier.applies` on 8 lanes (-21 ≤ s ≤ 0 and m ≥ 0 by sign bits,
    /// m divisible by `2^(9 - s)`).
    @inline(__always) @usableFromInline
    static func lanesWithoutForm(multipliers m: __m256i, shifts s: __m256i) -> __m256i {
        let zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1)
        let signs = _mm256_or_si256(_mm256_or_si256(_mm256_add_epi32(s, _mm256_set1_epi32(21)), _mm256_sub_epi32(zero, s)), m)
        let low = _mm256_and_si256(m, _mm256_sub_epi32(_mm256_sllv_epi32(one, _mm256_sub_epi32(_mm256_set1_epi32(9), s)), one))
        return _mm256_or_si256(_mm256_srai_epi32(signs, 31), _mm256_xor_si256(_mm256_cmpeq_epi32(low, zero), _mm256_set1_epi32(-1)))
    }

    /// All lanes zero (a placeholder where the 64-bit stage is used).
    @inline(__always) @usableFromInline
    init(zero: ()) {
        let z = _mm256_setzero_si256()
        multiplier = z; bound = z; negativeBound = z; positiveTerm = z; negativeTerm = z
    }

    /// - Precondition: every lane `ShortMultiplier.applies` (shifts within -21...0).
    @inline(__always) @usableFromInline
    init(multipliers m: __m256i, shifts s: __m256i) {
        let zero = _mm256_setzero_si256()
        let e = _mm256_sub_epi32(zero, s)
        multiplier = _mm256_srlv_epi32(m, _mm256_add_epi32(e, _mm256_set1_epi32(9)))
        bound = _mm256_sllv_epi32(_mm256_set1_epi32(510), e)
        negativeBound = _mm256_sub_epi32(zero, bound)
        let half = _mm256_set1_epi32(1 << 21)
        positiveTerm = _mm256_add_epi32(_mm256_srlv_epi32(half, e), _mm256_and_si256(_mm256_cmpgt_epi32(e, zero), half))
        negativeTerm = _mm256_sub_epi32(_mm256_set1_epi32(1 << 22), positiveTerm)
    }

    @inline(__always) @usableFromInline
    func rounded(_ acc: __m256i) -> __m256i {
        let x = _mm256_min_epi32(_mm256_max_epi32(acc, negativeBound), bound)
        let term = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(positiveTerm), _mm256_castsi256_ps(negativeTerm), _mm256_castsi256_ps(acc)))
        return _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(x, multiplier), term), ShortMultiplier.resultShift)
    }

    /// The same values in sign-magnitude form (`ShortMultiplier.roundedMagnitude`):
    /// `vpabsd`, `vpminud` with the bound (`|acc|` as unsigned, so `Int32.min` clamps like
    /// any large negative value), `vpmulld`, two adds, `vpsrad`, `vpsignd`. One more ALU
    /// uop and two fewer constant loads than `rounded`: the depthwise kernel, bound by the
    /// loads of its ~1 KB of per-block constants (two FP loads per cycle on Zen 3), runs
    /// 3-4 % faster with it; in the GEMM tile the small-K layers ran 4 % slower (measured).
    @inline(__always) @usableFromInline
    func roundedMagnitude(_ acc: __m256i) -> __m256i {
        let magnitude = _mm256_min_epu32(_mm256_abs_epi32(acc), bound)
        let sum = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(magnitude, multiplier), positiveTerm),
                                   _mm256_srai_epi32(acc, 31))
        return _mm256_sign_epi32(_mm256_srai_epi32(sum, ShortMultiplier.resultShift), acc)
    }
}

/// The per-channel part of the output stage for 8 consecutive channels in AVX2 registers
/// (the formula of `RequantizationBlock8`, see there), built from the multipliers and shifts
/// with a few vector instructions (`AVX2GEMMOutput.block`).
@frozen @usableFromInline
struct AVX2RoundingBlock {
    @usableFromInline var multiplier: __m256i
    /// The multipliers of the odd lanes moved to the even lanes (`vpmuldq` reads those).
    @usableFromInline var multiplierOdd: __m256i
    @usableFromInline var left: __m256i
    @usableFromInline var right: __m256i
    /// `2^(right-1)`, 0 when `right == 0`.
    @usableFromInline var half: __m256i

    /// The odd lanes moved to the even ones for `vpmuldq`: lanes swapped in pairs
    /// (`vpshufd $0xb1`). Not `vpsrlq $32` nor a `[1,1,3,3]` shuffle: LLVM folds the sign
    /// extension `vpmuldq` implies into a 64-bit arithmetic shift (which AVX2 lacks) and
    /// expands the multiply into three `vpmuludq` and a dozen shifts and adds.
    @inline(__always) @usableFromInline
    static func oddLanes(_ x: __m256i) -> __m256i {
        _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(1, 0, 3, 2, 5, 4, 7, 6))
    }

    /// - Precondition (checked by the caller): every shift within -31...31.
    @inline(__always) @usableFromInline
    init(multipliers m: __m256i, shifts s: __m256i) {
        let zero = _mm256_setzero_si256()
        multiplier = m
        multiplierOdd = AVX2RoundingBlock.oddLanes(m)
        left = _mm256_max_epi32(s, zero)
        right = _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero)
        half = _mm256_srli_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), 1)
    }

    /// `RDBPOT(SRDHM(acc << left, M), right)`: the output before the zero point and clamp.
    /// `shiftsLeft == false` skips the left shift (exact when every `left` lane is 0);
    /// `maySaturate == false` skips the `Int32.min²` select (exact when no multiplier is
    /// `Int32.min`).
    ///
    /// SRDHM: two `vpmuldq` (even and odd lanes) with the 2^30 nudge, bits 31...62 of each
    /// 64-bit product selected back into the 32-bit lanes. RDBPOT (round half away from
    /// zero, TFLite's remainder/threshold form) as `sign(r) · ((|r| + half) >> right)` with
    /// `vpabsd`, `vpaddd`, `vpsrlvd` (logical), `vpsignd`: |r| ≤ 2^31 and half ≤ 2^30, so
    /// the unsigned sum does not wrap; for r ≥ 0 it is `floor((r + 2^(e-1)) / 2^e)`, for
    /// r < 0 the mirror image, which is what the threshold `(mask >> 1) + 1` of negative
    /// values gives; `r = Int32.min` gives `-2^(31-e)` (and itself for e = 0).
    @inline(__always) @usableFromInline
    func rounded(_ acc: __m256i, shiftsLeft: Bool, maySaturate: Bool) -> __m256i {
        let x = shiftsLeft ? _mm256_sllv_epi32(acc, left) : acc
        let nudge = _mm256_set1_epi64x(1 << 30)
        let even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, multiplier), nudge), 31)
        let odd = _mm256_slli_epi64(
            _mm256_add_epi64(_mm256_mul_epi32(AVX2RoundingBlock.oddLanes(x), multiplierOdd), nudge), 1)
        var r = _mm256_blendv_epi8(even, odd, _mm256_set1_epi64x(-1 << 32))
        if maySaturate {
            let minimum = _mm256_set1_epi32(Int32.min)
            let saturate = _mm256_and_si256(_mm256_cmpeq_epi32(x, minimum), _mm256_cmpeq_epi32(multiplier, minimum))
            r = _mm256_xor_si256(r, saturate)  // 0x8000_0000 (wrapped 2^31) becomes Int32.max
        }
        return _mm256_sign_epi32(_mm256_srlv_epi32(_mm256_add_epi32(_mm256_abs_epi32(r), half), right), r)
    }
}

/// The output stage of one GEMM call: what is common to all its channels (zero point,
/// clamp, and two flags from one scan of the call's shifts and multipliers), and the
/// per-block constants on demand (`block`). Stores pack rounded lanes with saturation to
/// int16, add the zero point with saturation, pack to int8 with saturation and clamp the
/// bytes: equal to `clamp(y + zp)` for every int32 `y` (a lane outside int16 stays outside
/// int8 after adding |zp| ≤ 128, and the clamp bounds are int8).
@frozen @usableFromInline
struct AVX2GEMMOutput {
    @usableFromInline var requantization: Requantization
    @usableFromInline var first: Int
    @usableFromInline var zeroPoint16: __m256i
    @usableFromInline var clampMin8: __m256i
    @usableFromInline var clampMax8: __m256i
    /// Whether any channel of the call shifts left (a multiplier above one).
    @usableFromInline var shiftsLeft: Bool
    /// Whether any channel's multiplier is `Int32.min` (SRDHM's only saturating case).
    @usableFromInline var maySaturate: Bool
    /// Whether every channel's multiplier has `ShortMultiplier`'s 32-bit form.
    @usableFromInline var short: Bool

    /// The stage of channels `first..<first+count` (all channel 0 for per-tensor parameters).
    /// - Precondition: every shift of these channels within -31...31.
    @inline(__always) @usableFromInline
    init(_ r: Requantization, first: Int, count: Int) {
        requantization = r
        self.first = first
        let base = r.channelCount == 1 ? 0 : first
        let n = r.channelCount == 1 ? 1 : count
        var outside: Int32 = 0, left: Int32 = 0, minimum: Int32 = 0
        var long = false
        // Eight channels at a time (the fused blocks call this once per row), then the tail.
        var i = 0
        if n >= 8 {
            let zero = _mm256_setzero_si256()
            var outsideV = zero, leftV = zero, minimumV = zero, longV = zero
            while i + 8 <= n {
                let sv = PointwiseGEMM.loadu256(UnsafeRawPointer(r.shifts + base + i))
                let mv = PointwiseGEMM.loadu256(UnsafeRawPointer(r.multipliers + base + i))
                outsideV = _mm256_or_si256(outsideV, _mm256_or_si256(_mm256_add_epi32(sv, _mm256_set1_epi32(31)), _mm256_sub_epi32(_mm256_set1_epi32(31), sv)))
                leftV = _mm256_or_si256(leftV, _mm256_sub_epi32(zero, sv))
                minimumV = _mm256_or_si256(minimumV, _mm256_cmpeq_epi32(mv, _mm256_set1_epi32(Int32.min)))
                longV = _mm256_or_si256(longV, AVX2ShortRounding.lanesWithoutForm(multipliers: mv, shifts: sv))
                i += 8
            }
            @inline(__always) func signs(_ v: __m256i) -> Bool { _mm256_movemask_ps(_mm256_castsi256_ps(v)) != 0 }
            outside = signs(outsideV) ? -1 : 0
            left = signs(leftV) ? -1 : 0
            minimum = _mm256_testz_si256(minimumV, minimumV) == 0 ? 1 : 0
            long = _mm256_testz_si256(longV, longV) == 0
        }
        for i in i..<n {
            let s = r.shifts[base + i], m = r.multipliers[base + i]
            outside |= (s &+ 31) | (31 &- s)
            left |= 0 &- s  // negative exactly when some s > 0 (s ≥ -31)
            minimum |= m == Int32.min ? 1 : 0
            long = long || !ShortMultiplier.applies(multiplier: m, shift: s)
        }
        precondition(outside >= 0, "requantization: shift outside -31...31")
        shiftsLeft = left < 0
        maySaturate = minimum != 0
        short = !long
        let zp = r.outputZeroPoint
        zeroPoint16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: zp))
        clampMin8 = _mm256_set1_epi8(Int8(truncatingIfNeeded: r.clampMin))
        clampMax8 = _mm256_set1_epi8(Int8(truncatingIfNeeded: r.clampMax))
    }

    /// The multipliers and shifts of this call's columns `n0..<n0+count` (lanes at or past
    /// `count` get multiplier 0 and shift 0; their outputs are never stored).
    @inline(__always) @usableFromInline
    func constants(_ n0: Int, count: Int) -> (multipliers: __m256i, shifts: __m256i) {
        let r = requantization
        if r.channelCount == 1 {
            return (_mm256_set1_epi32(r.multipliers[0]), _mm256_set1_epi32(r.shifts[0]))
        }
        if count >= 8 {
            return (PointwiseGEMM.loadu256(UnsafeRawPointer(r.multipliers + first + n0)),
                    PointwiseGEMM.loadu256(UnsafeRawPointer(r.shifts + first + n0)))
        }
        var m = SIMD8<Int32>(), s = SIMD8<Int32>()
        for i in 0..<Swift.max(0, count) {
            m[i] = r.multipliers[first + n0 + i]
            s[i] = r.shifts[first + n0 + i]
        }
        return (unsafeBitCast(m, to: __m256i.self), unsafeBitCast(s, to: __m256i.self))
    }

    /// The 64-bit stage's per-channel constants of columns `n0..<n0+count`.
    @inline(__always) @usableFromInline
    func block(_ n0: Int, count: Int) -> AVX2RoundingBlock {
        let (m, s) = constants(n0, count: count)
        return AVX2RoundingBlock(multipliers: m, shifts: s)
    }

    /// Stores the first `count` of 16 outputs of one row from rounded lanes `a` then `b`.
    @inline(__always) @usableFromInline
    func store16(_ a: __m256i, _ b: __m256i, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        let words = _mm256_permutevar8x32_epi32(
            _mm256_adds_epi16(_mm256_packs_epi32(a, b), zeroPoint16), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7))
        var bytes = _mm_packs_epi16(_mm256_castsi256_si128(words), __m128i(words[2], words[3]))
        bytes = _mm_min_epi8(_mm_max_epi8(bytes, _mm256_castsi256_si128(clampMin8)), _mm256_castsi256_si128(clampMax8))
        if count >= 16 {
            _mm_storeu_si128(UnsafeMutableRawPointer(p).assumingMemoryBound(to: __m128i.self), bytes)
        } else {
            let v = unsafeBitCast(bytes, to: SIMD16<Int8>.self)
            for i in 0..<count { p[i] = v[i] }
        }
    }

    /// Stores the first `count` of 16 outputs of two rows (`a0`, `b0` to `p0`; `a1`, `b1`
    /// to `p1`) with one pack sequence: `vpackssdw` ×2, `vpaddsw` ×2, `vpacksswb`, `vpermd`,
    /// clamp, two 16-byte stores.
    @inline(__always) @usableFromInline
    func store2x16(
        _ a0: __m256i, _ b0: __m256i, _ a1: __m256i, _ b1: __m256i,
        _ p0: UnsafeMutablePointer<Int8>, _ p1: UnsafeMutablePointer<Int8>, count: Int
    ) {
        storeWords(words(a0, a1), words(b0, b1), p0, p1, count: count)
    }

    /// Two rows' rounded lanes of one 8-column block as int16 with the zero point added
    /// (saturating): row `r0` in the low four words of each 128-bit half, `r1` in the high.
    @inline(__always) @usableFromInline
    func words(_ r0: __m256i, _ r1: __m256i) -> __m256i {
        _mm256_adds_epi16(_mm256_packs_epi32(r0, r1), zeroPoint16)
    }

    /// Stores the first `count` of 16 outputs of two rows from `words` of columns 0-7 (`a`)
    /// and 8-15 (`b`): row 0 to `p0`, row 1 to `p1`.
    @inline(__always) @usableFromInline
    func storeWords(_ a: __m256i, _ b: __m256i, _ p0: UnsafeMutablePointer<Int8>, _ p1: UnsafeMutablePointer<Int8>, count: Int) {
        // dwords: a.r0[0..3] a.r1[0..3] b.r0[0..3] b.r1[0..3] | a.r0[4..7] a.r1[4..7] b.r0[4..7] b.r1[4..7]
        var bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), _mm256_setr_epi32(0, 4, 2, 6, 1, 5, 3, 7))
        bytes = _mm256_min_epi8(_mm256_max_epi8(bytes, clampMin8), clampMax8)
        if count >= 16 {
            _mm_storeu_si128(UnsafeMutableRawPointer(p0).assumingMemoryBound(to: __m128i.self), _mm256_castsi256_si128(bytes))
            _mm_storeu_si128(UnsafeMutableRawPointer(p1).assumingMemoryBound(to: __m128i.self), __m128i(bytes[2], bytes[3]))
        } else {
            let v = unsafeBitCast(bytes, to: SIMD32<Int8>.self)
            for i in 0..<count {
                p0[i] = v[i]
                p1[i] = v[16 + i]
            }
        }
    }

    /// Stores the first `count` (at most 8) outputs of one row from rounded lanes `a`.
    @inline(__always) @usableFromInline
    func store8(_ a: __m256i, _ p: UnsafeMutablePointer<Int8>, count: Int) {
        let words = _mm_adds_epi16(_mm_packs_epi32(_mm256_castsi256_si128(a), __m128i(a[2], a[3])), _mm256_castsi256_si128(zeroPoint16))
        var bytes = _mm_packs_epi16(words, words)
        bytes = _mm_min_epi8(_mm_max_epi8(bytes, _mm256_castsi256_si128(clampMin8)), _mm256_castsi256_si128(clampMax8))
        if count >= 8 {
            UnsafeMutableRawPointer(p).storeBytes(of: bytes[0], as: Int64.self)  // __m128i is SIMD2<Int64>: lane 0 holds the 8 bytes
        } else {
            let v = unsafeBitCast(bytes, to: SIMD16<Int8>.self)
            for i in 0..<count { p[i] = v[i] }
        }
    }
}

/// `RequantizationBlock8` in AVX2 registers (same formula, see there): `vpsllvd`, two
/// `vpmuldq` for the 64-bit products of even and odd lanes, RDBPOT as in
/// `AVX2RoundingBlock.rounded`, clamp. Prepared per 8 channels from a `Requantization`
/// (the depthwise kernels' output stage; the GEMM uses `AVX2GEMMOutput`).
@frozen @usableFromInline
struct AVX2Requantization {
    @usableFromInline var multiplier: __m256i
    @usableFromInline var multiplierOdd: __m256i
    @usableFromInline var multiplierIsMin: __m256i
    @usableFromInline var left: __m256i
    @usableFromInline var right: __m256i
    @usableFromInline var mask: __m256i
    @usableFromInline var halfMask: __m256i
    /// `2^(right-1)`, 0 when `right == 0` (`AVX2RoundingBlock.rounded`'s RDBPOT).
    @usableFromInline var half: __m256i
    @usableFromInline var low: __m256i
    @usableFromInline var high: __m256i
    @usableFromInline var zeroPoint: __m256i
    @usableFromInline var maySaturate: Bool
    /// Whether any lane shifts left (a multiplier above one); when none does, `vpsllvd` is skipped.
    @usableFromInline var shiftsLeft: Bool

    @inline(__always) @usableFromInline
    init(_ r: Requantization, first: Int, count: Int) {
        self.init(block: RequantizationBlock8(r, first: first, count: count))
    }

    @inline(__always) @usableFromInline
    init(block b: RequantizationBlock8) {
        multiplier = unsafeBitCast(b.multiplier, to: __m256i.self)
        multiplierOdd = AVX2RoundingBlock.oddLanes(multiplier)
        multiplierIsMin = _mm256_cmpeq_epi32(multiplier, _mm256_set1_epi32(Int32.min))
        left = unsafeBitCast(b.left, to: __m256i.self)
        right = unsafeBitCast(b.right, to: __m256i.self)
        mask = unsafeBitCast(b.mask, to: __m256i.self)
        halfMask = unsafeBitCast(b.halfMask, to: __m256i.self)
        half = _mm256_sub_epi32(halfMask, _mm256_cmpgt_epi32(mask, halfMask))  // mask > halfMask exactly when right > 0
        low = unsafeBitCast(b.low, to: __m256i.self)
        high = unsafeBitCast(b.high, to: __m256i.self)
        zeroPoint = unsafeBitCast(b.zeroPoint, to: __m256i.self)
        maySaturate = b.maySaturate
        var anyLeft: Int32 = 0
        for i in 0..<8 { anyLeft |= b.left[i] }
        shiftsLeft = anyLeft != 0
    }

    /// `RequantizationBlock8(r, first:count:channelStride:)` in AVX2 registers.
    @inline(__always) @usableFromInline
    init(_ r: Requantization, first: Int, count: Int, channelStride: Int) {
        self.init(block: RequantizationBlock8(r, first: first, count: count, channelStride: channelStride))
    }

    /// `apply` on portable vectors (the bit casts are free).
    @inline(__always) @usableFromInline
    func apply(_ acc: SIMD8<Int32>) -> SIMD8<Int32> {
        unsafeBitCast(apply(unsafeBitCast(acc, to: __m256i.self)), to: SIMD8<Int32>.self)
    }

    @inline(__always) @usableFromInline
    func apply(_ acc: __m256i) -> __m256i {
        _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(rounded(acc), low), high), zeroPoint)
    }

    /// `RDBPOT(SRDHM(acc << left, M), right)`: the output before the zero point and clamp.
    @inline(__always) @usableFromInline
    func rounded(_ acc: __m256i) -> __m256i {
        let x = shiftsLeft ? _mm256_sllv_epi32(acc, left) : acc
        let nudge = _mm256_set1_epi64x(1 << 30)
        let even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, multiplier), nudge), 31)
        let odd = _mm256_slli_epi64(
            _mm256_add_epi64(_mm256_mul_epi32(AVX2RoundingBlock.oddLanes(x), multiplierOdd), nudge), 1)
        var r = _mm256_blendv_epi8(even, odd, _mm256_set1_epi64x(-1 << 32))
        if maySaturate {
            let saturate = _mm256_and_si256(_mm256_cmpeq_epi32(x, _mm256_set1_epi32(Int32.min)), multiplierIsMin)
            r = _mm256_xor_si256(r, saturate)  // 0x8000_0000 (wrapped 2^31) becomes Int32.max
        }
        // RDBPOT as in `AVX2RoundingBlock.rounded`.
        return _mm256_sign_epi32(_mm256_srlv_epi32(_mm256_add_epi32(_mm256_abs_epi32(r), half), right), r)
    }
}
/// The output stage the depthwise kernels use on this target.
@usableFromInline typealias Requantizer8 = AVX2Requantization

extension VectorMath {
    /// Writes 16 lanes (`a` then `b`, within -128...127) as 16 bytes.
    @inline(__always) @usableFromInline
    static func store16(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int8>) {
        PointwiseGEMM.store16(unsafeBitCast(a, to: __m256i.self), unsafeBitCast(b, to: __m256i.self), p, count: 16)
    }
}
#else
/// The output stage the depthwise kernels use on this target.
@usableFromInline typealias Requantizer8 = RequantizationBlock8

extension VectorMath {
    /// Writes 16 lanes (`a` then `b`, within -128...127) as 16 bytes.
    @inline(__always) @usableFromInline
    static func store16(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>, _ p: UnsafeMutablePointer<Int8>) {
        store8(a, p, count: 8)
        store8(b, p + 8, count: 8)
    }
}
#endif
