// RFC 8019 §4.2 and §5: per-source state must itself be bounded, or tracking sources becomes
// the resource an attacker exhausts.

/// What the gate remembers per source, in a table of fixed capacity. When full, a new source
/// takes the slot of one not used recently (the CLOCK approximation of LRU: a sweeping hand
/// gives every entry used since its last pass a second chance), never of one that still has
/// half-open SAs: those counts must stay exact until the SAs finish. A new entry starts without
/// its reference bit, so a flood of one-shot spoofed sources replaces itself first and a peer
/// that comes back keeps its entry.
struct IKESourceTable {
    struct Entry {
        var source: IKEAdmissionSource
        var unverified: IKETokenBucket
        var verified: IKETokenBucket
        var halfOpen: Int
        var referenced: Bool
    }

    let capacity: Int
    private(set) var entries: [Entry] = []
    private var index: [IKEAdmissionSource: Int] = [:]
    private var hand = 0
    /// Sources forgotten to make room.
    private(set) var evictions: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        entries.reserveCapacity(min(self.capacity, 1024))
    }

    var count: Int { entries.count }

    func slot(of source: IKEAdmissionSource) -> Int? { index[source] }

    /// The slot of `source`, made (full buckets) if new; nil when every slot holds half-open SAs.
    mutating func slot(for source: IKEAdmissionSource, policy: IKEAdmissionPolicy, now: IKEInstant) -> Int? {
        if let i = index[source] {
            entries[i].referenced = true
            return i
        }
        let fresh = Entry(source: source, unverified: IKETokenBucket(rate: policy.unverifiedRate, now: now),
                          verified: IKETokenBucket(rate: policy.verifiedRate, now: now), halfOpen: 0, referenced: false)
        if entries.count < capacity {
            entries.append(fresh)
            index[source] = entries.count - 1
            return entries.count - 1
        }
        // Two sweeps: the first may only clear reference bits.
        for _ in 0..<(2 * capacity) {
            let i = hand
            hand = (hand + 1) % capacity
            if entries[i].halfOpen > 0 { continue }
            if entries[i].referenced {
                entries[i].referenced = false
                continue
            }
            index[entries[i].source] = nil
            entries[i] = fresh
            index[source] = i
            evictions += 1
            return i
        }
        return nil
    }

    subscript(slot: Int) -> Entry {
        get { entries[slot] }
        set { entries[slot] = newValue }
    }
}
