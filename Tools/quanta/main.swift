import Foundation

/// One `quanta` subcommand: a name, a help text and a run function over the remaining
/// arguments. Each lives in its own file (`QuantizeCommand.swift`, …).
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    static func run(_ args: [String]) throws
}

let commands: [Command.Type] = [
    QuantizeCommand.self, ImportCommand.self, RunCommand.self, InspectCommand.self, EvalCommand.self, BenchCommand.self,
]

func printUsage() {
    var text = """
        quanta — int8 runtime for depthwise/pointwise/grouped-conv networks

        usage: quanta <command> [options]     (quanta <command> --help for details)

        commands:

        """
    for c in commands {
        text += "  " + c.name.padding(toLength: 10, withPad: " ", startingAt: 0) + c.summary + "\n"
    }
    print(text, terminator: "")
}

/// Prints one line to stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(("quanta: " + message + "\n").data(using: .utf8)!)
}

let argv = Array(CommandLine.arguments.dropFirst())
guard let first = argv.first, first != "--help", first != "-h", first != "help" else {
    printUsage()
    exit(argv.isEmpty ? 2 : 0)
}
guard let command = commands.first(where: { $0.name == first }) else {
    printError("unknown command '\(first)'; run 'quanta --help' for the list")
    exit(2)
}
let rest = Array(argv.dropFirst())
if rest.contains("--help") || rest.contains("-h") {
    print(command.usage)
    exit(0)
}
do {
    try command.run(rest)
} catch let error as CLIError {
    printError(error.description)
    if case .usage = error { printError("see 'quanta \(command.name) --help'") }
    exit(error.isUsage ? 2 : 1)
} catch {
    printError(String(describing: error))
    exit(1)
}

extension CLIError {
    var isUsage: Bool { if case .usage = self { return true } else { return false } }
}
