// parallelFor: split a range of independent work items over the runtime's threads (Threads.count).
//
// Work below `grain` items per thread runs inline: spawning costs microseconds, so only loops that
// do real work (optimizer updates over millions of floats, per-head attention, dequantization) pay
// for it. Items must be independent; results must not depend on how the range is cut.
import CPool
import Dispatch
import Foundation

@inline(__always)
public func parallelFor(_ count: Int, grain: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let threads = ParallelRegion.active ? 1 : min(Threads.count, max(1, count / max(grain, 1)))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    ParallelRegion.active = true
    defer { ParallelRegion.active = false }
    withoutActuallyEscaping(body) { body in
        var job = PoolJob(count: count, chunk: chunk, body: body)
        // The runtime's spinning workers (CPool); Dispatch when they are busy with another thread's loop.
        let ran = withUnsafeMutablePointer(to: &job) { pool_run(Int32(threads), { ctx, t in
            ctx!.assumingMemoryBound(to: PoolJob.self).pointee.run(Int(t))
        }, $0) }
        if ran == 0 { DispatchQueue.concurrentPerform(iterations: threads) { job.run($0) } }
    }
}

/// One parallelFor loop as the pool's workers see it.
struct PoolJob {
    let count: Int, chunk: Int
    let body: (Range<Int>) -> Void

    /// Chunk `t` of the range.
    func run(_ t: Int) {
        let start = t * chunk, end = min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}

/// Set while a parallelFor runs its workers: nested parallel loops then run inline (the outer loop
/// already occupies every thread). Written only by the thread that starts the region.
public enum ParallelRegion {
    public nonisolated(unsafe) static var active = false
}

/// Runs `body(item)` for items 0..<count on all threads at once, one item per thread at a time, with
/// BLAS and the runtime's kernels single-threaded meanwhile (data parallelism: independent batches of
/// an inference scale better this way than one batch with multi-threaded GEMMs). Autograd recording
/// must already be off (it is process-wide): call it inside `withoutGrad`.
public func forEachConcurrently(_ count: Int, _ body: (Int) -> Void) {
    let workers = min(Threads.count, count)
    guard workers > 1 else {
        for i in 0..<count { body(i) }
        return
    }
    precondition(!Autograd.isRecording, "forEachConcurrently: run it inside withoutGrad")
    let saved = Threads.count
    Threads.set(1)
    defer { Threads.set(saved) }
    let lock = NSLock()
    var next = 0
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            lock.lock()
            let i = next
            next += 1
            lock.unlock()
            if i >= count { return }
            body(i)
        }
    }
}
