// rtnetlink(7), linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h: message types and attribute numbers
// used by Viaduct. Only what the codecs use is named; the numbers are the kernel ABI and never change.

/// RTM_* message types.
public enum RouteMessageType {
    public static let newLink: UInt16 = 16
    public static let deleteLink: UInt16 = 17
    public static let getLink: UInt16 = 18
    public static let newAddress: UInt16 = 20
    public static let deleteAddress: UInt16 = 21
    public static let getAddress: UInt16 = 22
    public static let newRoute: UInt16 = 24
    public static let deleteRoute: UInt16 = 25
    public static let getRoute: UInt16 = 26
}

/// IFLA_* (struct ifinfomsg attributes) and the nested IFLA_INFO_*, IFLA_XFRM_*, IFLA_VTI_*.
enum LinkAttribute {
    static let address: UInt16 = 1
    static let ifname: UInt16 = 3
    static let mtu: UInt16 = 4
    static let link: UInt16 = 5
    static let linkinfo: UInt16 = 18
    static let extMask: UInt16 = 29

    static let infoKind: UInt16 = 1
    static let infoData: UInt16 = 2

    static let xfrmLink: UInt16 = 1
    static let xfrmIfID: UInt16 = 2

    static let vtiLink: UInt16 = 1
    static let vtiIKey: UInt16 = 2
    static let vtiOKey: UInt16 = 3
    static let vtiLocal: UInt16 = 4
    static let vtiRemote: UInt16 = 5
    static let vtiFwmark: UInt16 = 6
}

/// IFA_* (struct ifaddrmsg attributes).
enum AddressAttribute {
    static let address: UInt16 = 1
    static let local: UInt16 = 2
    static let label: UInt16 = 3
    static let flags: UInt16 = 8
}

/// RTA_* (struct rtmsg attributes) and RTAX_* metrics.
enum RouteAttribute {
    static let dst: UInt16 = 1
    static let src: UInt16 = 2
    static let oif: UInt16 = 4
    static let gateway: UInt16 = 5
    static let priority: UInt16 = 6
    static let prefsrc: UInt16 = 7
    static let metrics: UInt16 = 8
    static let table: UInt16 = 15

    static let metricMTU: UInt16 = 2
    static let metricAdvMSS: UInt16 = 8
}

/// `IFF_UP` from linux/if.h.
let interfaceFlagUp: UInt32 = 0x1
