// swift-tools-version:6.0
// The toolkit: one shared runtime (Runtime/) and small single-purpose programs (Tools/) on top of it.
// Arrows go one way: Tools -> Runtime. No tool imports another tool.
import PackageDescription

// Language mode 5: the runtime keeps a few process-wide settings (grad mode, thread count) that are
// set once by a program's main thread; Swift 6's strict isolation checking would only add ceremony.
// Hot loops use unsafe buffer pointers, so plain -O keeps shape preconditions and stays fast.
let swiftSettings: [SwiftSetting] = []

/// A program: its logic as a library `<Name>Core` in Tools/<name>/ (tests reach it) and a thin
/// executable in Tools/<name>/main.
func program(_ name: String, core: String, coreDependencies: [Target.Dependency] = [], mainDependencies: [Target.Dependency] = []) -> [Target] {
    [.target(name: core, dependencies: ["Runtime", "RuntimeCLI"] + coreDependencies, path: "Tools/\(name)/\(core)", swiftSettings: swiftSettings),
     .executableTarget(name: name, dependencies: [.target(name: core), "Runtime", "RuntimeCLI",
                                                  .product(name: "ArgumentParser", package: "swift-argument-parser")] + mainDependencies,
                       path: "Tools/\(name)/main", swiftSettings: swiftSettings)]
}

let package = Package(
    name: "mltools",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "RuntimeCLI", targets: ["RuntimeCLI"]),
        .executable(name: "embed", targets: ["embed"]),
        .executable(name: "tokenize", targets: ["tokenize"]),
        .executable(name: "lm-infinite", targets: ["lm-infinite"]),
        .executable(name: "zo", targets: ["zo"]),
        .executable(name: "loki", targets: ["loki"]),
        .executable(name: "gliclass", targets: ["gliclass"]),
        .executable(name: "ls-llama", targets: ["ls-llama"]),
        .executable(name: "ptec", targets: ["ptec"]),
        .executable(name: "nd-kd", targets: ["nd-kd"]),
        .executable(name: "llmfew", targets: ["llmfew"]),
        .executable(name: "labo", targets: ["labo"]),
        .executable(name: "prokd", targets: ["prokd"]),
    ],
    dependencies: [
        // The one dependency: every program is a ParsableCommand (flags, help text, usage errors exit 64).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Thin C modules over the system libraries (Debian packages named in each shim.h).
        .systemLibrary(name: "CBLAS", path: "Runtime/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Runtime/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Runtime/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        // zlib for ptec's gzip-distance baseline (the reference measures texts by gzip's output length).
        .systemLibrary(name: "CZlib", path: "Runtime/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Open MPI for `zo train --distributed` (only zo links it, through RuntimeMPI).
        .systemLibrary(name: "CMPI", path: "Runtime/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        // The commit and build flags the Makefile stamps into every binary (`--version`).
        .target(name: "CBuildInfo", path: "Runtime/CBuildInfo"),
        // libpng and libjpeg report errors by longjmp, which Swift cannot catch: this C file does.
        .target(name: "CImageIO", dependencies: ["CPNG", "CJPEG"], path: "Runtime/CImageIO"),

        // Products with GGUF block-quantized weights: C, because the kernels are chosen at run time from the
        // CPU's features (per-function target attributes), which Swift cannot express.
        .target(name: "CQuant", path: "Runtime/CQuant", cSettings: [.unsafeFlags(["-O3"])]),
        // parallelFor's worker threads, which spin between loops (C11 atomics and pthreads).
        .target(name: "CPool", path: "Runtime/CPool"),

        // The numeric core: tensors, autograd, layers, models, checkpoints, tokenizers, JSON, images, plots.
        .target(name: "Runtime", dependencies: ["CBLAS", "CImageIO", "CQuant", "CPool", "CZlib"], path: "Runtime/Runtime", swiftSettings: swiftSettings),
        // What every program shares on the command line: options, the JSONL runner, progress, exit codes.
        .target(name: "RuntimeCLI", dependencies: ["Runtime", "CBLAS", "CBuildInfo", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Runtime/RuntimeCLI", swiftSettings: swiftSettings),

        // The MPI communicator (Runtime's Collective over Open MPI), apart so only zo loads libmpi.
        .target(name: "RuntimeMPI", dependencies: ["Runtime", "CMPI"], path: "Runtime/RuntimeMPI", swiftSettings: swiftSettings),
    ]
    + program("embed", core: "EmbedCore")
    + program("tokenize", core: "TokenizeCore")
    + program("loki", core: "LokiCore", coreDependencies: ["CBLAS"])
    + program("lm-infinite", core: "LMInfiniteCore")
    + program("zo", core: "ZOCore", mainDependencies: ["RuntimeMPI"])
    + program("gliclass", core: "GLiClassCore")
    + program("ls-llama", core: "LSLlamaCore")
    + program("ptec", core: "PTECCore", coreDependencies: ["CZlib"])
    + program("nd-kd", core: "NDKDCore")
    + program("llmfew", core: "LLMFewCore")
    + program("labo", core: "LaboCore")
    + program("prokd", core: "ProKDCore")
    + [
        // Benchmarks (`make bench`): our figures beside the reference's, from one run.
        .target(name: "BenchSupport", dependencies: ["Runtime", "CBLAS", "CBuildInfo"], path: "Benchmarks/BenchSupport"),
        .executableTarget(name: "runtime-bench", dependencies: ["Runtime", "RuntimeCLI", "BenchSupport"], path: "Benchmarks/RuntimeBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "model-bench", dependencies: ["Runtime", "BenchSupport"], path: "Benchmarks/ModelBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "zo-bench", dependencies: ["Runtime", "BenchSupport"], path: "Benchmarks/ZOBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "lm-infinite-bench", dependencies: ["Runtime", "BenchSupport", "LMInfiniteCore"],
                          path: "Benchmarks/LMInfiniteBench", swiftSettings: swiftSettings),
        .executableTarget(name: "loki-bench", dependencies: ["LokiCore", "Runtime", "BenchSupport"], path: "Benchmarks/LokiBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "gliclass-bench", dependencies: ["GLiClassCore", "Runtime", "BenchSupport"], path: "Benchmarks/GLiClassBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "ls-llama-bench", dependencies: ["LSLlamaCore", "Runtime", "BenchSupport"], path: "Benchmarks/LSLlamaBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "prokd-bench", dependencies: ["ProKDCore", "Runtime", "BenchSupport"], path: "Benchmarks/ProKDBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "tokenizer-bench", dependencies: ["Runtime", "BenchSupport"], path: "Benchmarks/TokenizerBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "gguf-bench", dependencies: ["Runtime", "BenchSupport"], path: "Benchmarks/GGUFBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "nd-kd-bench", dependencies: ["NDKDCore", "Runtime", "BenchSupport"], path: "Benchmarks/NDKDBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "llmfew-bench", dependencies: ["LLMFewCore", "Runtime", "BenchSupport"], path: "Benchmarks/LLMFewBench",
                          swiftSettings: swiftSettings),
        .executableTarget(name: "ptec-bench", dependencies: ["PTECCore", "Runtime", "BenchSupport"], path: "Benchmarks/PTECBench",
                          swiftSettings: swiftSettings),

        // Fuzz harnesses (`make fuzz` builds each with -sanitize=fuzzer,address and runs it; a plain build
        // makes inert executables).
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Fuzz/Support"),
    ] + ["jsonl", "safetensors", "gguf", "tokenizer", "png", "jpeg", "config", "trajectory", "npy"].map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["Runtime", "FuzzSupport"] + (name == "trajectory" ? ["ZOCore"] : []),
                          path: "Fuzz/\(name)", swiftSettings: swiftSettings)
    } + [
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"], path: "Tests/RuntimeTests"),
        .testTarget(name: "RuntimeCLITests", dependencies: ["RuntimeCLI", "Runtime"], path: "Tests/RuntimeCLITests"),
        // Tool tests run the built binaries on real JSONL (they depend on the executables so those get built).
        .target(name: "ToolTestSupport", path: "Tests/ToolTestSupport"),
        .testTarget(name: "EmbedTests", dependencies: ["RuntimeCLI", "EmbedCore", "Runtime", "ToolTestSupport", "embed"], path: "Tests/EmbedTests"),
        .testTarget(name: "LMInfiniteTests", dependencies: ["RuntimeCLI", "LMInfiniteCore", "Runtime", "ToolTestSupport", "lm-infinite"],
                    path: "Tests/LMInfiniteTests"),
        .testTarget(name: "ZOTests", dependencies: ["RuntimeCLI", "ZOCore", "Runtime", "ToolTestSupport", "zo"], path: "Tests/ZOTests"),
        .testTarget(name: "TokenizeTests", dependencies: ["RuntimeCLI", "TokenizeCore", "Runtime", "ToolTestSupport", "tokenize"],
                    path: "Tests/TokenizeTests"),
        .testTarget(name: "GLiClassTests", dependencies: ["RuntimeCLI", "GLiClassCore", "Runtime", "ToolTestSupport", "gliclass"],
                    path: "Tests/GLiClassTests"),
        .testTarget(name: "LSLlamaTests", dependencies: ["RuntimeCLI", "LSLlamaCore", "Runtime", "ToolTestSupport", "ls-llama"],
                    path: "Tests/LSLlamaTests"),
        .testTarget(name: "PTECTests", dependencies: ["RuntimeCLI", "PTECCore", "Runtime", "ToolTestSupport", "ptec"],
                    path: "Tests/PTECTests"),
        .testTarget(name: "NDKDTests", dependencies: ["RuntimeCLI", "NDKDCore", "Runtime", "ToolTestSupport", "nd-kd"], path: "Tests/NDKDTests"),
        .testTarget(name: "ProKDTests", dependencies: ["RuntimeCLI", "ProKDCore", "Runtime", "ToolTestSupport", "prokd"], path: "Tests/ProKDTests"),
        .testTarget(name: "LaboTests", dependencies: ["RuntimeCLI", "LaboCore", "Runtime", "ToolTestSupport", "labo"], path: "Tests/LaboTests"),
        .testTarget(name: "LLMFewTests", dependencies: ["RuntimeCLI", "LLMFewCore", "Runtime", "ToolTestSupport", "llmfew"], path: "Tests/LLMFewTests"),
        .testTarget(name: "LokiTests", dependencies: ["RuntimeCLI", "LokiCore", "Runtime", "ToolTestSupport", "loki"], path: "Tests/LokiTests"),
    ],
    swiftLanguageModes: [.v5]
)
