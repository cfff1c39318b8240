// swift-tools-version:6.0
// tokenizer-speed: tokens/s of the runtime's Tokenizer on the parity corpus (see ../tokenizers.sh).
// A package of its own so the benchmark needs no change to the main Package.swift.
import PackageDescription

let package = Package(
    name: "tokenizer-speed",
    dependencies: [.package(name: "mltools", path: "../../..")],
    targets: [.executableTarget(name: "tokenizer-speed", dependencies: [.product(name: "Runtime", package: "mltools")])],
    swiftLanguageModes: [.v5]
)
