import Foundation

/// The host tools' batch parallelism (calibration, the int8 check, `quanta eval`): `body(k)`
/// for every k in 0 ..< count, each on its own thread (one item runs on the caller's), the
/// results — values or errors — in item order, so a caller that folds them in order gets
/// the result of a serial run.
enum ParallelMap {
    static func run<T>(_ count: Int, _ body: (Int) throws -> T) -> [Result<T, Error>] {
        if count == 1 { return [Result { try body(0) }] }
        var results = [Result<T, Error>?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = slots  // each thread writes only its own slot
            DispatchQueue.concurrentPerform(iterations: count) { k in slots[k] = Result { try body(k) } }
        }
        return results.map { $0! }
    }
}
