// The MPI communicator behind `zo train --distributed` (Open MPI through CMPI). Only programs that
// offer --distributed link it, so the others never load libmpi.
import CMPI
import Foundation
import Runtime

public final class MPICollective: Collective {
    public let rank: Int
    public let size: Int

    /// Joins the job started by mpirun (or a job of one rank when started without it). Errors abort
    /// every rank (MPI's default handler), so a failed call never returns here.
    public init() {
        if mlt_mpi_initialized() == 0 { _ = mlt_mpi_init() }
        rank = Int(mlt_mpi_rank())
        size = Int(mlt_mpi_size())
    }

    public func allReduceSum(_ values: [Double]) -> [Double] {
        guard !values.isEmpty else { return [] }
        var buffer = values
        _ = buffer.withUnsafeMutableBufferPointer { mlt_mpi_allreduce_sum($0.baseAddress, Int32($0.count)) }
        return buffer
    }

    /// Leaves the job (call once, before a normal exit).
    public func finish() {
        if mlt_mpi_finalized() == 0 { _ = mlt_mpi_finalize() }
    }

    /// Ends every rank of the job with `code` (a rank that cannot go on).
    public func abort(_ code: Int32) -> Never {
        _ = mlt_mpi_abort(code)
        exit(code)
    }
}
