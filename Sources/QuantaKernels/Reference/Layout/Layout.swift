/// Data-movement kernels shared by the float and int8 paths: generic over the element
/// type, NHWC, no arithmetic, so results are exact copies. None allocates.
public enum Layout {
    /// Channel shuffle (ShuffleNet): views each pixel's `c` channels as a
    /// `groups × (c / groups)` matrix and transposes it:
    ///
    ///     out[p, j * groups + g] = in[p, g * (c / groups) + j]
    ///
    /// Shuffling with `c / groups` groups undoes a shuffle with `groups` groups.
    /// - Precondition: `shape.c % groups == 0`; output does not overlap input.
    public static func channelShuffle<T>(
        input: UnsafePointer<T>, output: UnsafeMutablePointer<T>, shape: TensorShape, groups: Int
    ) {
        precondition(groups > 0 && shape.c % groups == 0, "channelShuffle: channels must be a multiple of groups")
        let c = shape.c
        let perGroup = c / groups
        let pixels = shape.n * shape.h * shape.w
        for p in 0..<pixels {
            for g in 0..<groups {
                for j in 0..<perGroup {
                    output[p * c + j * groups + g] = input[p * c + g * perGroup + j]
                }
            }
        }
    }

    /// Writes input `group` of an interleaving concat (`groups` inputs of `channels`
    /// channels each; a concat followed by a channel shuffle of `groups` groups):
    /// `out[p, j * groups + group] = in[p, j]` for `p < pixels`, `j < channels`. The other
    /// channels of the output are untouched: one call per input.
    /// - Precondition: `0 <= group < groups`; no overlap.
    public static func interleaveChannels<T>(
        input: UnsafePointer<T>, channels: Int, output: UnsafeMutablePointer<T>, groups: Int, group: Int, pixels: Int
    ) {
        precondition(groups >= 1 && group >= 0 && group < groups && channels >= 0, "interleaveChannels: group outside the groups")
        let c = channels * groups
        for p in 0..<pixels {
            for j in 0..<channels {
                output[p * c + j * groups + group] = input[p * channels + j]
            }
        }
    }

    /// Copies one concat input into its channel slice of the output:
    /// `out[p, channelOffset + i] = in[p, i]` for every pixel `p < pixels` and `i < inputChannels`.
    /// Other channels of the output are untouched; concatenating along channels is one call
    /// per input.
    /// - Precondition: `channelOffset + inputChannels <= outputChannels`; no overlap.
    public static func concatChannels<T>(
        input: UnsafePointer<T>, inputChannels: Int, output: UnsafeMutablePointer<T>,
        outputChannels: Int, channelOffset: Int, pixels: Int
    ) {
        precondition(channelOffset >= 0 && channelOffset + inputChannels <= outputChannels,
                     "concatChannels: slice outside the output channels")
        for p in 0..<pixels {
            for i in 0..<inputChannels {
                output[p * outputChannels + channelOffset + i] = input[p * inputChannels + i]
            }
        }
    }

    /// Copies channels `start ..< start + count` of every pixel:
    /// `out[p, i] = in[p, start + i]`; the output has `count` channels.
    /// - Precondition: `start + count <= inputChannels`; no overlap.
    public static func sliceChannels<T>(
        input: UnsafePointer<T>, inputChannels: Int, output: UnsafeMutablePointer<T>,
        start: Int, count: Int, pixels: Int
    ) {
        precondition(start >= 0 && count >= 0 && start + count <= inputChannels,
                     "sliceChannels: slice outside the input channels")
        for p in 0..<pixels {
            for i in 0..<count {
                output[p * count + i] = input[p * inputChannels + start + i]
            }
        }
    }

    /// Spatial padding: the output is the input surrounded by `padding` rows/columns of
    /// `value` (for int8, pass the input zero point to pad with real zero).
    /// - Precondition: `outputShape` is `inputShape` with `h += top + bottom`,
    ///   `w += left + right`; no overlap.
    public static func pad<T>(
        input: UnsafePointer<T>, inputShape: TensorShape, output: UnsafeMutablePointer<T>,
        outputShape: TensorShape, padding: Padding, value: T
    ) {
        precondition(outputShape == TensorShape(
            n: inputShape.n, h: inputShape.h + padding.top + padding.bottom,
            w: inputShape.w + padding.left + padding.right, c: inputShape.c),
                     "pad: output shape is not the padded input shape")
        for b in 0..<outputShape.n {
            for y in 0..<outputShape.h {
                let iy = y - padding.top
                for x in 0..<outputShape.w {
                    let ix = x - padding.left
                    let inside = iy >= 0 && iy < inputShape.h && ix >= 0 && ix < inputShape.w
                    for ch in 0..<outputShape.c {
                        output[outputShape.index(b, y, x, ch)] =
                            inside ? input[inputShape.index(b, iy, ix, ch)] : value
                    }
                }
            }
        }
    }
}
