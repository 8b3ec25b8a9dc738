/// Errors of the store, with a code callers can switch on and a message that says what to do.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case notFound, alreadyExists, locked, notAProbityStore, durability, badKey, badArgument, io, inconsistent
    }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}
