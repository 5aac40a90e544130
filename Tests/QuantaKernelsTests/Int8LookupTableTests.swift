import XCTest
@testable import QuantaKernels

final class Int8LookupTableTests: XCTestCase {
    func testIndexesByValuePlus128() {
        // table[k] = 127 - k (so -128 → 127, 0 → -1, 127 → -128).
        let table: [Int8] = (0..<256).map { Int8(127 - $0) }
        let input: [Int8] = [-128, -1, 0, 1, 127]
        var out = [Int8](repeating: 0, count: 5)
        Int8Reference.lookupTable(input: input, output: &out, count: 5, table: table)
        XCTAssertEqual(out, [127, 0, -1, -2, -128])
    }

    func testInPlaceEqualsOutOfPlace() {
        var g = SplitMix64(seed: 61)
        let table = Int8TestData.int8s(256, &g)
        let input = Int8TestData.int8s(300, &g)
        var out = [Int8](repeating: 0, count: 300)
        Int8Reference.lookupTable(input: input, output: &out, count: 300, table: table)
        XCTAssertEqual(out, input.map { table[Int($0) + 128] })
        var data = input
        data.withUnsafeMutableBufferPointer { p in
            Int8Reference.lookupTable(input: p.baseAddress!, output: p.baseAddress!, count: 300, table: table)
        }
        XCTAssertEqual(data, out)
    }
}
