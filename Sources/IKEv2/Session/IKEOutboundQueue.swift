/// A FIFO drained by `pollTransmit` / `pollEvent`. The head index avoids `removeFirst`'s O(n)
/// shift; the storage is reset whenever it runs empty, so it never grows across exchanges.
struct IKEOutboundQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    mutating func append(_ e: Element) { items.append(e) }

    /// Queues `elements` just ahead of the last still-queued element that `isAnchor` picks, or
    /// at the end when none is queued.
    mutating func insert(_ elements: some Collection<Element>, beforeLast isAnchor: (Element) -> Bool) {
        let at = items[head...].lastIndex(where: isAnchor) ?? items.endIndex
        items.insert(contentsOf: elements, at: at)
    }

    mutating func pop() -> Element? {
        guard head < items.count else { return nil }
        let e = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        return e
    }

    var isEmpty: Bool { head >= items.count }
}
