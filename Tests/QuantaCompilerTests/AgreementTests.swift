import XCTest
@testable import QuantaCompiler

final class AgreementTests: XCTestCase {
    func testSQNRofOneTenthNoiseIsTwentyDecibels() {
        var acc = AgreementAccumulator()
        // signal power 1 per element, noise amplitude 0.1 → power 0.01 → 20 dB.
        acc.add(reference: [1, -1, 1, -1], approximation: [1.1, -1.1, 0.9, -0.9])
        XCTAssertEqual(acc.result.sqnr, 20, accuracy: 1e-5)  // Float inputs: 1.1 is not exact
        XCTAssertEqual(acc.result.maxAbsError, 0.1, accuracy: 1e-6)
        XCTAssertEqual(acc.result.elementCount, 4)
    }

    func testIdenticalTensorsHaveInfiniteSQNRAndCosineOne() {
        var acc = AgreementAccumulator()
        acc.add(reference: [3, 4], approximation: [3, 4])
        XCTAssertEqual(acc.result.sqnr, .infinity)
        XCTAssertEqual(acc.result.cosine, 1, accuracy: 1e-12)
    }

    func testOrthogonalVectorsHaveCosineZero() {
        var acc = AgreementAccumulator()
        acc.add(reference: [1, 0], approximation: [0, 1])
        XCTAssertEqual(acc.result.cosine, 0, accuracy: 1e-12)
    }

    func testTopOneAgreementCountsSameArgmaxAndLabels() {
        var c = ClassificationAgreement()
        c.add(reference: [0, 1, 0], approximation: [0, 0.9, 0.1], label: 1)
        c.add(reference: [1, 0, 0], approximation: [0, 1, 0], label: 0)
        XCTAssertEqual(c.samples, 2)
        XCTAssertEqual(c.top1Agreements, 1)
        XCTAssertEqual(c.floatCorrect, 2)
        XCTAssertEqual(c.int8Correct, 1)
        XCTAssertEqual(argmax([2, 5, 5]), 1)
    }
}
