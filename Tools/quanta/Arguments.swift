/// A small command-line parser: positional arguments, `--name value`, `--name=value`,
/// `-o value` and boolean flags. Unknown options are errors, so a typo never passes silently.
struct Arguments {
    private(set) var positionals: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// - Parameters:
    ///   - valued: option names (without dashes) that take a value.
    ///   - booleans: option names that take none.
    ///   - aliases: short names (`o`) mapped to long ones (`output`).
    init(_ args: [String], valued: Set<String>, booleans: Set<String>, aliases: [String: String] = [:]) throws {
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" {
                positionals.append(contentsOf: args[i...])
                break
            }
            guard arg.hasPrefix("-"), arg.count > 1, Double(arg) == nil else {
                positionals.append(arg)
                continue
            }
            var name = String(arg.drop(while: { $0 == "-" }))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if let long = aliases[name] { name = long }
            if booleans.contains(name) {
                if inlineValue != nil { throw CLIError.usage("option --\(name) takes no value") }
                flags.insert(name)
            } else if valued.contains(name) {
                if let v = inlineValue {
                    values[name] = v
                } else {
                    guard i < args.count else { throw CLIError.usage("option --\(name) needs a value") }
                    values[name] = args[i]
                    i += 1
                }
            } else {
                throw CLIError.usage("unknown option '\(arg)'")
            }
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func value(_ name: String) -> String? { values[name] }

    func int(_ name: String, default fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let v = Int(text), v >= 0 else { throw CLIError.usage("--\(name) expects a non-negative integer, got '\(text)'") }
        return v
    }

    /// `--NAME N` as a seed (any unsigned 64-bit integer), nil when absent.
    func seed(_ name: String) throws -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let v = UInt64(text) else { throw CLIError.usage("--\(name) expects a non-negative integer, got '\(text)'") }
        return v
    }

    func require(_ name: String) throws -> String {
        guard let v = values[name] else { throw CLIError.usage("missing required option --\(name)") }
        return v
    }

    func positional(_ index: Int, _ what: String) throws -> String {
        guard index < positionals.count else { throw CLIError.usage("missing \(what)") }
        return positionals[index]
    }

    func expectPositionals(max: Int) throws {
        if positionals.count > max {
            throw CLIError.usage("unexpected argument '\(positionals[max])'")
        }
    }
}

/// Errors the command line reports as one line on stderr, with exit status 2 for usage
/// errors and 1 for everything else.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let m): return m
        case .failed(let m): return m
        }
    }
}
