# Deploy/interop/lib/names.sh - the namespaces, addresses and identities of the strongSwan and pair scenarios.
# Sourced (sets variables only) by Deploy/interop/run.sh and Scripts/soak; NS_PREFIX (default vdt-io) lets two runs
# share a machine.
CHARON=${CHARON:-/usr/lib/ipsec/charon}
NS_PREFIX=${NS_PREFIX:-vdt-io}
NS_V=$NS_PREFIX-v
NS_S=$NS_PREFIX-s
NS_HV=$NS_PREFIX-hv
NS_HS=$NS_PREFIX-hs
NS_A=$NS_PREFIX-a
NS_B=$NS_PREFIX-b
NS_HA=$NS_PREFIX-ha
NS_HB=$NS_PREFIX-hb
NS_R=$NS_PREFIX-r
ALL_NS="$NS_V $NS_S $NS_HV $NS_HS $NS_A $NS_B $NS_HA $NS_HB $NS_R"
IP_V=192.0.2.1
IP_S=192.0.2.2
ID_V=viaduct-gw.example.net
ID_S=strongswan-gw.example.net
