// Relative-position buckets of the encoders that use them, computed in Float32 as the reference
// does (the bucket edges depend on that rounding; a fixture checks every entry against transformers).
//
//   MPNet (T5-style, num_buckets 32, max_distance 128): n = −(j − i); half the buckets for each sign;
//     |n| < 8 exact, else 8 + ⌊log(|n|/8) / log(128/8) · 8⌋, capped at 15.
//   DeBERTa-v2 log buckets (bucket_size S, max_position M): r = i − j; |r| < S/2 kept, else
//     sign(r)·(⌈log(|r|/(S/2)) / log((M−1)/(S/2)) · (S/2 − 1)⌉ + S/2).
import Foundation

/// MPNetEncoder.relative_position_bucket for relative position `relative` = key − query.
public func mpnetBucket(_ relative: Int, buckets: Int = 32, maxDistance: Int = 128) -> Int {
    let half = buckets / 2
    let n = -relative
    var ret = n < 0 ? half : 0
    let a = abs(n)
    let maxExact = half / 2
    if a < maxExact { return ret + a }
    // torch: log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact), in float32.
    let l = logf(Float(a) / Float(maxExact)) / Float(log(Double(maxDistance) / Double(maxExact))) * Float(half - maxExact)
    ret += min(maxExact + Int(l), half - 1)
    return ret
}

/// DeBERTa-v2's make_log_bucket_position for relative position `relative` = query − key.
public func debertaLogBucket(_ relative: Int, bucketSize: Int, maxPosition: Int) -> Int {
    let mid = bucketSize / 2
    if relative < mid && relative > -mid { return relative }
    let a = abs(relative)
    if a <= mid { return relative }
    // torch: ceil(log(abs_pos / mid) / log(tensor((max_position - 1) / mid)) * (mid - 1)) + mid, in float32.
    let denominator = logf(Float(Double(maxPosition - 1) / Double(mid)))
    let logPos = ceilf(logf(Float(a) / Float(mid)) / denominator * Float(mid - 1)) + Float(mid)
    return relative > 0 ? Int(logPos) : -Int(logPos)
}
