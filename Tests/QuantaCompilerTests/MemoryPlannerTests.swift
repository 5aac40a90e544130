import XCTest
@testable import QuantaCompiler


/// Random request sets: lifetimes from a random op graph (tensors written by one op, read
/// by later ones, some elementwise ops marked in place, some scratch buffers), or free
/// random lifetimes.
enum PlannerTestRequests {
    /// `alignedSizes`: every size a multiple of 16 and every alignment 16.
    static func graph(_ rng: inout TestRandom, alignedSizes: Bool) -> [BufferRequest] {
        let ops = rng.int(1...40)
        var requests: [BufferRequest] = []
        func size() -> Int { alignedSizes ? 16 * rng.int(0...64) : rng.int(0...1000) }
        func alignment() -> Int { alignedSizes ? 16 : [1, 4, 16, 64][rng.int(0...3)] }
        // Graph inputs, live from step 0.
        var producedAt: [Int] = []  // request index of each tensor
        for _ in 0..<rng.int(1...2) {
            requests.append(BufferRequest(size: size(), firstStep: 0, lastStep: 0, alignment: alignment()))
            producedAt.append(requests.count - 1)
        }
        for op in 0..<ops {
            // Read 1-2 tensors from a recent window; extend their lifetimes to this op.
            let reads = (0..<rng.int(1...2)).map { _ in producedAt[max(0, producedAt.count - 1 - rng.int(0...4))] }
            for t in reads { requests[t].lastStep = max(requests[t].lastStep, op) }
            let elementwise = reads.count == 1 && rng.chance(0.4)
            var out = BufferRequest(size: size(), firstStep: op, lastStep: op, alignment: alignment())
            if elementwise {
                out.size = min(out.size, requests[reads[0]].size)
                out.mayReuse = reads[0]
            }
            requests.append(out)
            producedAt.append(requests.count - 1)
            if rng.chance(0.25) {  // kernel scratch
                requests.append(BufferRequest(size: size(), firstStep: op, lastStep: op, alignment: alignment()))
            }
        }
        // Graph outputs live to the end.
        requests[producedAt.last!].lastStep = max(ops - 1, requests[producedAt.last!].firstStep)
        return requests
    }

    static func freeLifetimes(_ rng: inout TestRandom) -> [BufferRequest] {
        let steps = rng.int(1...30)
        var requests: [BufferRequest] = []
        for _ in 0..<rng.int(0...50) {
            let first = rng.int(0...(steps - 1))
            let last = min(steps - 1, first + rng.int(0...(rng.chance(0.2) ? steps : 3)))
            var r = BufferRequest(
                size: rng.int(0...4096), firstStep: first, lastStep: last, alignment: [1, 2, 8, 16, 32][rng.int(0...4)])
            let candidates = requests.indices.filter { requests[$0].lastStep == first }
            if !candidates.isEmpty && rng.chance(0.5) { r.mayReuse = candidates[rng.int(0...(candidates.count - 1))] }
            requests.append(r)
        }
        return requests
    }

    /// Op i reads buffer i and writes buffer i + 1: buffer 0 lives at step 0, buffer i at
    /// steps i-1...i, the last one at the last step.
    static func chain(sizes: [Int], inPlace: Bool = false, alignment: Int = 16) -> [BufferRequest] {
        let ops = sizes.count - 1
        return sizes.indices.map { i in
            BufferRequest(
                size: sizes[i], firstStep: max(0, i - 1), lastStep: min(i, ops - 1), alignment: alignment,
                mayReuse: inPlace && i > 0 ? i - 1 : nil)
        }
    }
}

final class MemoryPlannerTests: XCTestCase {
    // MARK: random graphs

    func testRandomPlansHaveNoOverlapStayInArenaAreAlignedAndRespectBounds() {
        var rng = TestRandom(seed: 0x5EED_0001)
        var totalArena = 0, totalBound = 0, atBound = 0
        for c in 0..<300 {
            let aligned = c % 3 == 0
            let requests = c % 3 == 2 ? PlannerTestRequests.freeLifetimes(&rng) : PlannerTestRequests.graph(&rng, alignedSizes: aligned)
            let plan = MemoryPlanner.plan(requests)
            XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests), "case \(c)")
            XCTAssertGreaterThanOrEqual(plan.arenaSize, plan.lowerBound, "case \(c)")
            // Each placement ends at most `alignment - 1` bytes above the previous top.
            let looseUpper = requests.reduce(0) { $0 + $1.size + max(1, $1.alignment) - 1 }
            XCTAssertLessThanOrEqual(plan.arenaSize, looseUpper, "case \(c)")
            if aligned {  // all offsets and sizes multiples of 16: no padding anywhere
                XCTAssertLessThanOrEqual(plan.arenaSize, requests.reduce(0) { $0 + $1.size }, "case \(c)")
            }
            for strategy in PlacementStrategy.allCases {
                let single = MemoryPlanner.plan(requests, strategy: strategy)
                XCTAssertNil(MemoryPlanner.verify(plan: single, requests: requests), "case \(c) \(strategy)")
                XCTAssertGreaterThanOrEqual(single.arenaSize, plan.arenaSize, "case \(c) \(strategy)")
            }
            totalArena += plan.arenaSize
            totalBound += plan.lowerBound
            if plan.arenaSize == plan.lowerBound { atBound += 1 }
        }
        // Measured on this seed (docs/MEMORY.md); a regression in placement shows here.
        // Measured: arena total 1.026 × bound total, 75 of 300 at the bound (alignment
        // padding, which the bound ignores, keeps mixed-alignment cases above it).
        XCTAssertLessThanOrEqual(Double(totalArena), 1.04 * Double(totalBound))
        XCTAssertGreaterThanOrEqual(atBound, 70)
    }

    func testPlanReportsEveryStrategyAndKeepsTheSmallest() {
        var rng = TestRandom(seed: 0x5EED_0002)
        for c in 0..<50 {
            let requests = PlannerTestRequests.graph(&rng, alignedSizes: false)
            let (plan, report) = MemoryPlanner.planWithReport(requests)
            XCTAssertEqual(report.strategies.map(\.strategy), PlacementStrategy.allCases, "case \(c)")
            XCTAssertEqual(report.arenaSize, report.strategies.map(\.arenaSize).min(), "case \(c)")
            XCTAssertEqual(plan, MemoryPlanner.plan(requests, strategy: report.chosen), "case \(c)")
            XCTAssertEqual(report.lowerBound, plan.lowerBound)
            XCTAssertEqual(report.inPlace, MemoryPlanner.inPlaceReuses(requests, offsets: plan.offsets))
        }
    }

    // MARK: lower bound

    /// The bound computed step by step, the slow obvious way.
    private func bruteForceLowerBound(_ requests: [BufferRequest]) -> Int {
        guard let lo = requests.map(\.firstStep).min(), let hi = requests.map(\.lastStep).max() else { return 0 }
        var best = 0
        for step in lo...hi {
            var total = requests.filter { $0.firstStep <= step && step <= $0.lastStep }.reduce(0) { $0 + $1.size }
            for t in requests.indices where requests[t].lastStep == step {
                let eligible = requests.indices.filter { i in
                    requests[i].mayReuse == t && i != t && requests[i].firstStep == step
                        && requests[i].size <= requests[t].size
                }
                total -= eligible.map { requests[$0].size }.max() ?? 0
            }
            best = max(best, total)
        }
        return best
    }

    func testLowerBoundEqualsStepByStepCount() {
        var rng = TestRandom(seed: 0x5EED_0003)
        for c in 0..<200 {
            let requests = c % 2 == 0 ? PlannerTestRequests.freeLifetimes(&rng) : PlannerTestRequests.graph(&rng, alignedSizes: false)
            XCTAssertEqual(MemoryPlanner.lowerBound(requests), bruteForceLowerBound(requests), "case \(c)")
        }
    }

    func testLowerBoundCountsAnInPlaceReuseOnceAtTheHandover() {
        let requests = [
            BufferRequest(size: 100, firstStep: 0, lastStep: 1),
            BufferRequest(size: 80, firstStep: 1, lastStep: 2, mayReuse: 0),
        ]
        XCTAssertEqual(MemoryPlanner.lowerBound(requests), 100)
        var noReuse = requests
        noReuse[1].mayReuse = nil
        XCTAssertEqual(MemoryPlanner.lowerBound(noReuse), 180)
        var tooLarge = requests
        tooLarge[1].size = 120
        XCTAssertEqual(MemoryPlanner.lowerBound(tooLarge), 220)
    }

    func testLowerBoundDoesNotWalkStepsOneByOne() {
        // Steps a billion apart: a per-step loop would not finish; the sweep is O(n log n).
        var requests: [BufferRequest] = []
        for i in 0..<2000 {
            requests.append(BufferRequest(size: 1 + i % 7, firstStep: i * 1_000_000_000, lastStep: i * 1_000_000_000 + 1_500_000_000))
        }
        // Steps k*1e9 ... k*1e9 + 5e8 have buffers k-1 and k alive.
        let expected = (1..<2000).map { (1 + ($0 - 1) % 7) + (1 + $0 % 7) }.max()!
        XCTAssertEqual(MemoryPlanner.lowerBound(requests), expected)
        XCTAssertEqual(MemoryPlanner.liveProfile(requests).bytes(at: 1_000_000_000 + 10), 1 + 2)
    }

    // MARK: chains and in place

    func testLinearChainsReachTheLowerBoundExactly() {
        var rng = TestRandom(seed: 0x5EED_0004)
        for c in 0..<150 {
            let sizes = (0...rng.int(1...60)).map { _ in 16 * rng.int(1...100) }
            let requests = PlannerTestRequests.chain(sizes: sizes)
            let plan = MemoryPlanner.plan(requests)
            XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests), "case \(c)")
            XCTAssertEqual(plan.lowerBound, zip(sizes, sizes.dropFirst()).map { $0 + $1 }.max()!, "case \(c)")
            XCTAssertEqual(plan.arenaSize, plan.lowerBound, "case \(c) sizes \(sizes)")
        }
    }

    func testGreedyBySizeAloneMissesTheBoundOnThisChainButThePlannerDoesNot() {
        // Placing 160 and 152 both at 0 pushes 144 up to 152 and leaves 16 nowhere below 296.
        let sizes = [16, 160, 16, 144, 152]
        let requests = PlannerTestRequests.chain(sizes: sizes)
        XCTAssertEqual(MemoryPlanner.lowerBound(requests), 296)
        XCTAssertEqual(MemoryPlanner.plan(requests, strategy: .greedyBySize).arenaSize, 320)
        XCTAssertEqual(MemoryPlanner.plan(requests).arenaSize, 296)
    }

    func testInPlaceChainOfElementwiseOpsCostsOneBuffer() {
        let requests = PlannerTestRequests.chain(sizes: Array(repeating: 4096, count: 12), inPlace: true)
        let (plan, report) = MemoryPlanner.planWithReport(requests)
        XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests))
        XCTAssertEqual(plan.arenaSize, 4096)
        XCTAssertEqual(plan.lowerBound, 4096)
        XCTAssertEqual(plan.offsets, Array(repeating: 0, count: 12))
        XCTAssertEqual(report.inPlace.count, 11)
    }

    func testInPlaceIsRefusedWhenTheReuserIsLargerOrTheOffsetMisaligned() {
        var requests = [
            BufferRequest(size: 64, firstStep: 0, lastStep: 1, alignment: 16),
            BufferRequest(size: 96, firstStep: 1, lastStep: 2, alignment: 16, mayReuse: 0),
        ]
        XCTAssertNil(MemoryPlanner.reuseTarget(of: 1, in: requests))
        XCTAssertEqual(MemoryPlanner.plan(requests).arenaSize, 160)
        // A 16-aligned buffer at offset 48 cannot be taken over by a 64-aligned one.
        requests = [
            BufferRequest(size: 48, firstStep: 0, lastStep: 3, alignment: 16),
            BufferRequest(size: 32, firstStep: 0, lastStep: 1, alignment: 16),
            BufferRequest(size: 16, firstStep: 1, lastStep: 2, alignment: 64, mayReuse: 1),
        ]
        let plan = MemoryPlanner.plan(requests, strategy: .greedyBySize)
        XCTAssertEqual(plan.offsets, [0, 48, 128])  // above b0 and b1, rounded up to 64
        XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests))
        requests[2].alignment = 16
        XCTAssertEqual(MemoryPlanner.plan(requests, strategy: .greedyBySize).offsets, [0, 48, 48])
    }

    func testInPlaceWorksWhenTheReuserIsPlacedFirst() {
        // By size × lifetime the long-lived reuser comes first; the short target joins it.
        let requests = [
            BufferRequest(size: 64, firstStep: 0, lastStep: 1),
            BufferRequest(size: 64, firstStep: 1, lastStep: 20, mayReuse: 0),
            BufferRequest(size: 32, firstStep: 0, lastStep: 20),
        ]
        let plan = MemoryPlanner.plan(requests, strategy: .bySizeTimesLifetime)
        XCTAssertEqual(plan.offsets[0], plan.offsets[1])
        XCTAssertEqual(plan.arenaSize, 96)
        XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests))
    }

    // MARK: hand-checked example

    func testHandCheckedExampleHasExactOffsets() {
        // b0 32B steps 0-1, b1 16B steps 1-2, b2 48B steps 2-3, b3 16B steps 0-3.
        // Alive: step 0 b0+b3 = 48, step 1 b0+b1+b3 = 64, step 2 b1+b2+b3 = 80, step 3 64.
        // Greedy by size: b2 → 0; b0 (not alive with b2) → 0; b3 (tie with b1, earlier
        // start) above b2 and b0 → 48; b1 above b0, b2, b3 → 64. Arena 80 = bound.
        let requests = [
            BufferRequest(size: 32, firstStep: 0, lastStep: 1),
            BufferRequest(size: 16, firstStep: 1, lastStep: 2),
            BufferRequest(size: 48, firstStep: 2, lastStep: 3),
            BufferRequest(size: 16, firstStep: 0, lastStep: 3),
        ]
        let (plan, report) = MemoryPlanner.planWithReport(requests)
        XCTAssertEqual(plan, ArenaPlan(offsets: [0, 64, 0, 48], arenaSize: 80, lowerBound: 80))
        XCTAssertEqual(report.chosen, .greedyBySize)
        XCTAssertEqual(report.peakStep, 2)
        // By start: b0 0, b3 32, b1 48, b2 does not fit under 32 → 64, arena 112.
        // Two-sided (ceiling 80): b0 0, b3 64 (flush with the ceiling), b1 32, b2 → 80, arena 128.
        XCTAssertEqual(report.strategies.map(\.arenaSize), [80, 112, 80, 128])
    }

    func testBestFitChoosesTheSmallestGapThatFits() {
        // Step 0 stacks A 0..<128, B 128..<224, C 224..<288, D 288..<336 (size order).
        // At steps 1-2 only B and D stay: holes 0..<128 (128 B) and 224..<288 (64 B).
        // E (32 B) goes into the smaller hole, not the lowest one.
        let requests = [
            BufferRequest(size: 128, firstStep: 0, lastStep: 0),
            BufferRequest(size: 96, firstStep: 0, lastStep: 2),
            BufferRequest(size: 64, firstStep: 0, lastStep: 0),
            BufferRequest(size: 48, firstStep: 0, lastStep: 2),
            BufferRequest(size: 32, firstStep: 1, lastStep: 2),
        ]
        let plan = MemoryPlanner.plan(requests, strategy: .greedyBySize)
        XCTAssertEqual(plan.offsets, [0, 128, 224, 288, 224])
        XCTAssertEqual(plan.arenaSize, 336)
        XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests))
    }

    // MARK: the invariant checker

    func testVerifierDetectsEachKindOfBrokenPlan() {
        let requests = [
            BufferRequest(size: 32, firstStep: 0, lastStep: 1),
            BufferRequest(size: 16, firstStep: 1, lastStep: 2),
            BufferRequest(size: 48, firstStep: 2, lastStep: 3),
            BufferRequest(size: 16, firstStep: 0, lastStep: 3),
        ]
        let good = ArenaPlan(offsets: [0, 64, 0, 48], arenaSize: 80, lowerBound: 80)
        XCTAssertNil(MemoryPlanner.verify(plan: good, requests: requests))

        var p = good
        p.offsets[1] = 32  // b1 at 32..48 meets b3 at 48? no: meets b2 (0..48) at step 2
        XCTAssertEqual(MemoryPlanner.verify(plan: p, requests: requests), .overlap(first: 1, second: 2, step: 2, bytes: 32..<48))
        p = good
        p.offsets[3] = 40
        XCTAssertEqual(MemoryPlanner.verify(plan: p, requests: requests), .misaligned(buffer: 3, offset: 40, alignment: 16))
        p = good
        p.arenaSize = 79
        XCTAssertEqual(MemoryPlanner.verify(plan: p, requests: requests), .outsideArena(buffer: 1, end: 80, arenaSize: 79))
        p = good
        p.offsets[0] = -16
        XCTAssertEqual(MemoryPlanner.verify(plan: p, requests: requests), .negativeOffset(buffer: 0, offset: -16))
        p = good
        p.offsets.removeLast()
        XCTAssertEqual(MemoryPlanner.verify(plan: p, requests: requests), .offsetCount(expected: 4, actual: 3))
        p = good
        p.lowerBound = 64
        XCTAssertEqual(MemoryPlanner.verify(plan: p, requests: requests), .lowerBoundMismatch(stored: 64, computed: 80))
        var badRequests = requests
        badRequests[2].lastStep = 1
        XCTAssertEqual(
            MemoryPlanner.verify(plan: good, requests: badRequests),
            .invalidRequest(buffer: 2, size: 48, firstStep: 2, lastStep: 1))
    }

    func testVerifierAllowsOnlyValidInPlaceSharing() {
        let requests = [
            BufferRequest(size: 64, firstStep: 0, lastStep: 1),
            BufferRequest(size: 64, firstStep: 1, lastStep: 2, mayReuse: 0),
            BufferRequest(size: 64, firstStep: 1, lastStep: 2),
        ]
        XCTAssertNil(MemoryPlanner.verify(plan: ArenaPlan(offsets: [0, 0, 64], arenaSize: 128, lowerBound: 128), requests: requests))
        // Buffer 2 did not ask to reuse buffer 0.
        XCTAssertEqual(
            MemoryPlanner.verify(plan: ArenaPlan(offsets: [0, 64, 0], arenaSize: 128, lowerBound: 128), requests: requests),
            .overlap(first: 0, second: 2, step: 1, bytes: 0..<64))
        // Sharing, but not at the same offset: partial overlap is never in place.
        XCTAssertEqual(
            MemoryPlanner.verify(plan: ArenaPlan(offsets: [0, 16, 96], arenaSize: 160, lowerBound: 128), requests: requests),
            .overlap(first: 0, second: 1, step: 1, bytes: 16..<64))
    }

    func testVerifierCatchesABufferMovedOntoALivePartnerInRandomPlans() {
        var rng = TestRandom(seed: 0x5EED_0005)
        var broken = 0
        for _ in 0..<100 {
            let requests = PlannerTestRequests.graph(&rng, alignedSizes: true)
            var plan = MemoryPlanner.plan(requests)
            // Find two time-overlapping non-empty buffers that are not a reuse pair; stack one on the other.
            var pair: (Int, Int)?
            search: for i in requests.indices where requests[i].size > 0 {
                for j in requests.indices where j > i && requests[j].size > 0 {
                    let overlapInTime = requests[i].firstStep <= requests[j].lastStep && requests[j].firstStep <= requests[i].lastStep
                    let reusePair = MemoryPlanner.reuseTarget(of: j, in: requests) == i || MemoryPlanner.reuseTarget(of: i, in: requests) == j
                    if overlapInTime && !reusePair { pair = (i, j); break search }
                }
            }
            guard let (i, j) = pair else { continue }
            plan.offsets[j] = plan.offsets[i]
            plan.arenaSize = max(plan.arenaSize, plan.offsets[j] + requests[j].size)
            guard case .overlap = MemoryPlanner.verify(plan: plan, requests: requests) else {
                return XCTFail("moved buffer \(j) onto \(i) and the verifier did not see an overlap")
            }
            broken += 1
        }
        XCTAssertGreaterThan(broken, 50)
    }

    func testPlannerIsFastEnoughForFiveHundredOps() {
        var requests: [BufferRequest] = []
        var rng = TestRandom(seed: 0x5EED_0006)
        for op in 0..<500 {  // a MobileNet-like spine with skips and scratch
            requests.append(BufferRequest(size: 16 * rng.int(1...4096), firstStep: op, lastStep: min(499, op + rng.int(1...3))))
            if op % 3 == 0 { requests.append(BufferRequest(size: 16 * rng.int(1...256), firstStep: op, lastStep: op)) }
        }
        let start = Date()
        let plan = MemoryPlanner.plan(requests)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertNil(MemoryPlanner.verify(plan: plan, requests: requests))
    }
}
