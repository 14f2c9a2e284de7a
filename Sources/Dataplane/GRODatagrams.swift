// UDP GRO (linux/udp.h UDP_GRO, Documentation/networking/segmentation-offloads.rst): the kernel
// may coalesce equal-sized datagrams of one flow into one receive buffer and report their size
// in a control message; the inbound worker splits the buffer back into them.

/// The datagrams in a received buffer of `length` bytes: back to back, each `segmentSize` bytes
/// but the last (maybe shorter); the whole buffer (even an empty one) when the kernel reported
/// no size, a size of zero, or one not below `length`. Pure: the ESP fuzz target drives it too.
struct GRODatagrams: Sequence, IteratorProtocol {
    private let length: Int
    private let size: Int
    private var offset = 0
    private var done = false

    init(length: Int, segmentSize: Int?) {
        self.length = Swift.max(0, length)
        if let segmentSize, segmentSize > 0, segmentSize < length {
            size = segmentSize
        } else {
            size = Swift.max(0, length)
        }
    }

    mutating func next() -> Range<Int>? {
        guard !done else { return nil }
        let end = Swift.min(offset + size, length)
        defer {
            offset = end
            done = end >= length
        }
        return offset..<end
    }
}
