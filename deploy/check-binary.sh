#!/usr/bin/env bash
# No container engine runs in CI, so CI checks the image's binary without
# one: it builds it with deploy/build.sh (the script the Dockerfile's build
# stage runs), checks that it is static and carries the image's build
# flags, then runs it as the Dockerfile's USER, with the image's settings
# (a clean environment, MIDDLETIER_ADDR and MIDDLETIER_DATA_DIR), until
# /readyz answers, and stops it with SIGTERM, which must end in exit 0.
#
# Usage: bash deploy/check-binary.sh (as root, or with sudo; CI runs as root)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	else
		sudo "$@"
	fi
}

# What the Dockerfile says; read from it so the two cannot drift.
grep -Eq '^RUN sh deploy/build.sh ' Dockerfile || fail "the Dockerfile does not build with deploy/build.sh"
user=$(awk '$1 == "USER" { u = $2 } END { print u }' Dockerfile)
[[ $user =~ ^([0-9]+):([0-9]+)$ ]] || fail "the Dockerfile's USER must be a numeric uid:gid, got '$user'"
uid=${BASH_REMATCH[1]} gid=${BASH_REMATCH[2]}
((uid != 0)) || fail "the Dockerfile's USER is root"

work=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	as_root rm -rf "$work"
}
trap cleanup EXIT
chmod 0755 "$work"

bin="$work/middletier"
sh deploy/build.sh "$bin"

# Go's build info records CGO_ENABLED and -trimpath (with -trimpath it
# leaves -ldflags out, as they may hold paths): -s -w shows as no symbols.
info=$(go version -m "$bin")
for want in 'CGO_ENABLED=0' '-trimpath=true'; do
	grep -qF -- "$want" <<<"$info" || fail "the binary was not built with $want:"$'\n'"$info"
done
if go tool nm "$bin" >/dev/null 2>&1; then
	fail "the binary has a symbol table: not built with -ldflags \"-s -w\""
fi
if ldd "$bin" >/dev/null 2>&1; then
	fail "ldd lists shared libraries: $(ldd "$bin")"
fi
if command -v file >/dev/null 2>&1; then
	desc=$(file -b "$bin")
	grep -q 'statically linked' <<<"$desc" || fail "not statically linked: $desc"
	echo "binary: $desc"
fi
echo "built with CGO_ENABLED=0 -trimpath, no symbol table, no shared libraries"

mkdir "$work/data"
as_root chown "$uid:$gid" "$work/data"
log="$work/service.log"
# Not through a function: $! must be the service (or sudo, which passes
# signals on), not a subshell.
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	env -i PATH=/usr/bin:/bin MIDDLETIER_ADDR=127.0.0.1:0 MIDDLETIER_DATA_DIR="$work/data" \
	"$bin" serve >"$log" 2>&1 &
pid=$!

addr=
for _ in $(seq 1 600); do
	kill -0 "$pid" 2>/dev/null || {
		cat "$log" >&2
		fail "the service exited before it was ready"
	}
	if [[ -z $addr ]]; then
		addr=$(grep -oE 'msg=listening addr=\[[0-9.]+:[0-9]+' "$log" | head -n 1 | sed 's/.*\[//') || true
	fi
	if [[ -n $addr ]] && curl -fsS "http://$addr/readyz" >/dev/null 2>&1; then
		break
	fi
	sleep 0.5
done
[[ -n $addr ]] && curl -fsS "http://$addr/readyz" >/dev/null || {
	cat "$log" >&2
	fail "/readyz did not answer"
}
# setpriv and env exec the service in place (under sudo: its child).
seen=
for p in $pid $(pgrep -P "$pid" 2>/dev/null || true); do
	if [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$bin" ]]; then
		ids=$(awk '/^Uid:/ { print $2 }' "/proc/$p/status")
		[[ $ids == "$uid" ]] || fail "the service runs as uid $ids, want $uid"
		echo "ready at http://$addr/readyz as uid $ids"
		seen=1
	fi
done
[[ -n $seen ]] || fail "found no process running $bin"
[[ -n $(ls -A "$work/data") ]] || fail "the service wrote nothing to its data directory"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
((status == 0)) || {
	cat "$log" >&2
	fail "the service exited with $status after SIGTERM, want 0"
}
grep -q 'msg=stopped' "$log" || fail "the service did not log a clean stop"
echo "stopped cleanly on SIGTERM"
