// Storage: a flat block of Float32 that one or more tensors look into.
//
// Either we own the memory (allocated 64-byte aligned, freed on deinit) or something else does
// (a memory-mapped checkpoint): then `owner` keeps that something alive for as long as a tensor
// points into it. Storage never grows; tensors are contiguous views of [offset, offset + count).
import Foundation

#if os(Linux)
/// glibc's mallopt (declared in <malloc.h>, which Swift's Glibc module does not export).
@_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

public final class Storage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int
    private let owner: AnyObject?

    /// Large blocks from the heap, not fresh mmaps: glibc maps big allocations afresh each time, and
    /// page-faulting a new 16 MB matmul output costs ~7% of the product. Set once, before the first
    /// allocation; the heap keeps up to 1 GB of freed memory for reuse instead of returning it.
    private static let heapPolicy: Void = {
        #if os(Linux)
        _ = glibcMallopt(-3, 512 << 20)  // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, 1 << 30)    // M_TRIM_THRESHOLD
        #endif
    }()

    /// Hands the heap's free pages back to the system (every arena; pages in the middle of the heap
    /// too). The heap policy keeps freed blocks for reuse, which is right for inference but lets a loop
    /// with varying allocations (zo's probes: a perturbed copy of each layer in turn) grow the resident
    /// set by fragments; such a loop calls this between iterations.
    public static func releaseFreeMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    /// Uninitialized memory for `count` floats (callers overwrite every element).
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "Storage: negative element count \(count)")
        Storage.heapPolicy
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let rc = posix_memalign(&raw, 64, bytes)
        guard rc == 0, let raw else {
            fatalError("Storage: cannot allocate \(bytes) bytes (posix_memalign returned \(rc)); hint: reduce --batch")
        }
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.owner = nil
    }

    /// Zero-filled memory.
    public convenience init(zeroedCount count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: 0, count: count)
    }

    /// Memory that someone else owns (for example an mmap'ed file); `owner` is retained.
    public init(borrowing base: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
    }

    deinit {
        if owner == nil { free(base) }
    }
}
