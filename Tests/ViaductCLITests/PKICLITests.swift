import Foundation
import TestSupport
import Testing

/// `viaduct pki` end to end: files, modes, and what OpenSSL and strongSwan make of them.
@Suite("viaduct pki command line")
struct PKICLITests {
    let cli = CLITests()

    func tempCopy(_ example: String) throws -> (dir: URL, file: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("viaduct-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = try String(contentsOf: CLITests.root.appendingPathComponent("Topologies/\(example)"), encoding: .utf8)
        let file = dir.appendingPathComponent(example)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return (dir, file.path)
    }

    func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String)? {
        guard let path = TestProcess.find(tool, in: ["/usr/bin", "/usr/local/bin"]) else { return nil }
        return try TestProcess.run(path, args)
    }

    @Test("pki init creates the CA, every gateway's certificate and key, and the CRLs; a second run keeps them")
    func initTopology() throws {
        let (dir, file) = try tempCopy("dci-two-site.yaml")
        let first = try cli.viaduct("pki", "init", file)
        #expect(first.status == 0, "\(first.stderr)")
        for name in ["ca.pem", "ca.key", "dc1.pem", "dc1.key", "dc2.pem", "dc2.key", "ca.crl"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("pki/\(name)").path), "\(name)")
        }
        for key in ["ca.key", "dc1.key", "dc2.key"] {
            let attrs = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("pki/\(key)").path)
            #expect((attrs[.posixPermissions] as? Int) == 0o600, "\(key) must be mode 0600")
        }
        let before = try Data(contentsOf: dir.appendingPathComponent("pki/dc1.pem"))
        let second = try cli.viaduct("pki", "init", file)
        #expect(second.status == 0 && second.stdout.contains("kept dc1"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("pki/dc1.pem")) == before)
        // With the files in place, the node plans.
        #expect(try cli.viaduct("plan", file, "--node", "dc1").status == 0)
        let show = try cli.viaduct("pki", "show", dir.appendingPathComponent("pki/dc2.pem").path)
        #expect(show.stdout.contains("DNS:dc2.example.net") && show.stdout.contains("IP:198.51.100.1"))

        let ca = dir.appendingPathComponent("pki/ca.pem").path
        let crl = dir.appendingPathComponent("pki/ca.crl").path
        let gw = dir.appendingPathComponent("pki/dc1.pem").path
        if let r = try run("openssl", ["verify", "-x509_strict", "-CAfile", ca, "-crl_check", "-CRLfile", crl, gw]) {
            #expect(r.status == 0, "openssl: \(r.output)")
        }
        if let r = try run("pki", ["--verify", "--in", gw, "--cacert", ca, "--crl", crl]) {
            #expect(r.status == 0 && r.output.contains("certificate trusted"), "strongSwan: \(r.output)")
        } else {
            print("skipped strongSwan 'pki --verify': install strongswan-pki (Scripts/deps does)")
        }
    }

    @Test("pki revoke adds the certificate to the CRL, and OpenSSL then rejects it")
    func revoke() throws {
        let (dir, file) = try tempCopy("dci-two-site.yaml")
        #expect(try cli.viaduct("pki", "init", file).status == 0)
        let p = { (n: String) in dir.appendingPathComponent("pki/\(n)").path }
        let r = try cli.viaduct("pki", "revoke", "--ca-cert", p("ca.pem"), "--ca-key", p("ca.key"), "--crl", p("ca.crl"), "--cert", p("dc2.pem"))
        #expect(r.status == 0, "\(r.stderr)")
        if let v = try run("openssl", ["verify", "-CAfile", p("ca.pem"), "-crl_check", "-CRLfile", p("ca.crl"), p("dc2.pem")]) {
            #expect(v.status != 0 && v.output.contains("revoked"))
        }
    }

    @Test("pki issue --topology takes identity, addresses and paths from the topology")
    func issueFromTopology() throws {
        let (dir, file) = try tempCopy("hub-branches.yaml")
        let p = { (n: String) in dir.appendingPathComponent("pki/\(n)").path }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pki"), withIntermediateDirectories: true)
        #expect(try cli.viaduct("pki", "ca", "--subject", "CN=Test CA", "--out-cert", p("ca.pem"), "--out-key", p("ca.key")).status == 0)
        let r = try cli.viaduct("pki", "issue", "--ca-cert", p("ca.pem"), "--ca-key", p("ca.key"), "--topology", file, "--gateway", "branch-b")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("DNS:branch-b.example.net, IP:192.0.2.20"))
        #expect(FileManager.default.fileExists(atPath: p("branch-b.key")))
        let again = try cli.viaduct("pki", "issue", "--ca-cert", p("ca.pem"), "--ca-key", p("ca.key"), "--topology", file, "--gateway", "branch-b")
        #expect(again.status == 1 && again.stderr.contains("already exists"), "never overwrites without --force")
    }

    @Test("bad input is a user error: missing files, wrong key, unknown key type, unknown gateway")
    func badInput() throws {
        let (dir, file) = try tempCopy("dci-two-site.yaml")
        #expect(try cli.viaduct("pki", "init", file).status == 0)
        let p = { (n: String) in dir.appendingPathComponent("pki/\(n)").path }
        let cases: [[String]] = [
            ["pki", "show", p("nope.pem")],
            ["pki", "show", file],
            ["pki", "issue", "--ca-cert", p("ca.pem"), "--ca-key", p("dc1.key"), "--identity", "x.example.net", "--out-cert", p("x.pem"), "--out-key", p("x.key")],
            ["pki", "ca", "--subject", "CN=x", "--key-type", "dsa", "--out-cert", p("y.pem"), "--out-key", p("y.key")],
            ["pki", "issue", "--ca-cert", p("ca.pem"), "--ca-key", p("ca.key"), "--topology", file, "--gateway", "dc9"],
            ["pki", "issue", "--ca-cert", p("ca.pem"), "--ca-key", p("ca.key"), "--identity", "not valid!", "--out-cert", p("z.pem"), "--out-key", p("z.key")],
        ]
        for args in cases {
            let r = try cli.viaduct(args)
            #expect(r.status == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("error"), "\(args)")
        }
        #expect(!FileManager.default.fileExists(atPath: p("x.key")), "nothing is written on failure")
    }

    /// The wrong kind of file is named as such, without OpenSSL's error stack; a damaged
    /// certificate still says what is wrong with it.
    @Test("pki show on a non-certificate says so in one line")
    func showNonCertificate() throws {
        let (dir, file) = try tempCopy("dci-two-site.yaml")
        let binary = dir.appendingPathComponent("random.bin").path
        try Data((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).write(to: URL(fileURLWithPath: binary))
        for path in [file, binary] {
            let r = try cli.viaduct("pki", "show", path)
            #expect(r.status == 1)
            #expect(r.stderr == "viaduct: error: \(path): not a PEM or DER certificate, bundle or CRL\n", "\(r.stderr)")
        }
        #expect(try cli.viaduct("pki", "init", file).status == 0)
        let pem = try String(contentsOfFile: dir.appendingPathComponent("pki/dc1.pem").path, encoding: .utf8)
        let broken = dir.appendingPathComponent("broken.pem").path
        let lines = pem.split(separator: "\n")
        try (lines.prefix(3).joined(separator: "\n") + "\n" + lines.suffix(1).joined() + "\n").write(toFile: broken, atomically: true, encoding: .utf8)
        let r = try cli.viaduct("pki", "show", broken)
        #expect(r.status == 1)
        #expect(!r.stderr.contains("not a PEM or DER certificate"), "a damaged certificate keeps its own error: \(r.stderr)")
    }

    @Test("pki bundle writes old and new CA for a rollover, drops duplicates, refuses a gateway certificate; openssl verifies against it")
    func bundleForACARollover() throws {
        let (dir, file) = try tempCopy("dci-two-site.yaml")
        #expect(try cli.viaduct("pki", "init", file).status == 0)
        let p = { (name: String) in dir.appendingPathComponent("pki/\(name)").path }
        let ca2 = try cli.viaduct("pki", "ca", "--subject", "CN=Rollover CA 2,O=Example", "--out-cert", p("ca2.pem"), "--out-key", p("ca2.key"))
        #expect(ca2.status == 0, "\(ca2.stderr)")
        let bundle = p("bundle.pem")
        let both = try cli.viaduct("pki", "bundle", "--out", bundle, p("ca.pem"), p("ca2.pem"), p("ca.pem"))
        #expect(both.status == 0, "\(both.stderr)")
        #expect(both.stdout.contains("wrote \(bundle): 2 CA certificates"))
        let text = try String(contentsOfFile: bundle, encoding: .utf8)
        #expect(text.components(separatedBy: "BEGIN CERTIFICATE").count - 1 == 2)
        // A gateway certificate is no CA: refused, nothing written.
        let wrong = try cli.viaduct("pki", "bundle", "--out", p("wrong.pem"), p("ca.pem"), p("dc1.pem"))
        #expect(wrong.status == 1 && wrong.stderr.contains("is not a CA certificate"))
        #expect(!FileManager.default.fileExists(atPath: p("wrong.pem")))
        // Reissued from the new CA, dc1 verifies against the overlap bundle, and so does the old dc2.
        let reissue = try cli.viaduct("pki", "issue", "--ca-cert", p("ca2.pem"), "--ca-key", p("ca2.key"), "--topology", file,
                                      "--gateway", "dc1", "--force")
        #expect(reissue.status == 0, "\(reissue.stderr)")
        if let r = try run("openssl", ["verify", "-CAfile", bundle, p("dc1.pem"), p("dc2.pem")]) {
            #expect(r.status == 0, "openssl: \(r.output)")
        }
        // Retiring the old CA: the bundle holds the new one alone, and dc2's old certificate no longer verifies.
        #expect(try cli.viaduct("pki", "bundle", "--out", bundle, p("ca2.pem")).status == 0)
        if let r = try run("openssl", ["verify", "-CAfile", bundle, p("dc2.pem")]) {
            #expect(r.status != 0)
        }
    }
}
