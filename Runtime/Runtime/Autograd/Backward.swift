// Reverse-mode differentiation: walk the tape backwards from a result.
//
// The tape is the set of GradFn entries reachable from the result, replayed from the most recent to
// the oldest (creation order is a topological order). Gradients of intermediates live in a table for
// the duration of the walk; leaves that require grad accumulate into `.grad` (so several backward
// passes before an optimizer step add up). Unless `retainGraph`, the walk releases every
// intermediate's GradFn as it goes, which frees the activations it saved.

extension Tensor {
    /// Backpropagates from this tensor. `gradient` defaults to 1 for a one-element result.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape, "backward: gradient \(gradient.shape) for tensor \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward: tensor of shape \(shape) needs an explicit gradient")
            seed = Tensor(shape: shape, repeating: 1)
        }
        guard requiresGrad else { return }

        // Collect the reachable tape entries (iteratively: graphs can be thousands of ops deep).
        var nodes: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [Tensor] = [self]
        seen.insert(ObjectIdentifier(self))
        while let t = stack.popLast() {
            guard let fn = t.gradFn else { continue }
            nodes.append(t)
            for input in fn.inputs where input.requiresGrad && !seen.contains(ObjectIdentifier(input)) {
                seen.insert(ObjectIdentifier(input))
                stack.append(input)
            }
        }
        nodes.sort { $0.gradFn!.sequence > $1.gradFn!.sequence }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        if gradFn == nil { accumulateLeaf(self, seed); return }

        for t in nodes {
            let id = ObjectIdentifier(t)
            guard let g = grads.removeValue(forKey: id), let fn = t.gradFn else { continue }
            let inputGrads = withoutGrad { fn.backward(g) }
            precondition(inputGrads.count == fn.inputs.count, "backward of \(fn.name): wrong gradient count")
            for (input, ig) in zip(fn.inputs, inputGrads) {
                guard let ig, input.requiresGrad else { continue }
                precondition(ig.count == input.count,
                             "backward of \(fn.name): gradient \(ig.shape) for input \(input.shape)")
                let ig2 = ig.shape == input.shape ? ig : ig.reshaped(input.shape)
                if input.gradFn == nil {
                    accumulateLeaf(input, ig2)
                } else {
                    let key = ObjectIdentifier(input)
                    if let prev = grads[key] { grads[key] = add(prev, ig2) } else { grads[key] = ig2 }
                }
            }
            if !retainGraph {
                t.gradFn = nil
                t.requiresGrad = false
            }
        }
    }

    /// Leaf accumulation never writes into a tensor another op may still hold: it adds out of place.
    /// The first gradient is copied, so `.grad` never shares memory with the caller's seed or with
    /// another leaf's gradient (add's backward hands the same tensor to both operands): an in-place
    /// update of one `.grad` (clipping, an optimizer) must not change another.
    private func accumulateLeaf(_ leaf: Tensor, _ g: Tensor) {
        if let prev = leaf.grad {
            leaf.grad = withoutGrad { add(prev, g) }
        } else {
            leaf.grad = Tensor(shape: leaf.shape, storage: g.copy().storage)
        }
    }
}

/// Clears `.grad` on every tensor given (what `optimizer.zeroGrad()` does).
public func zeroGrad(_ tensors: [Tensor]) {
    for t in tensors { t.grad = nil }
}
