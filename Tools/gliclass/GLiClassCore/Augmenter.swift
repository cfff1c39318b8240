// Training-time augmentation, as the reference's DataAugmenter (data_processing.py, gliclass 0.1.21),
// applied to each item every time it is drawn, in this order, each with its own probability:
//
//   remove labels   keep a random k ∈ [1, n] of the item's labels (true labels outside them dropped)
//   add labels      add k ∈ [1, min(n + 1, pool)] labels drawn from every label of the training set
//   add text        glue another item's text before or after this one when their label sets are disjoint
//   examples        1–2 few-shot examples from the first `maxExamples` (shuffled) items sharing a true label
//
// then the labels are shuffled. Three of the reference's mistakes are not copied: added labels that the
// item already has are not added twice (the reference can list a label twice, one copy true and one
// false); an item is never its own few-shot example (the reference searches the whole set, itself
// included, so the answer is in the prompt); examples take the other item's true labels, as there.
// Synonym and description augmentation need a label → {synonyms, descriptions} file the reference
// loads separately; they are not ported (their default probabilities are 0.05 each).
// Every draw comes from a generator seeded by (seed, step, slot): a resumed run augments alike.
import Runtime

public struct AugmentOptions: Sendable, Equatable {
    public var removal: Float = 0.05
    public var addition: Float = 0.05
    public var text: Float = 0.05
    public var examples: Float = 0.1
    public var maxExamples = 5
    public var shuffleLabels = true
    public init() {}
    /// No augmentation at all (labels keep their order).
    public static let none: AugmentOptions = {
        var o = AugmentOptions()
        (o.removal, o.addition, o.text, o.examples, o.shuffleLabels) = (0, 0, 0, 0, false)
        return o
    }()
}

public struct Augmenter {
    public let options: AugmentOptions
    let items: [TrainingItem]
    /// Every label of the training set, sorted (the reference's self.labels).
    let pool: [String]
    /// label → the items having it as a true label.
    let byTrueLabel: [String: [Int]]

    public init(items: [TrainingItem], options: AugmentOptions) {
        self.items = items
        self.options = options
        var all = Set<String>()
        var by: [String: [Int]] = [:]
        for (i, it) in items.enumerated() {
            all.formUnion(it.allLabels)
            for l in it.trueOrder { by[l, default: []].append(i) }
        }
        pool = all.sorted()
        byTrueLabel = by
    }

    /// Item `index`, augmented with draws from `g`.
    public func augment(_ index: Int, _ g: RandomGenerator) -> TrainingItem {
        var item = items[index]
        func chance(_ p: Float) -> Bool { p > 0 && Float(g.nextWord() >> 8) / Float(1 << 24) < p }
        if chance(options.removal), item.allLabels.count > 1 {
            let k = 1 + g.nextInt(below: item.allLabels.count)
            let kept = Array(g.permutation(item.allLabels.count).prefix(k)).sorted().map { item.allLabels[$0] }
            item.allLabels = kept
            let keep = Set(kept)
            item.trueOrder = item.trueOrder.filter(keep.contains)
            item.trueLabels = item.trueLabels.filter { keep.contains($0.key) }
        }
        if chance(options.addition), !pool.isEmpty {
            let k = 1 + g.nextInt(below: Swift.min(item.allLabels.count + 1, pool.count))
            let have = Set(item.allLabels)
            for j in g.permutation(pool.count).prefix(k) where !have.contains(pool[j]) { item.allLabels.append(pool[j]) }
        }
        if chance(options.text), items.count > 1 {
            let other = items[g.nextInt(below: items.count)]
            if Set(other.allLabels).isDisjoint(with: item.allLabels) {
                item.text = g.nextInt(below: 2) == 1 ? other.text + " " + item.text : item.text + " " + other.text
            }
        }
        if chance(options.examples), item.examples.isEmpty, options.maxExamples > 0 {
            var candidates = Set<Int>()
            for l in item.allLabels { candidates.formUnion(byTrueLabel[l] ?? []) }
            candidates.remove(index)
            var list = candidates.sorted()
            g.shuffle(&list)
            let top = Array(list.prefix(options.maxExamples))
            if !top.isEmpty {
                let n = 1 + g.nextInt(below: Swift.min(2, top.count))
                item.examples = g.permutation(top.count).prefix(n).map { FewShotExample(text: items[top[$0]].text, labels: items[top[$0]].trueOrder) }
            }
        }
        if options.shuffleLabels { g.shuffle(&item.allLabels) }
        return item
    }
}
