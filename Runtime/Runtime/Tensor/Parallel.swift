// parallelFor: split a range of independent work items over the runtime's threads (Threads.count).
//
// Work below `grain` items per thread runs inline: spawning costs microseconds, so only loops that
// do real work (optimizer updates over millions of floats, per-head attention, dequantization) pay
// for it. Items must be independent; results must not depend on how the range is cut.
import Dispatch

@inline(__always)
public func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let threads = min(Threads.count, max(1, count / max(grain, 1)))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let start = t * chunk, end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}
