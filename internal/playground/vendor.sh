#!/usr/bin/env bash
# Re-vendors the GraphiQL browser files under assets/ from the npm registry.
#
#   bash internal/playground/vendor.sh
#
# Needs npm (any version that has `npm pack --json`). It downloads the three
# exact package versions below with `npm pack` into a temporary directory,
# checks each tarball against the pinned sha512 integrity, and copies the
# prebuilt browser files (UMD bundles, no build step) and the LICENSE files
# into assets/. Nothing is installed and no node_modules is created.
#
# To move to other versions: change the versions, empty the integrity
# strings, run the script once (it prints the integrity npm reports and
# stops), paste them in, run it again, and update assets/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/assets"

# name version sha512-integrity
packages=(
	"graphiql 4.1.2 sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg=="
	"react 18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="
	"react-dom 18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw=="
)

# package file-in-tarball destination-name
files=(
	"graphiql package/graphiql.min.js graphiql.min.js"
	"graphiql package/graphiql.min.css graphiql.min.css"
	"graphiql package/LICENSE graphiql.LICENSE.txt"
	"react package/umd/react.production.min.js react.production.min.js"
	"react package/LICENSE react.LICENSE.txt"
	"react-dom package/umd/react-dom.production.min.js react-dom.production.min.js"
	"react-dom package/LICENSE react-dom.LICENSE.txt"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for entry in "${packages[@]}"; do
	read -r name version want <<<"$entry"
	mkdir -p "$tmp/$name"
	json="$(cd "$tmp" && npm pack --json --silent "$name@$version")"
	got="$(printf '%s' "$json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j[0].integrity)})')"
	file="$(printf '%s' "$json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j[0].filename)})')"
	if [[ -z "$want" || "$got" != "$want" ]]; then
		echo "vendor.sh: $name@$version has integrity $got, pinned ${want:-<none>}" >&2
		exit 1
	fi
	tar -xzf "$tmp/$file" -C "$tmp/$name"
	echo "fetched $name@$version ($got)"
done

for entry in "${files[@]}"; do
	read -r name src dst <<<"$entry"
	install -m 0644 "$tmp/$name/$src" "$out/$dst"
done

# Record what was vendored, so a test can check that the embedded copies
# are exactly these files.
(cd "$out" && for entry in "${files[@]}"; do
	read -r _ _ dst <<<"$entry"
	sha256sum "$dst"
done) >"$out/SHA256SUMS"

echo "vendored into $out:"
(cd "$out" && ls -l "${files[@]##* }" 2>/dev/null || ls -l)
