// swift-tools-version:6.0
import PackageDescription

/// Kernels are plain loops over raw pointers; even debug test builds optimize them so
/// that whole-network accuracy tests run in seconds. Overflow and bounds traps stay on
/// (no -Ounchecked anywhere).
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"])]

/// On an x86_64 host the kernels are built for AVX2 (+FMA): Swift's own SIMD code then
/// uses 256-bit registers and `QUANTA_AVX2` enables the intrinsic GEMM kernel
/// (Sources/QuantaKernels/Optimized/*+x86_64.swift). The result needs an AVX2 CPU (Haswell,
/// Zen or later). Elsewhere (aarch64 hosts, the Embedded cross builds, which do not use
/// this manifest) the portable SIMD kernels are compiled. See docs/PERFORMANCE.md.
/// Innermost loops start on a 64-byte boundary: the GEMM's k-pair loop ran 8 % faster or
/// slower with unrelated code moved before it (docs/PERFORMANCE-KERNELS.md); aligned, its
/// speed no longer depends on the rest of the module.
#if arch(x86_64)
let hostCISA = ["-mavx2", "-mfma"]
#else
let hostCISA: [String] = []
#endif
#if arch(x86_64)
let kernelISA: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xllvm", "-x86-experimental-pref-innermost-loop-alignment=6"]), .define("QUANTA_AVX2")]
#else
let kernelISA: [SwiftSetting] = []
#endif

let package = Package(
    name: "Quanta",
    products: [
        .library(name: "QuantaKernels", targets: ["QuantaKernels"]),
        .library(name: "QuantaRuntime", targets: ["QuantaRuntime"]),
        .library(name: "QuantaCompiler", targets: ["QuantaCompiler"]),
        .executable(name: "quanta", targets: ["quanta"]),
    ],
    targets: [
        // The NEON kernels (C with arm_neon.h; empty on other architectures), which
        // QuantaKernels calls on aarch64 and armv7. Targets/build compiles them with clang.
        .target(name: "CQuantaKernels", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "QuantaKernels", dependencies: ["CQuantaKernels"], swiftSettings: optimizedInDebug + kernelISA),
        .target(name: "QuantaRuntime", dependencies: ["QuantaKernels"], swiftSettings: optimizedInDebug),
        // The runtime's C API header (quanta.h); the functions are QuantaRuntime's @_cdecl ones.
        .target(name: "CQuanta"),
        // Words for the runtime's errors, Embedded-clean: the host tools and the Embedded
        // runner (Targets/build compiles these files into it) share one description.
        .target(name: "QuantaDiagnostics", dependencies: ["QuantaKernels", "QuantaRuntime"]),
        // Host-side C loops of the calibration statistics (vectorized by clang; never in the
        // Embedded builds).
        .target(name: "CQuantaHost", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"] + hostCISA)]),
        // kernelISA: the compiler's float kernels (calibration, `quanta eval`, `quanta run
        // MODEL.onnx`) use AVX2 + FMA registers on x86 like the int8 kernels.
        .target(
            name: "QuantaCompiler",
            dependencies: ["QuantaKernels", "QuantaRuntime", "QuantaDiagnostics", "CQuantaHost"],
            swiftSettings: optimizedInDebug + kernelISA + [.swiftLanguageMode(.v5)]),
        .executableTarget(
            name: "quanta", dependencies: ["QuantaCompiler", "QuantaRuntime", "QuantaKernels"],
            path: "Tools/quanta",
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(
            name: "quanta-kernel-bench", dependencies: ["QuantaKernels"],
            path: "Tools/kernel-bench", swiftSettings: kernelISA),
        .testTarget(
            name: "QuantaKernelsTests", dependencies: ["QuantaKernels"],
            resources: [.copy("Fixtures")],
            // kernelISA: the tests of the AVX2 output stage call its intrinsics (QUANTA_AVX2).
            swiftSettings: [.swiftLanguageMode(.v5)] + kernelISA),
        // Test support: counts heap allocations (interposes malloc and friends).
        .target(name: "CAllocationCounter", path: "Tests/AllocationCounter", linkerSettings: [.linkedLibrary("dl")]),
        // Test support: drives the C API from C (symbols resolve against QuantaRuntime in the test binary).
        .target(name: "CQuantaSmoke", dependencies: ["CQuanta"], path: "Tests/CQuantaSmoke"),
        .testTarget(
            name: "QuantaRuntimeTests",
            dependencies: ["QuantaRuntime", "QuantaKernels", "QuantaCompiler", "CAllocationCounter", "CQuantaSmoke"],
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "QuantaCompilerTests", dependencies: ["QuantaCompiler", "QuantaRuntime", "QuantaKernels", "CQuantaHost"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
