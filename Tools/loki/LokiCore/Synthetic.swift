// `loki synth`: the synthetic data of the paper's experiments, drawn from Philox streams so a seed
// gives the same data everywhere.
//
// grid: N = side² classes "r<row>c<col>" on a side×side grid with the Euclidean metric (written as
//       2-D class embeddings); records with Gaussian features N((row, col), σ²I) and their label;
//       the observed classes are the crossings of the given grid lines (1,4,7: nine spread-out classes).
// tree: a uniformly random labelled tree (LocusSelection.swift) as an edge list, for active selection.
import Foundation
import Runtime

public struct GridData {
    public let side: Int
    /// Limits that keep `--side` and `--per-class` from asking for more than a run can hold.
    public static let maxClasses = 1_000_000, maxRecords = 50_000_000
    public var classes: [String] { (0..<(side * side)).map { "r\($0 / side)c\($0 % side)" } }

    public init(side: Int) { self.side = side }

    /// Class embeddings (row, col): the grid's Euclidean metric.
    public func metricRecords() -> [Record] {
        classes.enumerated().map { i, name in
            var r = Record()
            r.set("class", string: name)
            r.set("embedding", ints: [i / side, i % side])
            return r
        }
    }

    /// The classes at the crossings of the given rows and columns.
    public func observed(lines: [Int]) -> [String] {
        lines.flatMap { r in lines.map { c in "r\(r)c\(c)" } }
    }

    /// `perClass` records per class, class by class: {"features": [row + σε, col + σε'], "label": "r3c4"}.
    /// σ must be finite (every feature then is).
    public func records(perClass: Int, sigma: Float, seed: UInt64) throws -> [Record] {
        let noise = RandomGenerator(seed: seed, stream: 0x6e1d).normal([side * side * perClass, 2], std: sigma)
        var out: [Record] = []
        out.reserveCapacity(side * side * perClass)
        for (i, name) in classes.enumerated() {
            for j in 0..<perClass {
                let t = (i * perClass + j) * 2
                var r = Record()
                try r.set("features", floats: [Float(i / side) + noise.data[t], Float(i % side) + noise.data[t + 1]])
                r.set("label", string: name)
                out.append(r)
            }
        }
        return out
    }
}
