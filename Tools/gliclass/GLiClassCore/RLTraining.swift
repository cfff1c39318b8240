// The reference's reinforcement-learning trainer (gliclass/training.py RLTrainer, train_rl.py), as
// `gliclass train --rl`: each label of each text is an action, drawn a ~ Bernoulli(σ(logit)); the reward
// of a text is the F1 of its drawn label set against the true one (utils.default_f1_reward); the
// baseline is the batch's mean reward; PPO's clipped objective over `iterations` updates per batch:
//
//   A_b = r_b − mean(r);   ratio = π(a)/π_old(a);   ℓ = −min(ratio·A, clip(ratio, 1 ± ε)·A)
//   loss = Σ ℓ (real label slots) / B  [+ focal/α weights]  [+ β_KL · mean k3-KL to the start model]
//          [+ β_H · mean entropy]
//
// What is fixed relative to the reference (training.py 697-984): actions are drawn once per batch and
// every PPO iteration scores the same actions against the policy that drew them (the reference redraws
// them each iteration, so its ratio compares different actions); padded label slots take no part (the
// reference counts them as correct negatives); the focal factor is (1 − p_t)^γ (the reference uses p_t^γ);
// the entropy and KL terms are off unless their coefficient is positive (the reference's default −1 is
// truthy and turns the entropy term into a bonus); the KL compares the start model's probability of the
// drawn action with the current one's (the reference compares P(label = 1) with the drawn action's
// log-probability). Not ported: the separate value model (a second transformer; the batch mean is the
// reference's own fallback) and reward components other than F1. As in the reference, the learning rate
// is constant (no schedule).
import Runtime

public struct RLOptions: Sendable, Equatable {
    public var clip: Float = 0.2
    public var iterations = 3
    public var klBeta: Float = -1
    public var entropyBeta: Float = -1
    /// Focal weights on the PPO loss (−1: none).
    public var alpha: Float = -1
    public var gamma: Float = -1
    public init() {}
}

/// F1 of a drawn label set against the true one (0 when either is empty).
func sampleF1(_ predicted: Set<Int>, _ truth: Set<Int>) -> Float {
    let hit = Float(predicted.intersection(truth).count)
    let p = predicted.isEmpty ? 0 : hit / Float(predicted.count), r = truth.isEmpty ? 0 : hit / Float(truth.count)
    return p + r > 0 ? 2 * p * r / (p + r) : 0
}

extension GLiClassTraining {
    /// One RL step: one batch, `iterations` PPO updates. Returns the last update's loss and the mean reward.
    func rlStep(_ rl: RLOptions) throws -> (loss: Float, reward: Float, norm: Float, items: Int) {
        let s = stepsDone
        let (ids, targets) = try prepare(s)
        let model = bundle.model
        let tokens = TokenBatch(ids, padId: model.backbone.descriptor.padId ?? 0)
        let k = model.config.labelSlots(targets.map(\.count))
        let b = ids.count
        var valid = [Float](repeating: 0, count: b * k), truth = [Float](repeating: 0, count: b * k)
        for r in 0..<b { for (j, t) in targets[r].enumerated() where j < k { valid[r * k + j] = 1; truth[r * k + j] = t >= 0.5 ? 1 : 0 } }
        let validT = Tensor(shape: [b, k], scalars: valid), truthT = Tensor(shape: [b, k], scalars: truth)
        var referenceLogits: Tensor? = nil
        if rl.klBeta > 0 {
            guard let start = referenceModel else { throw GLiClassError("the RL KL term needs the start model (referenceModel)") }
            start.eval()
            referenceLogits = withoutGrad { start(tokens, slots: k).logits }
        }
        var actions: Tensor? = nil, oldLogProb: Tensor? = nil, advantages: Tensor? = nil
        var last: (Float, Float, Float) = (0, 0, 0)
        model.train()
        for it in 0..<rl.iterations {
            model.seedDropout(seed: options.seed, step: s * 8 + it)   // iterations ≤ 8 (TrainCommand)
            let logits = model(tokens, slots: k).logits
            let p = sigmoid(logits)
            if actions == nil {
                // Draw once, from the policy before this batch's updates.
                let u = RandomGenerator(seed: options.seed, stream: 0xB0_0000_0000 | UInt64(s)).uniform([b, k])
                let a = Tensor(shape: [b, k], scalars: zip(u.scalars, p.scalars).map { $0 < $1 ? 1 : 0 })
                var rewards = [Float](repeating: 0, count: b)
                for r in 0..<b {
                    let drawn = Set((0..<k).filter { valid[r * k + $0] == 1 && a.scalars[r * k + $0] == 1 })
                    let gold = Set((0..<k).filter { valid[r * k + $0] == 1 && truth[r * k + $0] == 1 })
                    rewards[r] = sampleF1(drawn, gold)
                }
                let mean = rewards.reduce(0, +) / Float(b)
                advantages = Tensor(shape: [b, 1], scalars: rewards.map { $0 - mean })
                actions = a
                last.1 = mean
            }
            let a = actions!, adv = advantages!   // invariant: set on the first iteration above
            let logProb = a * log(p + 1e-8) + (1 - a) * log(1 - p + 1e-8)
            let old = oldLogProb ?? logProb.detach()   // the policy that drew the actions
            oldLogProb = old
            let ratio = exp(logProb - old)
            var elements = -minimum(ratio * adv, clamp(ratio, min: 1 - rl.clip, max: 1 + rl.clip) * adv) * validT
            if rl.gamma > 0 {
                let pt = p * truthT + (1 - p) * (1 - truthT)
                elements = elements * pow(clamp(1 - pt, min: 0), rl.gamma)
            }
            if rl.alpha >= 0 { elements = elements * (rl.alpha * truthT + (1 - rl.alpha) * (1 - truthT)) }
            let count = Float(Swift.max(1, valid.reduce(0, +)))
            var loss = elements.sum() / Float(b)
            if let ref = referenceLogits {
                let pr = sigmoid(ref)
                let refLogProb = a * log(pr + 1e-8) + (1 - a) * log(1 - pr + 1e-8)
                let d = refLogProb - logProb
                loss = loss + rl.klBeta * ((exp(d) - d - 1) * validT).sum() / count
            }
            if rl.entropyBeta > 0 {
                let h = -(p * log(p + 1e-8) + (1 - p) * log(1 - p + 1e-8))
                loss = loss + rl.entropyBeta * (h * validT).sum() / count
            }
            do { (last.0, last.2) = try optimizer.update(loss, maxGradNorm: options.maxGradNorm) } catch {
                throw GLiClassError("RL step \(s + 1): \(error)")
            }
        }
        return (last.0, last.1, last.2, b)
    }
}
