#!/usr/bin/env bash
# Runs a command (the test suite) with a real Secret Service for keytar: a private D-Bus
# session (dbus-run-session) with gnome-keyring's secrets component, its keyring unlocked
# with a throw-away password in fresh XDG_DATA_HOME / XDG_RUNTIME_DIR folders. The user's
# own keyring and session bus are never touched.
#
#   bash scripts/test-with-keyring.sh 'vitest run'
#   bash scripts/test-with-keyring.sh 'vitest run && playwright test' [more args…]
#
# Inside, SWITCHYARD_TEST_KEYRING=1 tells the tests a keychain must work. Without
# dbus-run-session or gnome-keyring-daemon (macOS, Windows, a bare Linux) the command runs
# as it is: the keychain tests then check the fallback ("no OS keychain … using
# environment keys only") instead, or use the platform's own keychain.
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  shift
  # Inside the private bus: the keyring daemon in the foreground (so it can be stopped by
  # its pid afterwards), unlocked, then the command once the daemon owns its bus name.
  printf %s "switchyard-test" | gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$SWITCHYARD_KEYRING_TMP/daemon.out" 2>"$SWITCHYARD_KEYRING_TMP/daemon.err" &
  daemon=$!
  ready=""
  if ! command -v dbus-send >/dev/null 2>&1; then
    # No way to ask the bus: give the daemon a moment, then trust it if it is still alive.
    sleep 0.5
    kill -0 "$daemon" 2>/dev/null && ready=1
  fi
  for _ in $(seq 1 200); do
    [ -n "$ready" ] && break
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
      ready=1
      break
    fi
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.05
  done
  if [ -n "$ready" ]; then
    export SWITCHYARD_TEST_KEYRING=1
  else
    echo "test-with-keyring: gnome-keyring-daemon did not start ($(head -c 300 "$SWITCHYARD_KEYRING_TMP/daemon.err")); keychain tests check the fallback instead" >&2
  fi
  set +e
  sh -c "$*"
  status=$?
  kill "$daemon" 2>/dev/null
  wait "$daemon" 2>/dev/null
  exit $status
fi

if [ $# -eq 0 ]; then
  echo "usage: $0 '<command>' [args…]" >&2
  exit 2
fi

if [ "${SWITCHYARD_TEST_KEYRING:-}" = "1" ] || ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  if [ "${SWITCHYARD_TEST_KEYRING:-}" != "1" ]; then
    echo "test-with-keyring: dbus-run-session or gnome-keyring-daemon not found; running without a private Secret Service" >&2
  fi
  exec sh -c "$*"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-keyring.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data" "$tmp/runtime"
chmod 700 "$tmp" "$tmp/data" "$tmp/runtime"
export XDG_DATA_HOME="$tmp/data"
export XDG_RUNTIME_DIR="$tmp/runtime"
export SWITCHYARD_KEYRING_TMP="$tmp"
# Not under `exec`: the trap must still remove the folder afterwards. (As root in a
# container, the bus daemon prints a harmless "Failed to set fd limit" notice.)
set +e
dbus-run-session -- bash "$0" --inside "$@"
status=$?
set -e
exit $status
