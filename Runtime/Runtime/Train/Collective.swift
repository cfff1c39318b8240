// What data-parallel training across processes needs from a communicator: this process's rank, the
// number of ranks, and a sum of a few numbers over all ranks. `zo train --distributed` runs on MPI
// (RuntimeMPI's MPICollective); `SoloCollective` is the one-process case. Zeroth-order training
// exchanges only losses (a few doubles per step), never a parameter.
import Foundation

public protocol Collective: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// The element-wise sum of `values` over all ranks (every rank passes the same count, every rank
    /// gets the sum). Collective: every rank must call it, in the same order.
    func allReduceSum(_ values: [Double]) -> [Double]
}

/// One process: the sum is the values themselves.
public final class SoloCollective: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: [Double]) -> [Double] { values }
}

extension Collective {
    /// Rank r's contiguous share of `count` items: the first `count % size` ranks get one more.
    public func share(of count: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Every rank's `value`, in rank order (exact for integers below 2⁵³).
    public func gather(_ value: Double) -> [Double] {
        var slots = [Double](repeating: 0, count: size)
        slots[rank] = value
        return allReduceSum(slots)
    }
}

/// FNV-1a over the bit patterns of `tensors`' values, in order: equal digests mean (up to a collision)
/// bit-identical weights. Split in two 32-bit halves so each survives a Double exactly.
public func weightDigest(_ tensors: [Tensor]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for t in tensors {
        for v in t.buffer {
            var bits = v.bitPattern
            for _ in 0..<4 { h = (h ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3; bits >>= 8 }
        }
    }
    return h
}
