// swift-tools-version:6.0
import PackageDescription

/// Kernels are plain loops over raw pointers; even debug test builds optimize them so
/// that whole-network accuracy tests run in seconds. Overflow and bounds traps stay on
/// (no -Ounchecked anywhere).
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "Quanta",
    products: [
        .library(name: "QuantaKernels", targets: ["QuantaKernels"]),
        .library(name: "QuantaRuntime", targets: ["QuantaRuntime"]),
        .library(name: "QuantaCompiler", targets: ["QuantaCompiler"]),
        .executable(name: "quanta", targets: ["quanta"]),
    ],
    targets: [
        .target(name: "QuantaKernels", swiftSettings: optimizedInDebug),
        .target(name: "QuantaRuntime", dependencies: ["QuantaKernels"], swiftSettings: optimizedInDebug),
        .target(
            name: "QuantaCompiler",
            dependencies: ["QuantaKernels", "QuantaRuntime"],
            swiftSettings: optimizedInDebug + [.swiftLanguageMode(.v5)]),
        .executableTarget(
            name: "quanta", dependencies: ["QuantaCompiler", "QuantaRuntime", "QuantaKernels"],
            path: "Tools/quanta",
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "QuantaKernelsTests", dependencies: ["QuantaKernels"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]),
        // Test support: counts heap allocations (interposes malloc and friends).
        .target(name: "CAllocationCounter", path: "Tests/AllocationCounter", linkerSettings: [.linkedLibrary("dl")]),
        .testTarget(
            name: "QuantaRuntimeTests",
            dependencies: ["QuantaRuntime", "QuantaKernels", "QuantaCompiler", "CAllocationCounter"],
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "QuantaCompilerTests", dependencies: ["QuantaCompiler", "QuantaRuntime", "QuantaKernels"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
