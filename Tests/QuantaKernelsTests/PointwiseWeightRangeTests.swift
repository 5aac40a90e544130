import XCTest
@testable import QuantaKernels

/// `PointwiseGEMM.firstMinimumWeight`: the loader's check that GEMM-packed weights are in
/// -127...127 (the NEON GEMM sums two raw products in an int16 lane).
final class PointwiseWeightRangeTests: XCTestCase {
    func testFirstMinimumWeightNamesTheChannelOfEveryPackedPosition() {
        // 11 channels (two blocks, the second padded), depth 5 (padded to 6).
        let k = 5, n = 11
        let packed = UnsafeMutableRawPointer.allocate(byteCount: PointwiseGEMM.packedByteCount(depth: k, columns: n), alignment: 16)
        defer { packed.deallocate() }
        for channel in 0..<n {
            for i in 0..<k {
                var weights = [Int8](repeating: 127, count: n * k)
                weights[channel * k + i] = -127
                weights.withUnsafeBufferPointer {
                    PointwiseGEMM.pack(weights: $0.baseAddress!, weightRowStride: k, depth: k, columns: n,
                                       bias: nil, inputZeroPoint: 3, into: packed)
                }
                XCTAssertNil(PointwiseGEMM.firstMinimumWeight(packed, depth: k, columns: n))
                weights[channel * k + i] = -128
                if channel > 0 { weights[(channel - 1) * k] = -127 }
                weights.withUnsafeBufferPointer {
                    PointwiseGEMM.pack(weights: $0.baseAddress!, weightRowStride: k, depth: k, columns: n,
                                       bias: nil, inputZeroPoint: 3, into: packed)
                }
                XCTAssertEqual(PointwiseGEMM.firstMinimumWeight(packed, depth: k, columns: n), channel, "channel \(channel), k \(i)")
            }
        }
    }
}
