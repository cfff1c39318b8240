// The parameter-efficient schemes' inputs, for any backbone: prompt tuning (P learned virtual token
// embeddings in front of every sequence) and prefix tuning (P learned keys/values per layer, seen by
// every token as P earlier tokens would be).
import Runtime

/// The backbone input for a batch under a scheme: plain ids (full, LoRA), virtual tokens + token
/// embeddings (prompt), or ids with the per-layer prefix (prefix).
func schemeInput(_ batch: TokenBatch, scheme: Scheme, prompt: Tensor?, prefixKeys: [Tensor], prefixValues: [Tensor],
                 model: any Backbone) -> BackboneInput {
    let (b, t) = (batch.batch, batch.length)
    switch scheme {
    case .prompt:
        let virtual = resolved(prompt!)
        let p = virtual.shape[0]
        let embeds = concat([virtual.unsqueezed(0).broadcasted(to: [b, p, virtual.shape[1]]),
                             model.tokenEmbeddings(batch.ids, shape: [b, t])], axis: 1)
        let types = (0..<b).flatMap { r in [Int](repeating: 0, count: p) + batch.typeIds[(r * t)..<((r + 1) * t)] }
        return BackboneInput(inputsEmbeds: embeds, padding: batch.mask.map { [Bool](repeating: true, count: p) + $0 }, typeIds: types)
    case .prefix:
        var input = BackboneInput(batch)
        input.prefix = zip(prefixKeys, prefixValues).map { LayerKeyValues(keys: $0, values: $1) }
        return input
    case .full, .lora:
        return BackboneInput(batch)
    }
}

/// MeZO's init_by_real_act: the keys and values [P, Hkv, D] each layer computes for P random tokens.
func initialPrefix(_ model: any Backbone, tokens p: Int, rng: RandomGenerator) -> (keys: [Tensor], values: [Tensor]) {
    let ids = (0..<p).map { _ in rng.nextInt(below: model.descriptor.vocabSize) }
    var input = BackboneInput(ids: ids, batch: 1, length: p)
    input.outputKeyValues = true
    let kv = withoutGrad { model(input).keyValues }
    return (kv.map { $0.keys[0].copy().requiringGrad() }, kv.map { $0.values[0].copy().requiringGrad() })
}
