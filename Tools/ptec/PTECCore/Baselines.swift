// The reference's baselines beside PTEC:
//   k-NN      scikit-learn's KNeighborsClassifier(weights="distance") on frozen mean-pooled embeddings,
//             one vote per label: the neighbours' 1/distance weights summed for "has it" and for "has
//             it not" (a neighbour at distance 0 takes all the weight); the label is predicted when the
//             first sum is larger (a tie is "not", as sklearn's argmax takes class 0). Score: the share.
//   gzip      NCD 1-NN (gzip_classification.py): NCD(x, y) = (C(x␠y) − min(C(x), C(y))) / max(C(x), C(y))
//             with C the length of Python's gzip.compress (level 9: 18 bytes of header and trailer
//             around the raw deflate stream); the nearest training text's labels are predicted. Ties:
//             the earliest training text (the reference's np.argsort leaves them to the sort; 125 of
//             the 556 test texts have tied nearest neighbours).
import CZlib
import Foundation
import Runtime

/// Distance-weighted k-NN over labelled vectors (rows of `train`), labels as 0/1 per row.
public struct NearestNeighbours: Sendable {
    public let train: [[Float]]
    public let targets: [[Bool]]

    public init(train: [[Float]], targets: [[Bool]]) {
        precondition(train.count == targets.count, "NearestNeighbours: one target row per vector")
        (self.train, self.targets) = (train, targets)
    }

    /// Indices and distances of the training rows by distance (ties: lower index first).
    public func neighbours(_ x: [Float]) -> [(Int, Double)] {
        let d = train.enumerated().map { (i, t) -> (Int, Double) in
            var s = 0.0
            for j in 0..<min(x.count, t.count) { let e = Double(x[j]) - Double(t[j]); s += e * e }
            return (i, s.squareRoot())
        }
        return d.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
    }

    /// Per-label score (the weighted share of neighbours with the label) for the first k neighbours.
    public func scores(neighbours: [(Int, Double)], k: Int) -> [Double] {
        let near = neighbours.prefix(k)
        let exact = near.contains { $0.1 == 0 }
        let labels = targets.first?.count ?? 0
        var yes = [Double](repeating: 0, count: labels), all = 0.0
        for (i, d) in near {
            let w = exact ? (d == 0 ? 1 : 0) : 1 / d
            all += w
            for l in 0..<labels where targets[i][l] { yes[l] += w }
        }
        return yes.map { all > 0 ? $0 / all : 0 }
    }
}

/// Length of Python's gzip.compress(bytes) at level 9.
public func gzipLength(_ bytes: [UInt8]) -> Int {
    var stream = z_stream()
    // Raw deflate (windowBits −15), memLevel 8, default strategy: what Python's gzip module asks of zlib.
    guard deflateInit2_(&stream, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        preconditionFailure("zlib: deflateInit2 failed")  // invariant: fixed valid parameters
    }
    defer { deflateEnd(&stream) }
    let bound = Int(deflateBound(&stream, uLong(bytes.count)))
    var out = [UInt8](repeating: 0, count: bound + 16)
    var input = bytes
    let produced: Int = input.withUnsafeMutableBufferPointer { inp in
        out.withUnsafeMutableBufferPointer { o in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            stream.next_out = o.baseAddress
            stream.avail_out = uInt(o.count)
            let r = deflate(&stream, Z_FINISH)
            precondition(r == Z_STREAM_END, "zlib: deflate did not finish (\(r)) within deflateBound")
            return o.count - Int(stream.avail_out)
        }
    }
    return produced + 18
}

/// gzip NCD 1-NN: for each query, the index of the nearest training text.
public func gzipNearest(queries: [String], train: [String], progress: ((Int) -> Void)? = nil) -> [Int] {
    let trainBytes = train.map { Array($0.utf8) }
    let trainLengths = trainBytes.map(gzipLength)
    var result = [Int](repeating: 0, count: queries.count)
    let lock = NSLock()
    var done = 0
    parallelFor(queries.count, grain: 1) { range in
        for q in range {
            let x = Array(queries[q].utf8), cx = gzipLength(x)
            var best = Double.infinity, bestIndex = 0
            for (i, y) in trainBytes.enumerated() {
                let cxy = gzipLength(x + [0x20] + y)
                let ncd = Double(cxy - min(cx, trainLengths[i])) / Double(max(cx, trainLengths[i]))
                if ncd < best { (best, bestIndex) = (ncd, i) }
            }
            lock.lock()
            result[q] = bestIndex
            done += 1
            let d = done
            lock.unlock()
            progress?(d)
        }
    }
    return result
}
