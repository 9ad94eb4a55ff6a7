# Sourced by the fetch scripts; they define die() and say().
#
# apt_download DIR PKG[:ARCH]=VERSION...: apt-get download the packages into
# DIR. If that fails, the package lists may be older than the archive (a
# point release replaced the version): run apt-get update once and retry.
apt_download() {
  local dir=$1
  shift
  if (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$@" >/dev/null 2>&1); then
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "apt-get download failed and apt-get update needs root: $*"
  say "apt-get update"
  apt-get update -qq >/dev/null 2>&1 || say "warning: apt-get update reported errors"
  (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$@" >/dev/null) ||
    die "apt-get download failed for: $* (is the Debian archive reachable? dpkg --add-architecture arm64?)"
}
