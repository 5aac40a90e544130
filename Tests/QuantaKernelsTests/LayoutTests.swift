import XCTest
@testable import QuantaKernels

func shuffled<T>(_ x: [T], _ shape: TensorShape, groups: Int) -> [T] {
    var out = x
    x.withUnsafeBufferPointer { i in
        out.withUnsafeMutableBufferPointer { o in
            Layout.channelShuffle(input: i.baseAddress!, output: o.baseAddress!, shape: shape, groups: groups)
        }
    }
    return out
}

func sliced<T>(_ x: [T], channels: Int, start: Int, count: Int, pixels: Int, fill: T) -> [T] {
    var out = [T](repeating: fill, count: pixels * count)
    x.withUnsafeBufferPointer { i in
        out.withUnsafeMutableBufferPointer { o in
            Layout.sliceChannels(input: i.baseAddress!, inputChannels: channels, output: o.baseAddress!,
                                 start: start, count: count, pixels: pixels)
        }
    }
    return out
}

func concatenated<T>(_ parts: [[T]], channels: [Int], pixels: Int, fill: T) -> [T] {
    let total = channels.reduce(0, +)
    var out = [T](repeating: fill, count: pixels * total)
    var offset = 0
    for (part, c) in zip(parts, channels) {
        part.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                Layout.concatChannels(input: i.baseAddress!, inputChannels: c, output: o.baseAddress!,
                                      outputChannels: total, channelOffset: offset, pixels: pixels)
            }
        }
        offset += c
    }
    return out
}

func padded<T>(_ x: [T], _ shape: TensorShape, _ padding: Padding, value: T) -> ([T], TensorShape) {
    let outShape = TensorShape(n: shape.n, h: shape.h + padding.top + padding.bottom,
                               w: shape.w + padding.left + padding.right, c: shape.c)
    var out = [T](repeating: value, count: outShape.elementCount)
    x.withUnsafeBufferPointer { i in
        out.withUnsafeMutableBufferPointer { o in
            Layout.pad(input: i.baseAddress!, inputShape: shape, output: o.baseAddress!, outputShape: outShape,
                       padding: padding, value: value)
        }
    }
    return (out, outShape)
}

final class LayoutTests: XCTestCase {
    func testChannelShuffleOfSixChannelsInTwoGroupsInterleaves() {
        // groups (0 1 2) (3 4 5) → 0 3 1 4 2 5, per pixel.
        let x: [Int8] = [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]
        XCTAssertEqual(shuffled(x, TensorShape(h: 1, w: 2, c: 6), groups: 2), [0, 3, 1, 4, 2, 5, 10, 13, 11, 14, 12, 15])
    }

    func testChannelShuffleFollowedByShuffleWithChannelsOverGroupsIsIdentity() {
        var rng = TestRandom(seed: 7)
        for (c, g) in [(6, 2), (6, 3), (12, 4), (24, 3), (8, 8), (5, 1)] {
            let shape = TensorShape(n: 2, h: 3, w: 2, c: c)
            let x = rng.floats(shape.elementCount)
            let once = shuffled(x, shape, groups: g)
            if g > 1 && g < c { XCTAssertNotEqual(once, x, "c \(c) g \(g)") }
            XCTAssertEqual(shuffled(once, shape, groups: c / g), x, "c \(c) g \(g)")
        }
    }

    func testChannelShuffleWithOneGroupOrOneChannelPerGroupIsIdentity() {
        let x: [Int8] = Array(0..<16)
        XCTAssertEqual(shuffled(x, TensorShape(h: 2, w: 1, c: 8), groups: 1), x)
        XCTAssertEqual(shuffled(x, TensorShape(h: 2, w: 1, c: 8), groups: 8), x)
    }

    func testConcatOfSlicesRestoresTheInput() {
        let x: [Int8] = (0..<30).map { Int8($0) }  // 5 pixels × 6 channels
        let a = sliced(x, channels: 6, start: 0, count: 1, pixels: 5, fill: -1)
        let b = sliced(x, channels: 6, start: 1, count: 3, pixels: 5, fill: -1)
        let c = sliced(x, channels: 6, start: 4, count: 2, pixels: 5, fill: -1)
        XCTAssertEqual(b, [1, 2, 3, 7, 8, 9, 13, 14, 15, 19, 20, 21, 25, 26, 27])
        XCTAssertEqual(concatenated([a, b, c], channels: [1, 3, 2], pixels: 5, fill: -1), x)
    }

    func testConcatChannelsWritesOnlyItsSlice() {
        var out = [Float](repeating: -7, count: 2 * 5)
        let part: [Float] = [1, 2, 3, 4]
        part.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                Layout.concatChannels(input: i.baseAddress!, inputChannels: 2, output: o.baseAddress!,
                                      outputChannels: 5, channelOffset: 2, pixels: 2)
            }
        }
        XCTAssertEqual(out, [-7, -7, 1, 2, -7, -7, -7, 3, 4, -7])
    }

    func testPadSurroundsWithValueAsymmetrically() {
        let x: [Int8] = [1, 2, 3, 4]  // 2×2×1
        let (out, shape) = padded(x, TensorShape(h: 2, w: 2, c: 1), Padding(top: 1, left: 0, bottom: 0, right: 2), value: -128)
        XCTAssertEqual(shape, TensorShape(h: 3, w: 4, c: 1))
        XCTAssertEqual(out, [-128, -128, -128, -128,
                             1, 2, -128, -128,
                             3, 4, -128, -128])
    }

    func testPadWithZeroPaddingCopies() {
        var rng = TestRandom(seed: 3)
        let shape = TensorShape(n: 2, h: 3, w: 4, c: 3)
        let x = rng.floats(shape.elementCount)
        XCTAssertEqual(padded(x, shape, .zero, value: 9).0, x)
    }
}
