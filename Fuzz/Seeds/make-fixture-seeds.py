#!/usr/bin/env python3
# Writes the seed corpora that come from the repository's byte fixtures of real captures
# (docs/fuzzing.md): strongSwan 5.9 IKE and ESP packets (Tests/IKEv2Tests/Fixtures.swift,
# Tests/ESPTests/CaptureFixtures.swift, from /work/shared/labs/strongswan/capture), iproute2
# netlink messages captured with strace (Tests/KernelModelTests/IPRoute2Captures.swift) and the
# example topologies (Topologies/). The engine-made seeds come from Scripts/fuzz --write-seeds.
# Run from the repository root: python3 Fuzz/Seeds/make-fixture-seeds.py
import os, re, struct, glob, shutil

ROOT = "Fuzz/Corpus"

def put(target, name, data):
    os.makedirs(f"{ROOT}/{target}", exist_ok=True)
    with open(f"{ROOT}/{target}/{name}", "wb") as f:
        f.write(data)

def swift_hex_blocks(path):
    """name -> bytes for `static let name = hex(...)` and `static let name = "..."` fixtures."""
    text = open(path).read()
    out = {}
    for m in re.finditer(r'static let (\w+) = hex\((.*?)\)\n', text, re.S):
        out[m.group(1)] = bytes.fromhex("".join(re.findall(r'"([0-9a-fA-F]*)"', m.group(2))))
    for m in re.finditer(r'static let (\w+) = "([0-9a-fA-F]+)"', text):
        out[m.group(1)] = bytes.fromhex(m.group(2))
    return out

def record(b):
    return struct.pack(">H", len(b)) + b

# IKE: whole messages (UDP/500 payloads, marker stripped) and SK plaintexts.
ike = swift_hex_blocks("Tests/IKEv2Tests/Fixtures.swift")
firsts = {"ikeAuthRequestInner": 35, "ikeAuthResponseInner": 36, "createChildSARequestInner": 41,
          "createChildSAResponseInner": 33, "informationalDeleteChildRequestInner": 42,
          "informationalDeleteChildResponseInner": 42, "informationalDeleteIKERequestInner": 42,
          "informationalDeleteIKEResponseInner": 0}
for name, data in ike.items():
    if name in firsts:
        put("ike-decode", f"strongswan-{name}", bytes([firsts[name]]) + data)
    else:
        put("ike-decode", f"strongswan-{name}", data)
        # ike-responder: flags 0 (no cookies) / 1 (cookies), the message from gw1:500 (source 0).
        put("ike-responder", f"strongswan-{name}", b"\x00" + b"\x00" + record(data))
put("ike-responder", "strongswan-ikeSAInitRequest-cookie", b"\x01" + b"\x00" + record(ike["ikeSAInitRequest"]))
put("ike-responder", "strongswan-ikeSAInitRequest-twice", b"\x00" + b"\x00" + record(ike["ikeSAInitRequest"])
    + b"\x80" + record(ike["ikeSAInitRequest"]) + b"\x00" + record(ike["ikeAuthRequest"]))
put("ike-responder", "strongswan-ikeSAInitRequest-unknown-source", b"\x00" + b"\x02" + record(ike["ikeSAInitRequest"]))

# ike-stateful: strongSwan's plaintexts as the fuzzed messages (mode, kind, first, record).
modes = {"ikeAuthRequestInner": (0, 0), "ikeAuthResponseInner": (1, 0), "createChildSARequestInner": (2, 1),
         "createChildSAResponseInner": (4, 1), "informationalDeleteChildRequestInner": (2, 2),
         "informationalDeleteChildResponseInner": (4, 10), "informationalDeleteIKERequestInner": (3, 2),
         "informationalDeleteIKEResponseInner": (4, 14)}
for name, (mode, kind) in modes.items():
    put("ike-stateful", f"strongswan-{name}", bytes([mode, kind, firsts[name]]) + record(ike[name]))
# ike-fragments: strongSwan's IKE_AUTH request plaintext in 3 fragments.
plain = ike["ikeAuthRequestInner"]
n = (len(plain) + 2) // 3
chunks = [plain[i:i + n] for i in range(0, len(plain), n)]
put("ike-fragments", "strongswan-ikeAuthRequestInner-3", b"\x00" + b"".join(
    bytes([i + 1, len(chunks), 35 if i == 0 else 0, 0]) + record(c) for i, c in enumerate(chunks)))

# ESP: the captured ESP-in-UDP payloads, as raw datagrams (kind 1), one per batch and all in one.
text = open("Tests/ESPTests/CaptureFixtures.swift").read()
esp = [bytes.fromhex(re.sub(r'[^0-9a-f]', '', m)) for m in re.findall(r'esp: hex\("""(.*?)"""\)', text, re.S)]
rekeyed = [bytes.fromhex(re.sub(r'[^0-9a-f]', '', m)) for m in
           re.findall(r'hex\("""(.*?)"""\)', text.split("rekeyedFrames")[1], re.S)]
for i, p in enumerate(esp + rekeyed):
    put("esp-inbound", f"strongswan-esp-frame-{i}", b"\x04" + struct.pack(">HB", 0, 0) + b"\x01" + b"\x00" * 4 + record(p))
batch = b"\x04" + struct.pack(">HB", 0, len(esp) - 1) + b"".join(b"\x01" + b"\x00" * 4 + record(p) for p in esp)
put("esp-inbound", "strongswan-esp-all", batch)
gro = b"\x04" + struct.pack(">HB", len(esp[0]), 1) + b"".join(b"\x01" + b"\x00" * 4 + record(p) for p in (esp[0], esp[2]))
put("esp-inbound", "strongswan-esp-gro", gro)

# Netlink: iproute2's requests and the kernel's replies.
for name, data in swift_hex_blocks("Tests/KernelModelTests/IPRoute2Captures.swift").items():
    put("netlink-decode", f"iproute2-{name}", data)

# Topologies: the examples and the invalid ones.
for path in sorted(glob.glob("Topologies/*.yaml") + glob.glob("Topologies/invalid/*.yaml")):
    shutil.copy(path, f"{ROOT}/topology/" + path.replace("/", "-"))
