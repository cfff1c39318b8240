// A training checkpoint's tensors: the trained tensors by name, then the optimizer's state under
// "optimizer." (what a resumed run needs besides the step count).

/// A checkpoint that does not fit the run resuming from it.
public struct TrainingStateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The tensors to checkpoint: `trained` as named, the optimizer's state prefixed "optimizer.".
public func trainingState(_ trained: [(String, Tensor)], _ optimizer: Optimizer) -> [(String, Tensor)] {
    trained + optimizer.stateTensors().map { ("optimizer.\($0.0)", $0.1) }
}

/// Writes a checkpoint's tensors back into `trained` (every one must be there, with its shape, and
/// nothing else) and the optimizer's state into `optimizer`.
public func restoreTrainingState(_ tensors: [String: Tensor], trained: [(String, Tensor)], optimizer: Optimizer) throws {
    var own = Dictionary(uniqueKeysWithValues: trained)
    var state: [String: Tensor] = [:]
    for (k, v) in tensors {
        if k.hasPrefix("optimizer.") { state[String(k.dropFirst("optimizer.".count))] = v; continue }
        guard let t = own.removeValue(forKey: k) else { throw TrainingStateError("the checkpoint holds '\(k)', which this model does not train") }
        guard t.shape == v.shape else { throw TrainingStateError("'\(k)' has shape \(v.shape) in the checkpoint, \(t.shape) here") }
        t.assign(v)
    }
    if let missing = own.keys.sorted().first { throw TrainingStateError("the checkpoint lacks '\(missing)'") }
    try optimizer.loadState(state)
}
