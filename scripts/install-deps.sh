#!/usr/bin/env bash
# install-deps.sh: install the system packages pgreconciler's tests need on
# Debian 12 (PostgreSQL 15 and its pgaudit extension, PgBouncer 1.18
# (started by the tests beside each test instance, never as a service),
# OpenSSH server, openssl, gnupg, git, promtool, CA certificates; curl and
# make for the demo and its test; systemd, systemd-nspawn and iproute2 for
# the systemd unit's test, which boots systemd in a container; chromium, run
# headless by the audit report's test; Patroni with its etcd client library
# and the etcd server for the Patroni-managed clusters of
# internal/testenv/patronienv). Idempotent: apt-get runs only when something
# is missing, and no system service is started by the installation.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

# present PACKAGE: is the package installed and are its key files there?
present() {
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
	*) return 0 ;;
	esac
}

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
	die "this script needs Debian's dpkg and apt-get; install PostgreSQL 15 with pgaudit, PgBouncer, OpenSSH server, openssl, gnupg, git, promtool, ca-certificates, curl, make, systemd, systemd-nspawn, iproute2, chromium, Patroni (with python-etcd) and etcd by hand"

# python3-etcd is named because Patroni's DCS modules are alternatives (etcd,
# consul, zookeeper …); its etcd3 module needs python-etcd.
wanted=(postgresql-15 postgresql-15-pgaudit pgbouncer openssh-server openssl gnupg git prometheus ca-certificates curl make systemd systemd-container iproute2
	chromium patroni python3-etcd etcd-server)
missing=()
for pkg in "${wanted[@]}"; do
	present "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
	log "everything is installed"
	exit 0
fi

sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || die "not root and sudo is missing: cannot install ${missing[*]}"
	sudo=(sudo)
fi

# Keep maintainer scripts from starting services (the postgresql package
# would start a "15 main" cluster on port 5432, etcd-server an etcd on port
# 2379, the pgbouncer package its service on 6432; the tests never use them).
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
	"${sudo[@]}" chmod 0755 "$policy"
	trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

log "missing: ${missing[*]}; running apt-get update"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
	die "apt-get update failed"

# Older Debian releases ship contrib separately; on Debian 12 it is part of
# postgresql-15.
if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
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
