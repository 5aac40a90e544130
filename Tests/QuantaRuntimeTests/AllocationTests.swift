import XCTest
import CAllocationCounter
import QuantaCompiler
import QuantaKernels
import QuantaRuntime

final class AllocationTests: XCTestCase {
    override func setUpWithError() throws {
        // Under AddressSanitizer (Tools/test-asan) the sanitizer owns malloc and the
        // counting interposer is compiled out: these tests run in the normal build only.
        try XCTSkipIf(quanta_allocation_counter_available() == 0,
                      "allocation counting is compiled out under AddressSanitizer")
    }

    /// Counts heap allocations and frees made by `body` on this thread.
    func countAllocations(_ body: () -> Void) -> (allocations: Int, frees: Int) {
        quanta_allocation_counter_start()
        body()
        quanta_allocation_counter_stop()
        return (quanta_allocation_counter_allocations(), quanta_allocation_counter_frees())
    }

    func testCounterSeesAllocations() {
        // The zero below means something only if the counter sees a real allocation.
        let counts = countAllocations {
            let p = UnsafeMutableRawPointer.allocate(byteCount: 100, alignment: 8)
            p.deallocate()
        }
        XCTAssertGreaterThanOrEqual(counts.allocations, 1)
        XCTAssertGreaterThanOrEqual(counts.frees, 1)
    }

    func testInvokeMakesNoHeapAllocation() throws {
        for source in [TestModels.small(), TestModels.layoutOps(), TestModels.resizeOps(), TestModels.viewOps()] {
            // The kernel variants as chosen for speed (the memory passes may trade the stem's
            // scratch for the reference kernel; MemoryOpsTests counts their allocations).
            let bytes = AlignedBuffer(try ModelWriter(memoryPasses: .none).write(source))
            let loaded = try Model(bytes: bytes.bytes)
            let arenaSize = loaded.arenaSize
            if source.ops.count == TestModels.small().ops.count {
                // The optimized convolutions (packed weights, planned scratch) run too.
                XCTAssertEqual((0..<3).map { loaded.op($0).variant }, [.im2col, .depthwise3x3, .pointwise])
            }
            let arena = AlignedBuffer(count: arenaSize)
            var interpreter: Interpreter? = nil
            var model: Model? = nil
            // Loading and binding allocate nothing either.
            let setup = countAllocations {
                model = try? Model(bytes: bytes.bytes)
                interpreter = try? Interpreter(model: model!, arena: arena.mutableBytes)
            }
            XCTAssertEqual(setup.allocations, 0)
            let it = try XCTUnwrap(interpreter)
            it.invoke()  // first call outside the count (lazy runtime initialization, if any)
            let counts = countAllocations {
                let input = it.input(0)
                input.data[0] = 1
                it.invoke()
                it.invoke()
                _ = it.output(0).data[0]
            }
            XCTAssertEqual(counts.allocations, 0)
            XCTAssertEqual(counts.frees, 0)
        }
    }
}
