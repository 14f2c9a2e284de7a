import CryptoCore
import DataplaneContract
import IKEv2
import Logging
import NetTypes
import Topology

/// A data plane that installs nothing: it records and logs each Child SA (SPIs, algorithms,
/// endpoints; NEVER keys) so the control plane can be run and interop-tested before a real
/// backend exists. Traffic does not flow through it.
public final class LoggingDataplane: DataplaneBackend {
    public let name = "logging"
    private let logger: Logger
    /// Installed SAs by inbound SPI.
    public private(set) var installed: [ESPSPI: (peer: String, outboundSPI: ESPSPI)] = [:]

    public init(logger: Logger) { self.logger = logger }

    public func update(plan: NodePlan) throws(DataplaneError) {}

    public func install(_ sa: ChildSAParameters, peer: String) throws(DataplaneError) {
        installed[sa.inboundSPI] = (peer, sa.outboundSPI)
        logger.info("child SA installed (logging data plane: no traffic flows)", metadata: [
            "peer": "\(peer)",
            "spi_in": "\(SPIText.child(sa.inboundSPI))",
            "spi_out": "\(SPIText.child(sa.outboundSPI))",
            "enc": "\(AlgorithmText.encryption(sa.encryption))",
            "integ": "\(sa.integrity.map(AlgorithmText.integrity) ?? "none")",
            "esn": "\(sa.extendedSequenceNumbers)",
            "encap": "\(sa.udpEncapsulation ? "udp" : "none")",
            "local": "\(sa.local)",
            "remote": "\(sa.peer)",
            "lifetime": "\(Int(sa.lifetimeSeconds))s",
        ])
    }

    public func delete(inboundSPI: ESPSPI, outboundSPI: ESPSPI, peer: String) throws(DataplaneError) {
        installed[inboundSPI] = nil
        logger.info("child SA deleted", metadata: [
            "peer": "\(peer)", "spi_in": "\(SPIText.child(inboundSPI))", "spi_out": "\(SPIText.child(outboundSPI))",
        ])
    }

    public func counters(inboundSPI: ESPSPI) -> ChildSACounters? {
        installed[inboundSPI] == nil ? nil : ChildSACounters()
    }
}
