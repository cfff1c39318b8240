// nd-kd's pieces: architectures (shapes, parameter counts, the reference's initialization), IDX
// reading (plain and gzip, bad files), augmentation views, the warm-up and rate schedules, the
// projector used only for ND, and teacher caching giving the same step as the online teacher.
import Foundation
import XCTest
import ToolTestSupport
@testable import NDKDCore
@testable import Runtime

private func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float, _ what: String, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, line: line)
    for (x, y) in zip(a, b) where abs(x - y) > atol + rtol * abs(y) { XCTFail("\(what): \(x) vs \(y)", line: line); return }
}

final class NDKDCoreTests: XCTestCase {
    let fmnist = Repo.path("data/fashion-mnist")

    func testArchitecturesParseAndMatchTheReferenceShapes() throws {
        XCTAssertEqual(try NetSpec.parse("fmnist-teacher"), .cnn([32, nil, 64, nil, 128, 128]))
        XCTAssertEqual(try NetSpec.parse("resnet20"), .resnet(blocks: 3, widths: [16, 16, 32, 64]))
        XCTAssertEqual(try NetSpec.parse("resnet:1:32,64,128,256").description, "resnet:1:32,64,128,256")
        for bad in ["cnn:", "cnn:M", "cnn:0", "resnet:3:16,16", "resnet:0:1,2,3,4", "vgg", "cnn:32:5"] {
            XCTAssertThrowsError(try NetSpec.parse(bad), bad)
        }
        let g = RandomGenerator(seed: 1)
        // Parameter counts of the reference's resnet20 (0.27M) and resnet8x4 (1.23M) with 100 classes, 3 channels.
        XCTAssertEqual(ImageClassifier(try NetSpec.parse("resnet20"), inChannels: 3, classes: 100, generator: g).parameterCount(), 278_324)
        XCTAssertEqual(ImageClassifier(try NetSpec.parse("resnet8x4"), inChannels: 3, classes: 100, generator: g).parameterCount(), 1_233_540)
        let t = ImageClassifier(try NetSpec.parse("fmnist-teacher"), inChannels: 1, classes: 10, generator: g)
        XCTAssertEqual(t.parameterCount(), 241_898)
        let (e, z) = withoutGrad { t.forward(Tensor.zeros([2, 1, 28, 28])) }
        XCTAssertEqual(e.shape, [2, 128])
        XCTAssertEqual(z.shape, [2, 10])
        let r = ImageClassifier(try NetSpec.parse("resnet8"), inChannels: 1, classes: 10, generator: g)
        XCTAssertEqual(withoutGrad { r.forward(Tensor.zeros([1, 1, 32, 32])) }.embedding.shape, [1, 64])
        // Names a PyTorch state dict would have (downsample.0/.1 where the shape changes).
        let names = Set(r.namedState().map(\.0))
        XCTAssertTrue(names.contains("blocks.1.downsample.0.weight") && names.contains("blocks.1.downsample.1.running_var"), "\(names.sorted())")
        // kaiming_normal(fan_out): std √(2/(O·9)) for the first conv of the teacher (32 outputs).
        let w = t.convs[0].weight.scalars
        let std = (w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(std, (2 / Float(32 * 9)).squareRoot(), accuracy: 0.015)
    }

    func testIDXReadsGzipAndPlainAndRejectsBadFiles() throws {
        let set = try ImageSet.idxDirectory(fmnist, split: "train")
        XCTAssertEqual(set.count, 600)
        XCTAssertEqual(set.shape, [1, 28, 28])
        XCTAssertEqual(Array(set.labels.prefix(10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5], "Fashion-MNIST's first training labels")
        XCTAssertEqual(try ImageSet.idxDirectory(fmnist, split: "test").count, 200)
        let dir = try temporaryDirectory("idx")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain: [UInt8] = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]
        try Data(plain).write(to: URL(fileURLWithPath: dir + "/a"))
        XCTAssertEqual(try IDXArray(contentsOf: dir + "/a"), IDXArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        for (bytes, why) in [([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1], "cut short"), ([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], "float type"),
                             ([1, 2, 3], "not IDX"), ([0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "huge")] as [([UInt8], String)] {
            XCTAssertThrowsError(try IDXArray(bytes: bytes), why)
        }
        // A truncated gzip file is an error, not a shorter array.
        let gz = try Data(contentsOf: URL(fileURLWithPath: fmnist + "/t10k-images-idx3-ubyte.gz"))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
        XCTAssertThrowsError(try IDXArray(contentsOf: dir + "/cut.gz"))
    }

    func testAugmentationViews() {
        let a = Augmentation(padding: 2, flip: true)
        var flips = 0, offsets = Set<Int>()
        for i in 0..<400 {
            let v = a.draw(seed: 3, epoch: 1, index: i)
            XCTAssertEqual(v, a.draw(seed: 3, epoch: 1, index: i), "a view is a function of (seed, epoch, index)")
            XCTAssertTrue((0...4).contains(v.dy) && (0...4).contains(v.dx))
            if v.flipped { flips += 1 }
            offsets.insert(v.dy)
        }
        XCTAssertEqual(offsets, [0, 1, 2, 3, 4])
        XCTAssertTrue((150...250).contains(flips), "\(flips) flips of 400")
        // The crop shifts and the flip mirrors: a 1×3×3 image, padding 1.
        let set = ImageSet(images: Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9]), labels: [0])
        let same = makeBatch(set, [0], views: [View(dy: 1, dx: 1, flipped: false)], padding: 1, mean: [0], std: [1])
        XCTAssertEqual(same.scalars, [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let shifted = makeBatch(set, [0], views: [View(dy: 0, dx: 2, flipped: false)], padding: 1, mean: [0], std: [1])
        XCTAssertEqual(shifted.scalars, [0, 0, 0, 2, 3, 0, 5, 6, 0])
        let flipped = makeBatch(set, [0], views: [View(dy: 1, dx: 1, flipped: true)], padding: 1, mean: [1], std: [2])
        XCTAssertEqual(flipped.scalars, [1, 0.5, 0, 2.5, 2, 1.5, 4, 3.5, 3])
    }

    func testWarmUpAndRateSchedules() {
        var o = TrainOptions()
        o.warmUp = 5
        XCTAssertEqual((1...7).map { o.warmFactor(epoch: $0) }, [0.2, 0.4, 0.6, 0.8, 1, 1, 1])
        o.referenceWarmup = true
        XCTAssertEqual(o.warmFactor(epoch: 1), 0, "the reference's 0-based epochs: no KD in the first epoch")
        XCTAssertEqual(o.warmFactor(epoch: 6), 1)
        o.milestones = [150, 180, 210]
        XCTAssertEqual(o.lrFactor(epoch: 150), 1)
        XCTAssertEqual(o.lrFactor(epoch: 151), 0.1, accuracy: 1e-7)
        XCTAssertEqual(o.lrFactor(epoch: 240), 0.001, accuracy: 1e-9)
    }

    /// A student of another width gets a projector for ND only; caching the teacher's two views gives the
    /// same step as running the teacher on each batch.
    func testProjectorAndTeacherCache() throws {
        let set = try ImageSet.idxDirectory(fmnist, split: "train").subset(Array(0..<64))
        let (mean, std) = set.channelStatistics()
        let teacher = ImageClassifier(try NetSpec.parse("fmnist-teacher"), inChannels: 1, classes: 10, generator: RandomGenerator(seed: 2))
        let means = classDirections(Tensor.ones([10, 128]))
        var o = TrainOptions()
        (o.loss, o.batch, o.epochs, o.augmentation) = (.kdpp, 16, 1, Augmentation(padding: 0, flip: true))
        func trainer(cached: Bool) throws -> Trainer {
            let s = ImageClassifier(try NetSpec.parse("fmnist-student"), inChannels: 1, classes: 10, generator: RandomGenerator(seed: 5))
            let t = try Trainer(net: s, data: set, mean: mean, std: std, options: o, teacher: teacher, classMeans: means)
            if !cached { t.cache = nil }
            return t
        }
        let a = try trainer(cached: true), b = try trainer(cached: false)
        // The cache's rows are the teacher's outputs on the plain (rows 0..<N) and flipped (N..<2N) views.
        let cache = try XCTUnwrap(a.cache)
        teacher.eval()
        for flipped in [false, true] {
            let idx = [0, 5, 63]
            let (e, z) = withoutGrad { teacher.forward(makeBatch(set, idx, views: idx.map { _ in View(dy: 0, dx: 0, flipped: flipped) }, mean: mean, std: std)) }
            let rows = idx.map { $0 + (flipped ? set.count : 0) }
            assertClose(cache.logits.indexSelect(axis: 0, rows).scalars, z.scalars, atol: 1e-6, rtol: 1e-5, "logits, flipped \(flipped)")
            assertClose(cache.embeddings.indexSelect(axis: 0, rows).scalars, e.scalars, atol: 1e-6, rtol: 1e-5, "embeddings, flipped \(flipped)")
        }
        XCTAssertEqual(a.projector.map { $0.linear.weight.shape }, [128, 64])
        XCTAssertFalse(a.net.namedState().contains { $0.0.contains("projector") }, "the projector is not part of the student")
        let (ra, rb) = (try a.step(), try b.step())
        XCTAssertEqual(ra.kd, rb.kd, accuracy: 1e-5 * max(1, abs(ra.kd)))
        XCTAssertEqual(ra.nd, rb.nd, accuracy: 1e-5)
        XCTAssertGreaterThan(ra.nd, 0)
        // Same width: no projector.
        let wide = ImageClassifier(try NetSpec.parse("fmnist-student128"), inChannels: 1, classes: 10, generator: RandomGenerator(seed: 5))
        XCTAssertNil(try Trainer(net: wide, data: set, mean: mean, std: std, options: o, teacher: teacher, classMeans: means).projector)
        // A distillation loss without a teacher is refused.
        o.loss = .kd
        XCTAssertThrowsError(try Trainer(net: wide, data: set, mean: mean, std: std, options: o))
    }

    /// Class means: per-class averages of the eval-mode embeddings; the reference's way sees augmented
    /// images and rounds to 4 decimals.
    func testClassMeans() throws {
        let set = try ImageSet.idxDirectory(fmnist, split: "test").subset(Array(0..<40))
        let (mean, std) = set.channelStatistics()
        let config = NDConfig(arch: try NetSpec.parse("cnn:4,M,6"), input: [1, 28, 28], mean: mean, std: std,
                              classNames: fashionMNISTClasses, trainedAs: "teacher")
        let model = NDModelFiles.fresh(config, seed: 3)
        let means = classMeans(model, set, batch: 16)
        XCTAssertEqual(means.shape, [10, 6])
        // By hand: class of the first image, its embeddings averaged.
        let y = set.labels[0], rows = set.labels.indices.filter { set.labels[$0] == y }
        model.net.eval()
        let e = withoutGrad { model.net.forward(makeBatch(set, rows, mean: mean, std: std)).embedding }
        for j in 0..<6 {
            let v = rows.indices.map { Double(e.data[$0 * 6 + j]) }.reduce(0, +) / Double(rows.count)
            XCTAssertEqual(Double(means.data[y * 6 + j]), v, accuracy: 1e-5)
        }
        let ref = classMeans(model, set, batch: 16, reference: Augmentation(padding: 2, flip: true), seed: 1)
        XCTAssertTrue(ref.scalars.allSatisfy { abs(Double($0) * 1e4 - (Double($0) * 1e4).rounded()) < 1e-2 }, "rounded to 4 decimals")
        XCTAssertNotEqual(ref.scalars, means.scalars, "augmented views give other means")
    }

    func testJSONLLabelsWithoutNamesTakeAnyIndex() throws {
        let line = { (label: String) in "{\"pixels\": [0, 128, 255, 64], \"shape\": [2, 2], \"label\": \(label)}" }
        let set = try labelledSet(lines: [line("0"), line("11"), line("3")], path: "x", input: [1, 2, 2], classNames: nil)
        XCTAssertEqual(set.labels, [0, 11, 3])
        XCTAssertThrowsError(try labelledSet(lines: [line("-1")], path: "x", input: [1, 2, 2], classNames: nil))
        XCTAssertThrowsError(try labelledSet(lines: [line("\"cat\"")], path: "x", input: [1, 2, 2], classNames: nil)) {
            XCTAssertTrue("\($0)".contains("--class-names"), "\($0)")
        }
        XCTAssertEqual(try labelledSet(lines: [line("\"dog\"")], path: "x", input: [1, 2, 2], classNames: ["cat", "dog"]).labels, [1])
        XCTAssertThrowsError(try labelledSet(lines: [line("2")], path: "x", input: [1, 2, 2], classNames: ["cat", "dog"]))
    }
}
