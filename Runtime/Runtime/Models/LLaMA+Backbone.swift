// The LLaMA family behind the Backbone face: causal by default (bidirectional on request, as
// LS-unLLaMA wants), prefix keys/values as P earlier tokens, the LM head (tied or not).

extension LLaMAModel: Backbone {
    public var descriptor: BackboneDescriptor {
        let c = config
        return BackboneDescriptor(modelType: c.modelType, kind: .decoder, vocabSize: c.vocabSize, hiddenSize: c.hiddenSize,
                                  embeddingSize: c.hiddenSize, layers: c.numHiddenLayers, heads: c.numAttentionHeads,
                                  kvHeads: c.numKeyValueHeads, headDim: c.headDim, maxPositions: c.maxPositionEmbeddings, padId: nil, attentionProjections: ["q_proj", "v_proj"])
    }

    public var tokenEmbeddings: Embedding { model.embedTokens }

    public func callAsFunction(_ input: BackboneInput) -> BackboneOutput {
        decode(ids: input.ids, inputsEmbeds: input.inputsEmbeds, batch: input.batch, keyPadding: input.padding,
               causal: input.causal ?? true, prefix: input.prefix, hiddenStates: input.outputHiddenStates,
               keyValues: input.outputKeyValues, bidirectionalFrom: input.bidirectionalFrom)
    }

    public var hasLMHead: Bool { true }

    /// Vocabulary logits: lm_head, or embed_tokensᵀ when tied.
    public func lmLogits(_ hidden: Tensor) -> Tensor {
        lmHead.map { $0(hidden) } ?? model.embedTokens.project(hidden)
    }

    public func lmLogits(_ hidden: Tensor, rows: [Int]) -> Tensor {
        matmul(hidden, lmHead?.weightRows(rows) ?? model.embedTokens.rows(rows), transposeB: true)
    }
}
