// Active next-class selection on a tree (the paper's Section 5; reference: active_learning/libs).
//
// The locus Π(Λ) of the observed classes Λ is the union of the shortest paths between them: the
// classes Loki can ever predict from a model trained on Λ. On a tree it is the smallest subtree
// that contains Λ (found by pruning leaves that are not in Λ). The next class to observe is the one
// farthest from the locus, max_y min_{v ∈ Π} d(y, v) (ties: the first class); observing it adds the
// path from it to the locus. The random baseline picks uniformly among the classes outside the locus.
// As in the reference, every node of the locus counts as covered, so selection ends when the locus
// holds every class.
import Foundation
import Runtime

public enum SelectionStrategy: String, CaseIterable, Sendable {
    case active, random
}

public struct SelectionStep: Equatable {
    /// The chosen class (index into the metric's classes).
    public var classIndex: Int
    /// Its distance to the locus before it was added.
    public var distance: Float
    /// Locus size afterwards: nodes of the tree, and classes among them.
    public var locusNodes: Int
    public var locusClasses: Int
}

public final class LocusSelector {
    public let tree: GraphMetric
    public private(set) var inLocus: [Bool]

    /// `observed`: class indices of the starting set Λ (at least one).
    public init(tree: GraphMetric, observed: [Int]) {
        // invariant: `loki select` reads the observed list with readClassList, which refuses an empty one.
        precondition(!observed.isEmpty, "LocusSelector: no observed classes")
        self.tree = tree
        let v = tree.nodeCount
        var terminal = [Bool](repeating: false, count: v)
        for c in observed { terminal[tree.classNodes[c]] = true }
        // Prune leaves that are not terminals until none is left: what remains spans the terminals.
        var degree = (0..<v).map { tree.degree($0) }
        var removed = [Bool](repeating: false, count: v)
        var queue = (0..<v).filter { !terminal[$0] && degree[$0] <= 1 }
        while let u = queue.popLast() {
            if removed[u] { continue }
            removed[u] = true
            for w in Set(tree.neighborsOf(u)).map({ Int($0) }) where !removed[w] {
                degree[w] -= 1
                if !terminal[w] && degree[w] <= 1 { queue.append(w) }
            }
        }
        inLocus = removed.map { !$0 }
    }

    public var locusNodeCount: Int { inLocus.reduce(0) { $0 + ($1 ? 1 : 0) } }
    public var locusClassCount: Int { tree.classNodes.reduce(0) { $0 + (inLocus[$1] ? 1 : 0) } }
    public var isComplete: Bool { tree.classNodes.allSatisfy { inLocus[$0] } }

    /// Distance from every node to the nearest locus node, and the next node on the way there.
    func distancesToLocus() -> (distance: [Float], toward: [Int]) {
        let v = tree.nodeCount
        var dist = [Float](repeating: .infinity, count: v), toward = [Int](repeating: -1, count: v)
        var heap = BinaryHeap()
        for u in 0..<v where inLocus[u] { dist[u] = 0; heap.push(0, u) }
        while let (d, u) = heap.pop() {
            if d > dist[u] { continue }
            for e in tree.offsets[u]..<tree.offsets[u + 1] {
                let w = Int(tree.neighbors[e]), nd = d + (tree.weights?[e] ?? 1)
                if nd < dist[w] { dist[w] = nd; toward[w] = u; heap.push(nd, w) }
            }
        }
        return (dist, toward)
    }

    /// Picks the next class (nil when the locus already holds every class) and adds it to the locus.
    public func next(_ strategy: SelectionStrategy, generator: RandomGenerator) -> SelectionStep? {
        let (dist, toward) = distancesToLocus()
        let outside = tree.classNodes.indices.filter { !inLocus[tree.classNodes[$0]] }
        guard !outside.isEmpty else { return nil }
        let pick: Int
        switch strategy {
        case .active:
            var best = outside[0]
            for c in outside where dist[tree.classNodes[c]] > dist[tree.classNodes[best]] { best = c }
            pick = best
        case .random:
            pick = outside[generator.nextInt(below: outside.count)]
        }
        var u = tree.classNodes[pick]
        while u >= 0 && !inLocus[u] { inLocus[u] = true; u = toward[u] }
        return SelectionStep(classIndex: pick, distance: dist[tree.classNodes[pick]], locusNodes: locusNodeCount,
                             locusClasses: locusClassCount)
    }

    /// Steps until the locus holds every class, or `limit` steps.
    public func run(_ strategy: SelectionStrategy, generator: RandomGenerator, limit: Int = .max) -> [SelectionStep] {
        var steps: [SelectionStep] = []
        while steps.count < limit, let s = next(strategy, generator: generator) { steps.append(s) }
        return steps
    }
}

/// A uniformly random labelled tree on n nodes (a random Prüfer sequence, as networkx's
/// random_tree draws it); edges between node numbers 0..<n.
public func randomTree(nodes n: Int, generator: RandomGenerator) -> [(Int, Int)] {
    precondition(n >= 1, "randomTree: at least one node")  // invariant: `loki synth tree` checks --nodes >= 1
    if n == 1 { return [] }
    if n == 2 { return [(0, 1)] }
    let prufer = (0..<(n - 2)).map { _ in generator.nextInt(below: n) }
    var degree = [Int](repeating: 1, count: n)
    for x in prufer { degree[x] += 1 }
    var edges: [(Int, Int)] = []
    var leaves = BinaryHeap()  // smallest leaf first
    for v in 0..<n where degree[v] == 1 { leaves.push(Float(v), v) }
    // invariant (the pops): a Prüfer sequence of n - 2 entries leaves a leaf for each entry and two at the end.
    for x in prufer {
        let (_, leaf) = leaves.pop()!
        edges.append((leaf, x))
        degree[x] -= 1
        if degree[x] == 1 { leaves.push(Float(x), x) }
    }
    let (_, a) = leaves.pop()!, (_, b) = leaves.pop()!
    edges.append((a, b))
    return edges
}
