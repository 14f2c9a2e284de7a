# Shared by Scripts/fresh-check and Scripts/package-install-test (sourced, not run): a pristine
# Debian 12 root made by debootstrap, cached as a tarball under /var/cache/viaduct-roots, and
# throwaway copies of it to chroot into. Needs root.
#
# The cache key is the candidate versions (apt-cache policy on this host) of a few base packages,
# plus the recipe's own version: when a point release or a security update changes one of them,
# the next run builds a new root and removes the old tarball. The root is brought up to those
# versions (apt-get upgrade against bookworm, bookworm-updates and bookworm-security) before it
# is cached, so it is what a freshly installed and updated Debian 12 machine holds.
#
# Variant minbase: Essential packages plus apt. That is all Scripts/deps assumes (bash, dpkg-query,
# apt-get, coreutils, grep, util-linux's flock/setsid); nothing from the default variant's
# "important" set (no ca-certificates, no iproute2, no man-db), so every package the project
# needs must be named in Scripts/deps or be a dependency of one that is.

roots_cache=${VIADUCT_ROOTS_CACHE:-/var/cache/viaduct-roots}
suite=bookworm
variant=minbase
mirror=${VIADUCT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${VIADUCT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
recipe=1            # bump when the recipe below changes, so cached roots are rebuilt
key_packages=(base-files libc6 dpkg apt)

stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  local status=0
  "$@" || status=$?
  echo "=== $name: $((SECONDS - start)) s"
  return "$status"
}

need_tools() {  # need_tools COMMAND:PACKAGE...: installs the packages of missing commands
  local want=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || want+=("${pair#*:}"); done
  ((${#want[@]})) || return 0
  echo "installing on this host: ${want[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
}

# The key: "bookworm-minbase-r1_base-files=12.4+deb12u11_libc6=..." from the host's apt lists,
# refreshed first so that a new version in the archive is seen.
pristine_key() {
  apt-get update -qq >&2 || return 1
  local key="$suite-$variant-r$recipe" p v
  for p in "${key_packages[@]}"; do
    v=$(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then echo "pristine root: no candidate version of $p on this host" >&2; return 1; fi
    key+="_$p=$v"
  done
  printf '%s\n' "${key//[:~]/-}"
}

# Writes what the chroot needs from the host to use apt: DNS, and the host's Acquire::Check-*
# settings (a mirror serving a dated snapshot needs the same tolerance inside as outside).
chroot_runtime_files() {
  local root=$1
  rm -f "$root/etc/resolv.conf"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' >"$root/etc/apt/apt.conf.d/00viaduct-host" || true
}

# Mounts /proc, /sys and /dev/pts in the root; chroot_unmount undoes it. /dev itself is the
# static one debootstrap made (null, zero, random, urandom, tty, ptmx...), never the host's, so
# removing a root can never reach a host device node.
chroot_mount() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount -t sysfs -o ro sysfs "$root/sys"
  mkdir -p "$root/dev/pts"
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
}

# Stops any process still running inside the root (a package's daemon started by a maintainer
# script despite policy-rc.d; only processes this run started can have that root), then unmounts.
chroot_unmount() {
  local root=$1 pid link mnt
  root=$(realpath -m "$root")
  for link in /proc/[0-9]*/root; do
    [ "$(readlink "$link" 2>/dev/null)" = "$root" ] || continue
    pid=${link#/proc/}; pid=${pid%/root}
    echo "stopping process $pid left in the root: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
    kill -9 "$pid" 2>/dev/null || true
  done
  # Innermost first.
  for mnt in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  done
}

# Removes a throwaway root, refusing while anything is still mounted inside it.
remove_root() {
  local root; root=$(realpath -m "$1")
  [ -d "$root" ] || return 0
  chroot_unmount "$root"
  if awk -v r="$root/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "not removing $root: still mounted inside" >&2; return 1
  fi
  rm -rf --one-file-system "$root"
}

# Builds the pristine root into $1 (an empty directory) and brings it up to date.
build_pristine_root() {
  local root=$1
  debootstrap --variant="$variant" "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log" >&2; echo "debootstrap failed (log: $root.debootstrap.log)" >&2; return 1; }
  rm -f "$root.debootstrap.log" "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # A chroot must not start services: invoke-rc.d asks policy-rc.d, 101 = "action forbidden".
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  chroot_runtime_files "$root"
  chroot_mount "$root"
  local status=0
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
    sh -c 'apt-get update -qq && apt-get upgrade -y -qq >/dev/null && apt-get clean' || status=$?
  chroot_unmount "$root"
  rm -rf "$root"/var/lib/apt/lists/* "$root/etc/apt/apt.conf.d/00viaduct-host"
  : >"$root/etc/resolv.conf"
  return "$status"
}

# Sets pristine_tarball to the cached root for the current key, building it when missing.
ensure_pristine_root() {
  local key; key=$(pristine_key) || return 1
  pristine_tarball="$roots_cache/$key.tar.zst"
  if [ -s "$pristine_tarball" ] && [ -z "${VIADUCT_REBUILD_ROOT:-}" ]; then
    echo "pristine root: cached $pristine_tarball ($(du -h "$pristine_tarball" | cut -f1))"
    return 0
  fi
  echo "pristine root: building $key (debootstrap --variant=$variant $suite, then apt-get upgrade)"
  mkdir -p "$roots_cache"
  local build="$roots_cache/.build-$$"
  remove_root "$build" && mkdir -p "$build" || return 1
  if ! build_pristine_root "$build"; then remove_root "$build"; return 1; fi
  # The key must describe what the root holds; a host with stale lists would lie.
  local p want have
  for p in "${key_packages[@]}"; do
    want=$(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')
    have=$(chroot "$build" dpkg-query -W -f='${Version}' "$p")
    if [ "$want" != "$have" ]; then
      echo "pristine root: $p is $have in the root but $want on this host; not caching" >&2
      remove_root "$build"; return 1
    fi
  done
  tar -C "$build" --numeric-owner --xattrs -I 'zstd -T0 -3 -q' -cf "$pristine_tarball.part" . &&
    mv "$pristine_tarball.part" "$pristine_tarball" || { remove_root "$build"; return 1; }
  remove_root "$build"
  # Older keys are dead weight now.
  find "$roots_cache" -maxdepth 1 -name "$suite-$variant-r*.tar.zst" ! -path "$pristine_tarball" -print -delete |
    sed 's/^/pristine root: removed old /'
  echo "pristine root: cached $pristine_tarball ($(du -h "$pristine_tarball" | cut -f1))"
}

# Extracts a throwaway copy of the pristine root into $1, ready to chroot into (mounted).
extract_root() {
  local root=$1
  remove_root "$root" && mkdir -p "$root" || return 1
  tar -C "$root" --numeric-owner --xattrs -I zstd -xf "$pristine_tarball" || return 1
  chroot_runtime_files "$root"
  chroot_mount "$root"
}

# Runs a command in the root with a clean environment.
in_root() {
  local root=$1; shift
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}
