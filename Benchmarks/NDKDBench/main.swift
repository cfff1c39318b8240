// nd-kd-bench: training speed of nd-kd's image classifiers against PyTorch on the same architecture,
// batch and threads.
//
//   nd-kd-bench [--threads N]   (REFPYTHON=python with torch; `make refenv`)
//
// Three training steps as nd-kd runs them, on a batch of 128 random 1×28×28 images (the same values on
// both sides) and random labels: the teacher (fmnist-teacher, cnn 32-M-64-M-128-128) with cross-entropy,
// the student (fmnist-student, cnn 16-M-32-M-64) with cross-entropy, and the student with KD++ (the
// teacher's forward pass in eval mode without gradient, KD at T 4, ND through the 64 → 128 projector).
// SGD with Nesterov momentum and weight decay, BatchNorm in training mode. Images per second over 8
// steps after 2 warm-up steps; the process's peak memory after all of them (each side in its own process).
import Foundation
import BenchSupport
import NDKDCore
import Runtime

let (threads, _) = benchArguments(program: "nd-kd-bench", sections: [])
referenceBanner(threads, "nd-kd-bench")
let (batch, warmUp, timed) = (128, 2, 8)
let g = RandomGenerator(seed: 7)
let images = g.normal([batch, 1, 28, 28])
let labels = (0..<batch).map { ($0 * 7 + 3) % 10 }
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("nd-kd-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }
try JSONSerialization.data(withJSONObject: ["images": images.scalars.map(Double.init), "labels": labels, "batch": batch, "warm_up": warmUp, "timed": timed])
    .write(to: URL(fileURLWithPath: tmp + "/data.json"))

/// Images per second of `timed` steps of `loss` on `net` after `warmUp` steps.
func speed(_ net: ImageClassifier, extra: [Tensor] = [], _ loss: (Tensor, Tensor) -> Tensor) -> Double {
    let sgd = SGD([ParameterGroup(net.parameters() + extra, lr: 0.01, weightDecay: 5e-4)], momentum: 0.9, nesterov: true)
    func step() {
        net.train()
        let (e, z) = net.forward(images)
        let l = loss(e, z)
        sgd.zeroGrad()
        l.backward()
        sgd.step()
    }
    for _ in 0..<warmUp { step() }
    return Double(batch * timed) / once { for _ in 0..<timed { step() } }
}

let teacher = ImageClassifier(try NetSpec.parse("fmnist-teacher"), inChannels: 1, classes: 10, generator: g)
let student = ImageClassifier(try NetSpec.parse("fmnist-student"), inChannels: 1, classes: 10, generator: g)
let ourTeacher = speed(teacher) { _, z in crossEntropy(z, targets: labels) }
let ourStudent = speed(student) { _, z in crossEntropy(z, targets: labels) }
teacher.eval()
let projector = Projector(from: 64, to: 128, generator: g)
let directions = classDirections(g.normal([10, 128]))
let ourKD = speed(student, extra: projector.parameters()) { e, z in
    let (te, tz) = withoutGrad { teacher.forward(images) }
    projector.train()
    return crossEntropy(z, targets: labels) + distillationKL(student: z, teacher: tz, temperature: 4)
        + normDirectionLoss(student: projector(e), teacher: te, directions: directions, targets: labels)
}
let ourPeak = peakRSSMegabytes()

let ref = runReference("nd_kd_bench.py", [String(threads), tmp + "/data.json"])
print("\nnd-kd training steps, batch \(batch) of 1×28×28, SGD (Nesterov, weight decay), BatchNorm in training mode; images/s over \(timed) steps after \(warmUp)")
print("reference: torch \((ref?["torch"] as? String) ?? "-")")
print("".rightPad(44) + "ours".leftPad(10) + "PyTorch".leftPad(12) + "ratio".leftPad(8))
for (name, ours, key) in [("teacher cnn 32-M-64-M-128-128, CE", ourTeacher, "teacher"), ("student cnn 16-M-32-M-64, CE", ourStudent, "student"),
                          ("student KD++ (teacher fwd, KD, ND, projector)", ourKD, "kdpp")] {
    let theirs = ref?[key] as? Double
    print(name.rightPad(44) + fmt(ours, 0).leftPad(10) + fmt(theirs, 0).leftPad(12) + ratio(ours, theirs).leftPad(8))
}
let rm = ref?["peak_mb"] as? Double
print("peak memory, MB".rightPad(44) + fmt(ourPeak, 0).leftPad(10) + fmt(rm, 0).leftPad(12) + ratio(rm, ourPeak).leftPad(8) + "  (their MB / ours)")
