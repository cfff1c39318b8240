// GradFn: one entry of the autograd tape, and the switch that turns recording off.
//
// An op that produces `out` from `inputs` calls `record(out, "name", inputs) { gOut in [gIn...] }`.
// When recording is on and some input requires grad, `out` gets a GradFn holding the inputs and the
// backward closure; otherwise nothing is stored, so inference costs nothing extra. The closure maps
// the gradient of `out` to one gradient per input (nil for inputs that need none) and must not
// capture `out` itself (that would be a cycle): capture `out.detach()` if the backward needs it.

public final class GradFn {
    public let name: String
    public private(set) var inputs: [Tensor]
    private(set) var backward: (Tensor) -> [Tensor?]
    /// Position on the tape: later ops have larger numbers; backward runs them from large to small.
    let sequence: Int

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
        Autograd.nextSequence &+= 1
        self.sequence = Autograd.nextSequence
    }

    /// Freeing a graph would otherwise recurse once per op (tensor → GradFn → input → GradFn → ...) and
    /// overflow the stack on a chain of ~100k ops. Instead the dying GradFn takes over the GradFns of its
    /// inputs before dropping them, and dismantles those that only it still holds in a loop.
    deinit {
        var pending: [GradFn] = []
        dismantle(into: &pending)
        while var fn = pending.popLast() {
            if isKnownUniquelyReferenced(&fn) { fn.dismantle(into: &pending) }
            // fn is released here; dismantled, its own deinit has nothing left to walk.
        }
    }

    /// Moves the inputs' GradFns into `pending`, then drops the inputs (and the closure capturing them).
    private func dismantle(into pending: inout [GradFn]) {
        for t in inputs { if let fn = t.gradFn { pending.append(fn) } }
        inputs = []
        backward = { _ in [] }
    }
}

public enum Autograd {
    /// Whether ops record the graph. Set by `withoutGrad` on the thread that drives a model.
    public nonisolated(unsafe) static var isRecording = true
    nonisolated(unsafe) static var nextSequence = 0
}

/// Runs `body` with recording off (inference): no GradFn is made, nothing is kept for backward.
@inlinable
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    let saved = Autograd.isRecording
    Autograd.isRecording = false
    defer { Autograd.isRecording = saved }
    return try body()
}

/// Runs `body` with recording on (inside an outer `withoutGrad`, for example).
@inlinable
public func withGrad<T>(_ body: () throws -> T) rethrows -> T {
    let saved = Autograd.isRecording
    Autograd.isRecording = true
    defer { Autograd.isRecording = saved }
    return try body()
}

/// Attaches a backward to `out` when recording is on and any input requires grad; returns `out`.
@inline(__always)
@discardableResult
func record(_ out: Tensor, _ name: String, _ inputs: [Tensor],
            _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    guard Autograd.isRecording, inputs.contains(where: { $0.requiresGrad }) else { return out }
    out.requiresGrad = true
    out.gradFn = GradFn(name: name, inputs: inputs, backward: backward)
    return out
}

/// Whether an op's output will be recorded (lets an op skip saving things for backward).
@inline(__always)
func willRecord(_ inputs: Tensor...) -> Bool {
    Autograd.isRecording && inputs.contains(where: { $0.requiresGrad })
}
