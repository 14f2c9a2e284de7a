import Synchronization

/// Key material (DH shared secrets, SKEYSEED, SK_*, KEYMAT). Lives in its own heap buffer,
/// zeroed before it is freed, and never shows its contents in `print`, string interpolation,
/// `dump` or a debugger's `po`, so a stray log line cannot leak a key.
///
/// A class, so there is exactly one copy of the bytes to wipe: a copyable `[UInt8]` would be
/// duplicated by copy-on-write behind our back. The buffer sits in a `Mutex` only to make the
/// type honestly `Sendable` (it is written exactly twice: at init and when zeroed in deinit); the
/// lock is uncontended and key material is read at SA set-up, never per packet.
///
/// Do not call `withUnsafeBytes` on the same instance from inside its own closure (the lock is not
/// recursive).
public final class SecureBytes: Sendable {
    private let storage: Mutex<UnsafeMutableRawBufferPointer>
    /// The number of bytes; not secret.
    public let count: Int

    /// Allocates `count` zeroed bytes and lets `initializer` write them, so a secret produced by C
    /// code lands directly here instead of passing through an intermediate array. Generic over the
    /// error so a non-throwing initializer makes a non-throwing call.
    public init<Failure: Error>(
        count: Int, initializer: (UnsafeMutableRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        let size = max(count, 0)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try initializer(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
        } catch {
            SecureBytes.wipe(buffer)
            buffer.deallocate()
            throw error
        }
        self.storage = Mutex(buffer)
        self.count = size
    }

    /// Copies `bytes`. The caller's copy is the caller's to wipe.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { out in out.copyMemory(from: bytes) }
    }

    /// Copies `bytes` (test vectors, configured pre-shared keys).
    public convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count) { out in bytes.withUnsafeBytes { out.copyMemory(from: $0) } }
    }

    deinit {
        storage.withLock { buffer in
            SecureBytes.wipe(buffer)
            buffer.deallocate()
        }
    }

    /// Read access without copying; the pointer must not escape `body`.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        try storage.withLock { (buffer) throws(Failure) -> sending Result in
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// A new `SecureBytes` holding `range`: how KEYMAT and the SK_* stream are split into keys.
    public func slice(_ range: Range<Int>) throws(CryptoError) -> SecureBytes {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw CryptoError(.bufferTooSmall, "slice \(range) out of \(count) bytes")
        }
        return withUnsafeBytes { all in SecureBytes(copying: UnsafeRawBufferPointer(rebasing: all[range])) }
    }

    /// Compares in time independent of where the first difference is, so comparing a received
    /// value against a secret leaks nothing through timing.
    public func constantTimeEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        withUnsafeBytes { mine in SecureBytes.constantTimeEquals(mine, other) }
    }

    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        if other === self { return true }
        return other.withUnsafeBytes { theirs in constantTimeEquals(theirs) }
    }

    /// Length is not secret; only the contents are compared in constant time.
    public static func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Zeroes through a function the optimiser must not inline, so the stores are not removed
    /// as dead before the memory is freed.
    @inline(never)
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for i in 0..<buffer.count { bytes[i] = 0 }
        withExtendedLifetime(buffer) {}
    }

    /// Zeroes a scratch array in place (it must be uniquely referenced to wipe the original).
    public static func wipe(_ array: inout [UInt8]) {
        array.withUnsafeMutableBytes { wipe($0) }
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted \(count) bytes>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
