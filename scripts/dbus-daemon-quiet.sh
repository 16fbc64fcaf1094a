#!/usr/bin/env bash
# The session bus for scripts/with-keyring.sh (its --dbus-daemon): the real
# dbus-daemon, with one line of its stderr dropped. Unprivileged, as in
# containers and CI, it cannot raise its open-file limit and says
# "Failed to set fd limit to 65536: Operation not permitted" at every start:
# harmless for a test session of a few connections, and noise in every test
# run. Only the daemon's stderr (and the services it starts, such as
# gnome-keyring) passes through the filter; the tests' own output does not.
#
# dbus-run-session reads the bus address from a pipe it names
# (`--print-address 4`, or `--print-address=4`; likewise --print-pid) until
# the pipe closes: the filter must not hold it open, or the session never
# starts.
pipes=()
prev=""
for arg in "$@"; do
  case "$arg" in --print-address=* | --print-pid=*) pipes+=("${arg#*=}") ;; esac
  case "$prev" in --print-address | --print-pid) pipes+=("$arg") ;; esac
  prev="$arg"
done
filter() {
  local fd
  for fd in "${pipes[@]}"; do
    [[ "$fd" =~ ^[0-9]+$ ]] && eval "exec $fd>&-"
  done
  exec grep -v --line-buffered 'Failed to set fd limit' >&2
}
exec dbus-daemon "$@" 2> >(filter)
