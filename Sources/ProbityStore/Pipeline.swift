import Foundation

/// The two halves of a staged scan (verify, replay): work on each entry that is independent of the
/// others runs on all cores (`ParallelChunk`), and the checks that need seq order run on one serial
/// queue (`SerialStage`), fed chunks in order while the next ones are read and worked on.

/// `count` items worked on by one task per core as soon as the chunk is made. Read the results only
/// after `group` is done.
public final class ParallelChunk<Output>: @unchecked Sendable {
    let group = DispatchGroup()
    /// Written by the workers (each its own indices), read only after `group` is done.
    private let slots: UnsafeMutableBufferPointer<Output?>

    public init(count: Int, _ work: @escaping @Sendable (Int) -> Output) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 256))
        let per = (count + workers - 1) / workers
        nonisolated(unsafe) let output = slots
        for w in 0..<workers {
            DispatchQueue.global().async(group: group) {
                for i in (w * per)..<min(count, (w + 1) * per) { output[i] = work(i) }
            }
        }
    }

    deinit {
        group.wait()
        slots.deinitialize()
        slots.deallocate()
    }

    public var count: Int { slots.count }

    /// Blocks until every item is worked on.
    public func wait() { group.wait() }

    public subscript(i: Int) -> Output { slots[i]! }
}

/// One serial queue consuming chunks in the order they are enqueued, each once its workers are done.
/// At most `depth` chunks wait, so memory stays bounded however fast the reader is.
final class SerialStage: @unchecked Sendable {
    private let queue: DispatchQueue
    private let slots: DispatchSemaphore

    init(label: String, depth: Int = 3) {
        queue = DispatchQueue(label: label)
        slots = DispatchSemaphore(value: depth)
    }

    /// Runs `consume` on the serial queue once `group` is done; blocks while `depth` chunks wait.
    func enqueue(after group: DispatchGroup, _ consume: @escaping @Sendable () -> Void) {
        slots.wait()
        queue.async { [self] in
            group.wait()
            consume()
            slots.signal()
        }
    }

    /// Waits for every chunk enqueued so far, then runs `body` on the serial queue.
    func finish<T>(_ body: () -> T) -> T { queue.sync(execute: body) }
}
