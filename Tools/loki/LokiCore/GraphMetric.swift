// A graph metric: shortest-path distances over an undirected graph of named nodes (a tree such as
// CIFAR-100's superclasses or a WordNet subtree, or any connected graph), as the reference computes
// them with networkx (shortest_path_length; Dijkstra when edges carry weights).
//
// Adjacency is kept in compressed rows (CSR): node v's neighbours are neighbors[offsets[v]..<offsets[v+1]].
// A row of distances is one breadth-first search (unweighted) or one Dijkstra run (weighted) over
// all nodes: O(V + E), resp. O(E log V). Classes are a subset of the nodes (by default the leaves).
import Foundation
import Runtime

public final class GraphMetric: LabelMetric {
    public let nodeNames: [String]
    /// Class index → node index.
    public let classNodes: [Int]
    public let classes: [String]
    let offsets: [Int]
    let neighbors: [Int32]
    /// Edge weights aligned with `neighbors`; nil when every edge has length 1.
    let weights: [Float]?
    /// Node index → class index (-1 for nodes that are not classes).
    let classOfNode: [Int32]
    /// Rows computed for `distance(_:_:)` (evaluation asks for many pairs with few distinct sources).
    private var rowMemo: [Int: [Float]] = [:]
    private let memoLock = NSLock()

    /// edges: (a, b, weight) between node indices; nil weights mean length 1 throughout.
    public init(nodeNames: [String], edges: [(Int, Int, Float)], weighted: Bool, classNodes: [Int]) {
        self.nodeNames = nodeNames
        self.classNodes = classNodes
        self.classes = classNodes.map { nodeNames[$0] }
        let v = nodeNames.count
        var degree = [Int](repeating: 0, count: v + 1)
        for (a, b, _) in edges where a != b { degree[a] += 1; degree[b] += 1 }
        var offsets = [Int](repeating: 0, count: v + 1)
        for i in 0..<v { offsets[i + 1] = offsets[i] + degree[i] }
        var fill = offsets
        var neighbors = [Int32](repeating: 0, count: offsets[v])
        var w = [Float](repeating: 1, count: weighted ? offsets[v] : 0)
        for (a, b, wt) in edges where a != b {
            neighbors[fill[a]] = Int32(b); if weighted { w[fill[a]] = wt }; fill[a] += 1
            neighbors[fill[b]] = Int32(a); if weighted { w[fill[b]] = wt }; fill[b] += 1
        }
        self.offsets = offsets
        self.neighbors = neighbors
        self.weights = weighted ? w : nil
        var classOfNode = [Int32](repeating: -1, count: v)
        for (c, node) in classNodes.enumerated() { classOfNode[node] = Int32(c) }
        self.classOfNode = classOfNode
    }

    public var nodeCount: Int { nodeNames.count }
    public var edgeCount: Int { offsets[nodeCount] / 2 }

    /// Distinct neighbours of a node (a repeated edge counts once, as in networkx's simple Graph).
    public func degree(_ node: Int) -> Int { Set(neighbors[offsets[node]..<offsets[node + 1]]).count }

    public func neighborsOf(_ node: Int) -> ArraySlice<Int32> { neighbors[offsets[node]..<offsets[node + 1]] }

    /// Nodes of degree 1 (and an isolated single node), in node order: the reference's class leaves.
    public static func leaves(nodeCount: Int, edges: [(Int, Int, Float)]) -> [Int] {
        var adjacent = [Set<Int>](repeating: [], count: nodeCount)
        for (a, b, _) in edges where a != b { adjacent[a].insert(b); adjacent[b].insert(a) }
        return (0..<nodeCount).filter { adjacent[$0].count <= 1 }
    }

    /// Shortest-path distance from `source` to every node (infinity where unreachable).
    public func nodeDistances(from source: Int) -> [Float] {
        var dist = [Float](repeating: .infinity, count: nodeCount)
        dist[source] = 0
        if let weights {
            // Dijkstra with a binary heap of (distance, node); stale entries are skipped.
            var heap = BinaryHeap()
            heap.push(0, source)
            while let (d, u) = heap.pop() {
                if d > dist[u] { continue }
                for e in offsets[u]..<offsets[u + 1] {
                    let v = Int(neighbors[e]), nd = d + weights[e]
                    if nd < dist[v] { dist[v] = nd; heap.push(nd, v) }
                }
            }
        } else {
            var queue = [Int](repeating: 0, count: nodeCount)
            queue[0] = source
            var head = 0, tail = 1
            while head < tail {
                let u = queue[head]; head += 1
                let du = dist[u] + 1
                for e in offsets[u]..<offsets[u + 1] {
                    let v = Int(neighbors[e])
                    if dist[v] == .infinity { dist[v] = du; queue[tail] = v; tail += 1 }
                }
            }
        }
        return dist
    }

    public func distanceRow(_ i: Int) -> [Float] {
        let all = nodeDistances(from: classNodes[i])
        return classNodes.map { all[$0] }
    }

    public func distance(_ i: Int, _ j: Int) -> Float {
        if i == j { return 0 }
        memoLock.lock()
        if let row = rowMemo[i] { memoLock.unlock(); return row[j] }
        if let row = rowMemo[j] { memoLock.unlock(); return row[i] }
        memoLock.unlock()
        let row = distanceRow(i)
        memoLock.lock()
        if rowMemo.count * classes.count > 50_000_000 { rowMemo.removeAll() }  // at most ~200 MB of rows
        rowMemo[i] = row
        memoLock.unlock()
        return row[j]
    }

    public func squaredDistanceRows(_ rows: [Int]) -> Tensor { squaredDistanceRowsByRow(rows) }

    /// A class that some other class cannot reach, if any (the metric needs a connected label space).
    public func disconnectedPair() -> (String, String)? {
        guard let first = classNodes.first else { return nil }
        let d = nodeDistances(from: first)
        if let far = classNodes.first(where: { d[$0] == .infinity }) { return (nodeNames[first], nodeNames[far]) }
        return nil
    }

    /// Connected with V − 1 distinct edges: a tree.
    public var isTree: Bool {
        guard nodeCount > 0 else { return false }
        var distinct = 0
        for v in 0..<nodeCount { distinct += degree(v) }
        let d = nodeDistances(from: 0)
        return distinct / 2 == nodeCount - 1 && !d.contains(.infinity)
    }
}

/// A min-heap of (distance, node) for Dijkstra.
struct BinaryHeap {
    private var keys: [Float] = [], values: [Int] = []

    mutating func push(_ key: Float, _ value: Int) {
        keys.append(key); values.append(value)
        var i = keys.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if keys[p] <= keys[i] { break }
            keys.swapAt(p, i); values.swapAt(p, i); i = p
        }
    }

    mutating func pop() -> (Float, Int)? {
        guard let topKey = keys.first else { return nil }
        let top = (topKey, values[0])
        let last = keys.count - 1
        keys.swapAt(0, last); values.swapAt(0, last)
        keys.removeLast(); values.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < keys.count && keys[l] < keys[m] { m = l }
            if r < keys.count && keys[r] < keys[m] { m = r }
            if m == i { break }
            keys.swapAt(m, i); values.swapAt(m, i); i = m
        }
        return top
    }
}
