#!/bin/bash
# smoke.sh: the kernel lab's self-test. Proves, with nothing but iproute2, that the
# guest kernel carries ESP traffic the two ways Viaduct will program it:
#
#   xfrmi  an xfrm interface (`ip link add vd-peer type xfrm dev <underlay> if_id 42`);
#          states and policies carry `if_id 42`
#   vti    a VTI (`ip link add vd-peer type vti key 42 local .. remote ..`); states and
#          policies carry `mark 42`, and policy checks are off on the VTI itself
#
# Each case builds two namespaces joined by a veth (underlay 192.0.2.1/24 <-> .2/24),
# puts 169.254.10.1/30 <-> .2/30 on vd-peer, installs one AES-GCM-256 SA per direction
# (rfc4106(gcm(aes)), 288-bit key = 256-bit key + 32-bit salt, 128-bit ICV) and
# out/in/fwd policies for 0.0.0.0/0, pings across the tunnel and checks that the SAs'
# packet counters went up on both ends. It is not a test of Viaduct.
#
# usage (as root, on a kernel with ESP, GCM, xfrm interfaces and VTI):
#   Deploy/kernel-lab/vm-run Deploy/kernel-lab/guest/smoke.sh [xfrmi] [vti]
# Prints one PASS or FAIL line per check; exits 1 if any check failed, 2 on bad usage.
set -u -o pipefail

ns1=vdt-smoke1 ns2=vdt-smoke2
ul1=192.0.2.1 ul2=192.0.2.2
in1=169.254.10.1 in2=169.254.10.2
id=42
aead='rfc4106(gcm(aes))'
# Fixed test keys (36 bytes each: key + salt); one per direction, never reused elsewhere.
key12=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223
key21=0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f10111213
spi12=0x00001201 spi21=0x00002101

. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"  # pass, fail, check, in_ns, failures

if command -v ping >/dev/null; then ping=(ping); else ping=(busybox ping); fi

cleanup() {
    ip netns del "$ns1" 2>/dev/null
    ip netns del "$ns2" 2>/dev/null
    return 0
}
trap cleanup EXIT

# Packets an SA has processed, from `ip -s xfrm state get`: the line after
# "lifetime current:" reads "<n>(bytes), <m>(packets)".
sa_packets() {  # sa_packets NS SRC DST SPI [mark M]: a VTI's SAs are only found with their mark
    local ns=$1 src=$2 dst=$3 spi=$4; shift 4
    ip -n "$ns" -s xfrm state get src "$src" dst "$dst" proto esp spi "$spi" "$@" |
        awk '/lifetime current:/ { getline; sub(/\(packets\).*/, ""); sub(/.*, */, ""); print; exit }'
}

underlay() {  # two fresh namespaces joined by a veth
    cleanup
    ip netns add "$ns1" && ip netns add "$ns2" &&
        ip link add ul1 netns "$ns1" type veth peer name ul2 netns "$ns2" &&
        ip -n "$ns1" addr add "$ul1/24" dev ul1 && ip -n "$ns2" addr add "$ul2/24" dev ul2 &&
        ip -n "$ns1" link set lo up && ip -n "$ns2" link set lo up &&
        ip -n "$ns1" link set ul1 up && ip -n "$ns2" link set ul2 up
}

# install_sas NS LOCAL REMOTE SELECTOR...: both SAs and the out/in/fwd policies on one
# side; SELECTOR is `if_id 42` or `mark 42`.
install_sas() {
    local ns=$1 local=$2 remote=$3 out_spi in_spi out_key in_key; shift 3
    if [ "$local" = "$ul1" ]; then
        out_spi=$spi12 in_spi=$spi21 out_key=$key12 in_key=$key21
    else
        out_spi=$spi21 in_spi=$spi12 out_key=$key21 in_key=$key12
    fi
    ip -n "$ns" xfrm state add src "$local" dst "$remote" proto esp spi "$out_spi" reqid 1 \
            mode tunnel aead "$aead" "$out_key" 128 "$@" &&
        ip -n "$ns" xfrm state add src "$remote" dst "$local" proto esp spi "$in_spi" reqid 1 \
            mode tunnel aead "$aead" "$in_key" 128 "$@" &&
        ip -n "$ns" xfrm policy add dir out src 0.0.0.0/0 dst 0.0.0.0/0 "$@" \
            tmpl src "$local" dst "$remote" proto esp reqid 1 mode tunnel &&
        for dir in in fwd; do
            ip -n "$ns" xfrm policy add dir "$dir" src 0.0.0.0/0 dst 0.0.0.0/0 "$@" \
                tmpl src "$remote" dst "$local" proto esp reqid 1 mode tunnel || return 1
        done
}

tunnel_addresses() {
    ip -n "$ns1" addr add "$in1/30" dev vd-peer && ip -n "$ns2" addr add "$in2/30" dev vd-peer &&
        ip -n "$ns1" link set vd-peer up && ip -n "$ns2" link set vd-peer up
}

# ping_and_count CASE [mark M]: pings both ways and checks all four SA counters rose.
ping_and_count() {
    local case=$1 b1 b2 b3 b4 a1 a2 a3 a4; shift
    b1=$(sa_packets "$ns1" "$ul1" "$ul2" "$spi12" "$@") b2=$(sa_packets "$ns2" "$ul1" "$ul2" "$spi12" "$@")
    b3=$(sa_packets "$ns2" "$ul2" "$ul1" "$spi21" "$@") b4=$(sa_packets "$ns1" "$ul2" "$ul1" "$spi21" "$@")
    check "$case: ping $in1 -> $in2 through the tunnel" in_ns "$ns1" "${ping[@]}" -c 3 -i 0.2 -w 10 "$in2"
    check "$case: ping $in2 -> $in1 through the tunnel" in_ns "$ns2" "${ping[@]}" -c 3 -i 0.2 -w 10 "$in1"
    a1=$(sa_packets "$ns1" "$ul1" "$ul2" "$spi12" "$@") a2=$(sa_packets "$ns2" "$ul1" "$ul2" "$spi12" "$@")
    a3=$(sa_packets "$ns2" "$ul2" "$ul1" "$spi21" "$@") a4=$(sa_packets "$ns1" "$ul2" "$ul1" "$spi21" "$@")
    counted "$case: SA $spi12 out on $ns1" "$b1" "$a1"
    counted "$case: SA $spi12 in on $ns2" "$b2" "$a2"
    counted "$case: SA $spi21 out on $ns2" "$b3" "$a3"
    counted "$case: SA $spi21 in on $ns1" "$b4" "$a4"
    # Pings are 3 + 3 echo requests and as many replies: each SA carries 6.
    echo "    $case: packets ${spi12}: $b1->$a1 (out) $b2->$a2 (in); ${spi21}: $b3->$a3 (out) $b4->$a4 (in)"
}
counted() {  # counted DESCRIPTION BEFORE AFTER
    if [[ $2 =~ ^[0-9]+$ && $3 =~ ^[0-9]+$ ]] && (($3 >= $2 + 6)); then
        pass "$1 counted $(($3 - $2)) packets"
    else
        fail "$1 counted '$2' -> '$3' packets, expected at least 6 more"
    fi
}

case_xfrmi() {
    echo "== xfrmi: xfrm interface vd-peer, if_id $id"
    check "xfrmi: underlay $ul1/24 <-> $ul2/24" underlay || return
    check "xfrmi: ip link add vd-peer type xfrm if_id $id (both ends)" eval \
        "ip -n $ns1 link add vd-peer type xfrm dev ul1 if_id $id &&
         ip -n $ns2 link add vd-peer type xfrm dev ul2 if_id $id" || return
    check "xfrmi: tunnel addresses $in1/30 <-> $in2/30" tunnel_addresses || return
    check "xfrmi: AES-GCM-256 states and policies with if_id $id on $ns1" \
        install_sas "$ns1" "$ul1" "$ul2" if_id "$id" || return
    check "xfrmi: AES-GCM-256 states and policies with if_id $id on $ns2" \
        install_sas "$ns2" "$ul2" "$ul1" if_id "$id" || return
    ping_and_count xfrmi
}

case_vti() {
    echo "== vti: VTI vd-peer, key/mark $id"
    check "vti: underlay $ul1/24 <-> $ul2/24" underlay || return
    check "vti: ip link add vd-peer type vti key $id (both ends)" eval \
        "ip -n $ns1 link add vd-peer type vti key $id local $ul1 remote $ul2 &&
         ip -n $ns2 link add vd-peer type vti key $id local $ul2 remote $ul1" || return
    # The VTI's own inbound policy check would drop the decrypted packets: the policy
    # the SA matched is keyed by mark, which the packet no longer carries there.
    check "vti: disable_policy=1 on vd-peer (both ends)" eval \
        "ip netns exec $ns1 sysctl -qw net.ipv4.conf.vd-peer.disable_policy=1 &&
         ip netns exec $ns2 sysctl -qw net.ipv4.conf.vd-peer.disable_policy=1" || return
    check "vti: tunnel addresses $in1/30 <-> $in2/30" tunnel_addresses || return
    check "vti: AES-GCM-256 states and policies with mark $id on $ns1" \
        install_sas "$ns1" "$ul1" "$ul2" mark "$id" || return
    check "vti: AES-GCM-256 states and policies with mark $id on $ns2" \
        install_sas "$ns2" "$ul2" "$ul1" mark "$id" || return
    ping_and_count vti mark "$id"
}

[ "$(id -u)" = 0 ] || { echo "FAIL smoke.sh must run as root"; exit 2; }
cases=("$@")
((${#cases[@]})) || cases=(xfrmi vti)
start=$SECONDS
echo "== kernel $(uname -r)"
for c in "${cases[@]}"; do
    case $c in
        xfrmi) case_xfrmi ;;
        vti) case_vti ;;
        *) echo "FAIL unknown case '$c' (xfrmi, vti)"; exit 2 ;;
    esac
    cleanup
done
echo "== modules: $(awk '$1 ~ /^(esp4|xfrm_interface|ip_vti|veth|gcm|aesni_intel|xfrm_user|xfrm_algo)$/ { printf "%s ", $1 }' /proc/modules 2>/dev/null)"
if ((failures)); then
    echo "FAIL smoke: $failures check(s) failed ($((SECONDS - start)) s)"
    exit 1
fi
echo "PASS smoke: all checks passed ($((SECONDS - start)) s)"
