// Learning-rate schedules as multipliers of each group's base rate (PyTorch's LambdaLR view):
// constant, linear warm-up then linear decay and cosine with warm-up (Hugging Face's
// get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup), step, multistep, exponential.
import Foundation

public enum LRSchedule: Sendable, Equatable {
    case constant
    /// t/warmup during warm-up, then linearly down to 0 at `total`.
    case linear(warmup: Int, total: Int)
    /// t/warmup during warm-up, then 0.5·(1 + cos(π·2·cycles·progress)), floored at 0.
    case cosine(warmup: Int, total: Int, cycles: Double = 0.5)
    /// γ^⌊t/size⌋ (StepLR).
    case step(size: Int, gamma: Double)
    /// γ^(number of milestones ≤ t) (MultiStepLR).
    case multistep(milestones: [Int], gamma: Double)
    /// γ^t (ExponentialLR).
    case exponential(gamma: Double)
    /// torch's OneCycleLR (two phases, cosine annealing, cycle_momentum off), as a multiple of max_lr:
    /// from 1/div up to 1 over the first pctStart·total − 1 steps, then down to 1/(div·finalDiv) at
    /// step total − 1 (held there after).
    case oneCycle(total: Int, pctStart: Double = 0.3, div: Double = 25, finalDiv: Double = 1e4)

    /// The multiplier at step t (0-based: the rate used for the (t+1)-th update).
    public func factor(at t: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case let .linear(warmup, total):
            if t < warmup { return Float(t) / Float(max(1, warmup)) }
            return Float(max(0, Double(total - t) / Double(max(1, total - warmup))))
        case let .cosine(warmup, total, cycles):
            if t < warmup { return Float(t) / Float(max(1, warmup)) }
            let progress = Double(t - warmup) / Double(max(1, total - warmup))
            return Float(max(0, 0.5 * (1 + cos(Double.pi * 2 * cycles * progress))))
        case let .step(size, gamma):
            return Float(pow(gamma, Double(t / max(1, size))))
        case let .multistep(milestones, gamma):
            return Float(pow(gamma, Double(milestones.filter { $0 <= t }.count)))
        case let .exponential(gamma):
            return Float(pow(gamma, Double(t)))
        case let .oneCycle(total, pctStart, div, finalDiv):
            let initial = 1 / div, minimum = initial / finalDiv
            let up = pctStart * Double(total) - 1, end = Double(total) - 1
            func anneal(_ a: Double, _ b: Double, _ pct: Double) -> Double { b + (a - b) / 2 * (cos(Double.pi * pct) + 1) }
            let s = Double(min(t, max(total - 1, 0)))
            if s <= up { return Float(anneal(initial, 1, up > 0 ? s / up : 1)) }
            return Float(anneal(1, minimum, end > up ? (s - up) / (end - up) : 1))
        }
    }

    /// Parses "constant", "linear", "cosine", "step:SIZE:GAMMA", "multistep:M1,M2:GAMMA",
    /// "exponential:GAMMA" (warm-up and total steps come from the caller's flags).
    public static func parse(_ text: String, warmup: Int, total: Int) -> LRSchedule? {
        let parts = text.split(separator: ":").map(String.init)
        switch parts.first?.lowercased() {
        case "constant": return parts.count == 1 ? .constant : nil
        case "linear": return parts.count == 1 ? .linear(warmup: warmup, total: total) : nil
        case "cosine": return parts.count == 1 ? .cosine(warmup: warmup, total: total) : nil
        case "step":
            guard parts.count == 3, let s = Int(parts[1]), let g = Double(parts[2]) else { return nil }
            return .step(size: s, gamma: g)
        case "multistep":
            guard parts.count == 3, let g = Double(parts[2]) else { return nil }
            let ms = parts[1].split(separator: ",").compactMap { Int($0) }
            return .multistep(milestones: ms, gamma: g)
        case "exponential":
            guard parts.count == 2, let g = Double(parts[1]) else { return nil }
            return .exponential(gamma: g)
        default: return nil
        }
    }
}

/// Sets every group's lr from its base rate and the schedule; call `step()` after each optimizer step.
public final class LRScheduler {
    public let optimizer: Optimizer
    public let schedule: LRSchedule
    public private(set) var t = 0

    public init(_ optimizer: Optimizer, _ schedule: LRSchedule) {
        self.optimizer = optimizer
        self.schedule = schedule
        apply()
    }

    public func step() {
        t += 1
        apply()
    }

    private func apply() {
        let f = schedule.factor(at: t)
        for i in optimizer.groups.indices { optimizer.groups[i].lr = optimizer.groups[i].baseLR * f }
    }

    /// The rate of the first group now.
    public var currentLR: Float { optimizer.groups.first?.lr ?? 0 }
}
