/// NHWC broadcasting of a binary elementwise op: each dimension of each input either
/// equals the output's or is 1 (read with stride 0). Covers the residual add
/// (equal shapes), the squeeze-excite gate (`n×1×1×c`) and a scalar (`1×1×1×1`).
@usableFromInline
struct BroadcastIndexer {
    @usableFromInline var strideN: Int
    @usableFromInline var strideH: Int
    @usableFromInline var strideW: Int
    @usableFromInline var strideC: Int

    @usableFromInline
    init(_ shape: TensorShape, output: TensorShape) {
        precondition(shape.n == output.n || shape.n == 1, "broadcast: batch must match or be 1")
        precondition(shape.h == output.h || shape.h == 1, "broadcast: height must match or be 1")
        precondition(shape.w == output.w || shape.w == 1, "broadcast: width must match or be 1")
        precondition(shape.c == output.c || shape.c == 1, "broadcast: channels must match or be 1")
        strideC = shape.c == 1 ? 0 : 1
        strideW = shape.w == 1 ? 0 : shape.c
        strideH = shape.h == 1 ? 0 : shape.w * shape.c
        strideN = shape.n == 1 ? 0 : shape.h * shape.w * shape.c
    }

    @usableFromInline
    func index(_ b: Int, _ y: Int, _ x: Int, _ ch: Int) -> Int {
        b * strideN + y * strideH + x * strideW + ch * strideC
    }
}
