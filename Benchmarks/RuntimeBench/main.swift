// runtime-bench: the runtime's figures beside raw OpenBLAS and PyTorch, from one run at one thread count.
//
//   runtime-bench [--threads N] [--only matmul|mlp|jsonl]   (REFPYTHON=python with torch for the reference)
//
// Matmul GFLOP/s at transformer shapes (ours: `matmul`, which allocates its output and runs fixed-size
// tiles on the threads; raw: cblas_sgemm with OpenBLAS's own threading into a preallocated buffer;
// PyTorch: torch.mm), one Adam training step of an MLP
// (784-512-512-10, batch 256) against the same step in PyTorch, and the JSONL layer writing records
// with a 384-float embedding (our runner against Python's json.loads/json.dumps loop).
import CBLAS
import Foundation
import BenchSupport
import Runtime
import RuntimeCLI

let (threads, only) = benchArguments(program: "runtime-bench", sections: ["matmul", "mlp", "jsonl"])

referenceBanner(threads, "runtime-bench")
let ref = runReference("runtime_bench.py", [String(threads)])
let refMatmul = ref?["matmul"] as? [String: [String: Double]]
let rng = RandomGenerator(seed: 1)

if only == nil || only == "matmul" {
print("\nmatmul, GFLOP/s (higher is better)")
print("shape M×K×N        ours    raw sgemm  ours/raw   PyTorch  ours/PyTorch")

for (m, k, n) in [(64, 576, 1536), (512, 384, 1536), (2048, 2048, 2048)] {
    let a = rng.normal([m, k]), b = rng.normal([k, n])
    let c = Tensor(uninitializedShape: [m, n])
    let flop = 2.0 * Double(m * k * n)
    let ours = flop / timed { _ = withoutGrad { matmul(a, b) } } / 1e9
    // Raw OpenBLAS with its own threading at the same thread count (the runtime keeps it single-threaded).
    openblas_set_num_threads(Int32(threads))
    defer { openblas_set_num_threads(1) }
    let raw = flop / timed {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a.data, Int32(k),
                    b.data, Int32(n), 0, c.data, Int32(n))
    } / 1e9
    let key = "\(m)x\(k)x\(n)"
    let torch = refMatmul?[key]?["gflops"]
    print("\(key.padding(toLength: 17, withPad: " ", startingAt: 0)) \(fmt(ours).leftPad(6))  \(fmt(raw).leftPad(9))  "
          + "\(ratio(ours, raw).leftPad(8))  \(fmt(torch).leftPad(8))  \(ratio(ours, torch).leftPad(12))")
}

}

if only == nil || only == "mlp" {
print("\nMLP 784-512-512-10, batch 256, one Adam step (forward + backward + update), ms (lower is better)")
Initializer.seed(0)
let model = MLP([784, 512, 512, 10])
let opt = Adam(model.parameters(), lr: 1e-3)
let x = rng.normal([256, 784])
let y = (0..<256).map { $0 % 10 }
let stepMs = timed(minTime: 1.0) {
    let loss = crossEntropy(model(x), targets: y)
    opt.zeroGrad()
    loss.backward()
    opt.step()
} * 1e3
let torchMs = ref?["mlp_step_ms"] as? Double
print("ours \(fmt(stepMs, 2)) ms   PyTorch \(fmt(torchMs, 2)) ms   speed-up (PyTorch/ours) \(ratio(torchMs, stepMs))")
}

if only == nil || only == "jsonl" {
print("\nJSONL: read a record, add a 384-float embedding, write it (to /dev/null), records/s (higher is better)")
let n = 20000
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-bench-\(getpid())")
try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
let input = dir.appendingPathComponent("in.jsonl").path
try! (0..<n).map { "{\"id\":\($0),\"text\":\"sentence number \($0) of the benchmark\"}" }.joined(separator: "\n")
    .write(toFile: input, atomically: true, encoding: .utf8)
let vectors = (0..<64).map { _ in rng.normal([384]).scalars }
let null = open("/dev/null", O_WRONLY)
let seconds = timed(minTime: 1.0, reps: 3) {
    let runner = JSONLRunner(program: "bench", inputs: [input], output: null, error: null)
    _ = runner.forEach { r in try r.set("embedding", floats: vectors[try r.int("id") % 64]) }
}
close(null)
try? FileManager.default.removeItem(at: dir)
let ours = Double(n) / seconds
let py = ref?["jsonl_records_per_s"] as? Double
print("ours \(fmt(ours, 0))   Python json \(fmt(py, 0))   ours/Python \(ratio(ours, py))")
}
