import Foundation

#if FUZZING
    /// libFuzzer's entry point (compiler-rt): parses libFuzzer's flags and calls `callback` with each input.
    @_silgen_name("LLVMFuzzerRunDriver")
    private func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// The symbol libFuzzer's own `main` calls, should the linker pick that `main` over the target's.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        Fuzz.target?(Fuzz.bytes(data, size))
        return 0
    }
#endif

/// What every fuzz target shares: the input as bytes, and the replay of a corpus without libFuzzer.
///
/// Each target is an executable whose `main` calls `Fuzz.main`. Built by `Scripts/fuzz.sh` with
/// `-sanitize=fuzzer` and `-D FUZZING`, libFuzzer drives it; built as usual (what `swift build` does), it
/// runs each file it is given through the same function, so the committed seeds and any crash found are
/// regression tests.
public enum Fuzz {
    /// The target's entry point: libFuzzer's driver when fuzzing, else a replay of the files given.
    public static func main(_ body: @escaping ([UInt8]) -> Void) -> Never {
        #if FUZZING
            target = body
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    Fuzz.target?(Fuzz.bytes(data, size)); return 0
                })
        #else
            replay(body)
            exit(0)
        #endif
    }

    #if FUZZING
        /// The function under test, set once by `main` before libFuzzer starts calling.
        nonisolated(unsafe) static var target: (([UInt8]) -> Void)?
    #endif

    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Runs `body` on every file named on the command line (directories: every file in them); prints how
    /// many. A crash or a failed invariant (a trap) is the failure.
    public static func replay(_ body: ([UInt8]) -> Void) {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
                exit(2)
            }
            let files =
                isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                body([UInt8](data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }

    /// An invariant of the code under test; a violation traps, which libFuzzer reports as a crash.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("invariant violated: \(message())") }
    }
}
