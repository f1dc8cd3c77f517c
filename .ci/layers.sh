#!/usr/bin/env bash
# Layering check (DESIGN §1): which package of this module may import which.
# Uses `go list -deps`; a package that doesn't exist yet is skipped.
# Prints nothing and exits 0 when every arrow points the right way.
set -euo pipefail
cd "$(dirname "$0")/.."

mod=$(go list -m)
mapfile -t present < <(go list -e ./... 2>/dev/null; go list -e -tags e2e ./... 2>/dev/null)
msgs=()
report() { msgs+=("layers: $*"); }

exists() { # exists PKG: is $mod/PKG a package of the module?
	local p
	for p in "${present[@]}"; do [[ $p == "$mod/$1" ]] && return 0; done
	return 1
}

# allow PKG RE...: every package of ours that PKG depends on (transitively,
# non-test) must be PKG itself, one of PKG's subpackages, or match one of the
# regular expressions (anchored, relative to the module path).
allow() {
	local pkg=$1
	shift
	exists "$pkg" || return 0
	local dep rel re ok
	while read -r dep; do
		[[ $dep == "$mod/$pkg" || $dep == "$mod/$pkg/"* ]] && continue
		rel=${dep#"$mod/"}
		ok=0
		for re in "$@"; do
			if [[ $rel =~ ^($re)$ ]]; then ok=1; break; fi
		done
		if ((ok == 0)); then
			report "$pkg must not import $rel (allowed: ${*:-nothing of ours})"
		fi
	done < <(go list -e -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "./$pkg" 2>/dev/null | grep "^$mod/" || true)
}

# Leaves.
allow conf internal/seal
allow mcast internal/seal internal/burst runtime/lifecycle
allow transport internal/seal internal/burst runtime/lifecycle
allow runtime/session internal/seal runtime/lifecycle
allow runtime/lifecycle
allow internal/seal
allow internal/testkit # tests-only helpers (imported by _test.go files only)
allow ajp
allow discovery # providers: discovery/dns, discovery/kubernetes (leaves too)
allow discovery/kubernetes discovery
allow discovery/dns discovery
allow internal/burst
# Consumers of the cluster seam see it only through their own interface.
allow deltamgr runtime/session runtime/lifecycle 'internal/.*'
allow redismgr runtime/session runtime/lifecycle 'internal/.*'
allow backupmgr deltamgr runtime/session runtime/lifecycle 'internal/.*'
allow farmdeploy internal/burst runtime/lifecycle
# Middle layers.
allow runtime/cluster mcast 'mcast/.*' transport 'transport/.*' runtime/lifecycle 'internal/.*'
allow runtime/host runtime/session runtime/lifecycle ajp 'internal/.*'
allow balancer mcast 'mcast/.*' runtime/lifecycle 'internal/.*'
# The admin listener reads the counters of the parts runtime/node wires.
allow runtime/admin runtime/session runtime/cluster deltamgr redismgr backupmgr farmdeploy mcast 'mcast/.*' transport 'transport/.*' runtime/lifecycle 'internal/.*'

# Direct imports (with tests, with and without the e2e tag): nothing imports
# tests/; cmd/X and examples/X are imported only from inside themselves; only
# runtime/node (the wiring place), cli (the command line), cmd/ and examples/
# import conf.
check_imports() {
	local from imports imp rel frel
	while read -r from imports; do
		frel=${from#"$mod"}
		frel=${frel#/}
		for imp in $imports; do
			[[ $imp == "$mod" || $imp == "$mod/"* ]] || continue
			rel=${imp#"$mod"}
			rel=${rel#/}
			case $rel in
			tests | tests/*)
				[[ $frel == tests || $frel == tests/* ]] || { report "$frel must not import $rel"; } ;;
			cmd/* | examples/*)
				local top
				top=$(cut -d/ -f1-2 <<<"$rel")
				[[ $frel == "$top" || $frel == "$top/"* ]] || { report "$frel must not import $rel"; } ;;
			conf | conf/*)
				case $frel in
				conf | conf/* | runtime/node | runtime/node/* | cli | cli/* | cmd/* | examples/* | tests | tests/* | deploy/*) ;; # deploy/*: checks of shipped configs
				*) report "$frel must not import $rel (only runtime/node maps the config model)" ;;
				esac ;;
			esac
		done
	done < <(
		for tags in "" e2e; do
			go list -e -tags "$tags" -f '{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... 2>/dev/null
		done
	)
}
check_imports

if ((${#msgs[@]})); then
	printf '%s\n' "${msgs[@]}" | sort -u
	exit 1
fi
