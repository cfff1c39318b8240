// Tensor: a contiguous, row-major block of Float32 with a shape, and its place in the autograd graph.
//
// A tensor is a view of `count` floats starting at `offset` in a Storage. Views only arise where they
// are free: a slice along the leading axis, or a reshape, shares storage; everything else copies.
// Ops are small functions that return new tensors; only optimizers and explicit `*InPlace` helpers
// write into an existing one.
//
// Autograd: a tensor made by an op from inputs that require grad carries a `gradFn` (its inputs and
// the backward closure). `backward()` walks those nodes in reverse creation order (the tape).
import Foundation

public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: Storage
    public let offset: Int
    public let count: Int

    /// Leaves with `requiresGrad` collect gradients in `grad`; set it false to freeze a parameter.
    public var requiresGrad: Bool = false
    /// Accumulated gradient (same shape); nil until a backward pass reaches this tensor.
    public var grad: Tensor?
    /// How this tensor was made, when it was made under recording from inputs that require grad.
    public internal(set) var gradFn: GradFn?
    /// Forward mode: the directional derivative of this tensor along the chosen direction (set on
    /// inputs; ops compute it for their outputs, ForwardMode.swift).
    public var tangent: Tensor?

    // MARK: construction

    public init(shape: [Int], storage: Storage, offset: Int = 0) {
        let n = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + n <= storage.count,
                     "Tensor: view [\(offset), \(offset + n)) outside storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.offset = offset
        self.count = n
    }

    /// New tensor whose elements the caller will overwrite.
    public convenience init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: Storage(uninitializedCount: Tensor.elementCount(shape)))
    }

    public convenience init(shape: [Int], scalars: [Float]) {
        let n = Tensor.elementCount(shape)
        precondition(scalars.count == n, "Tensor: \(scalars.count) scalars for shape \(shape) (\(n) elements)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if n > 0 { data.update(from: src.baseAddress!, count: n) }
        }
    }

    /// A 1-D tensor.
    public convenience init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A rank-0 tensor holding one value.
    public convenience init(scalar: Float) {
        self.init(shape: [], scalars: [scalar])
    }

    public convenience init(shape: [Int], repeating value: Float) {
        self.init(uninitializedShape: shape)
        data.initialize(repeating: value, count: count)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    public static func zeros(like t: Tensor) -> Tensor { Tensor(shape: t.shape, repeating: 0) }
    public static func ones(like t: Tensor) -> Tensor { Tensor(shape: t.shape, repeating: 1) }

    /// 0, 1, ..., n-1 (as floats).
    public static func arange(_ n: Int) -> Tensor {
        let t = Tensor(uninitializedShape: [n])
        for i in 0..<n { t.data[i] = Float(i) }
        return t
    }

    /// Identity matrix [n, n].
    public static func eye(_ n: Int) -> Tensor {
        let t = Tensor.zeros([n, n])
        for i in 0..<n { t.data[i * n + i] = 1 }
        return t
    }

    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor: negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    // MARK: access

    public var rank: Int { shape.count }

    /// First element of this view. Valid while the tensor (or its storage) is alive; inside an op the
    /// tensors passed in as arguments stay alive for the whole call.
    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.base + offset }

    @inline(__always) public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    /// A copy of the elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The single value of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, not 1")
        return data[0]
    }

    /// Size of an axis (negative counts from the end).
    public func size(_ axis: Int) -> Int { shape[normalizeAxis(axis, rank: rank)] }

    /// Same values, cut off from the graph.
    public func detach() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    /// A fresh copy of the values (no graph).
    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        if count > 0 { t.data.update(from: data, count: count) }
        return t
    }

    /// Marks a leaf as trainable and returns it (for chaining at construction).
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Overwrites this tensor's values with `other`'s (same element count). Not recorded.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "Tensor.assign: \(other.shape) into \(shape)")
        if count > 0 { data.update(from: other.data, count: count) }
    }

    public func fill(_ value: Float) {
        data.update(repeating: value, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        let more = count > 8 ? ", ..." : ""
        let grad = gradFn.map { " grad_fn=\($0.name)" } ?? (requiresGrad ? " requires_grad" : "")
        return "Tensor(shape: \(shape), [\(shown)\(more)]\(grad))"
    }
}

/// Turns a possibly negative axis into 0..<rank, with a clear failure otherwise.
@inline(__always)
public func normalizeAxis(_ axis: Int, rank: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < max(rank, 1), "axis \(axis) out of range for rank \(rank)")
    return a
}
