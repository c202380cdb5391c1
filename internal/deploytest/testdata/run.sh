#!/bin/sh
# The deploy test inside the container (pgrtest.service): PostgreSQL laid
# out the Pigsty way on a non-loopback address, the install steps of
# docs/daemon.md as they stand, then what the Go test checks, in /results.
set -eux
T=/usr/local/lib/pgrtest
R=/results
IP=10.213.0.11
trap 'journalctl -u pgreconciler -o cat --no-pager >$R/journal-all.txt' EXIT

# An intranet address on lo: not a loopback address, so the local HBA
# writer must find it among this host's addresses (over netlink).
ip addr add $IP/32 dev lo

# The PostgreSQL of the test harness (PGBIN, PGMAJOR: 18 by default).
. $T/pg.env

# /pg -> /data/postgres/pg-test-<major>, the data directory postgres 0700.
install -d -o postgres -g postgres -m 0700 /data/postgres/pg-test-$PGMAJOR/data
ln -s /data/postgres/pg-test-$PGMAJOR /pg
runuser -u postgres -- $PGBIN/initdb -D /pg/data -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=pg-test-1 \
	-addext subjectAltName=IP:$IP -keyout /pg/data/server.key -out /pg/data/server.crt 2>/dev/null
chown postgres:postgres /pg/data/server.key /pg/data/server.crt
chmod 0600 /pg/data/server.key
cat >>/pg/data/postgresql.conf <<CONF
listen_addresses = '$IP'
unix_socket_directories = '/run/postgresql'
ssl = on
CONF
echo "hostssl all all $IP/32 scram-sha-256" >>/pg/data/pg_hba.conf
systemctl start pgrtest-postgres
# psql is the distribution's (the npm builds have none): any version
# talks to any server.
until runuser -u postgres -- psql -X -q -h /run/postgresql -c 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
runuser -u postgres -- psql -X -q -h /run/postgresql -c "CREATE ROLE dbuser_dba SUPERUSER LOGIN PASSWORD '$(cat $T/dba.pw)'"

# The spec repository is a file:// URL, which go-git reads with git-upload-pack
# as the service user: git refuses a repository owned by someone else unless
# listed in safe.directory.
git config --system --add safe.directory /srv/pgreconciler/fleet.git

# The install steps, in a checkout holding bin/reconciler, deploy/systemd
# (reconciler.yml edited for this test) and the files the configuration names.
cp /pg/data/server.crt $T/src/ca.crt
cd $T/src
sh -eux $T/install.sh
sh -eux $T/install-local.sh

converged() {
	curl -sf http://127.0.0.1:9910/status >$R/status.json &&
		grep -q '"last_result": "success"' $R/status.json &&
		grep -q dbuser_app /pg/data/pg_hba.conf
}
i=0
until converged || [ $i -ge 600 ]; do sleep 0.2; i=$((i + 1)); done
# This run of the service (the one with the drop-in) and the one before it.
INV=$(systemctl show -p InvocationID --value pgreconciler)
systemctl show pgreconciler -p ActiveState -p NRestarts -p User -p Group -p SupplementaryGroups \
	-p RestrictAddressFamilies -p RemoveIPC >$R/show.txt
stat -c '%n %U:%G %a' /pg/data/pg_hba.conf /var/lib/pgreconciler /var/cache/pgreconciler >$R/stat.txt
cp /pg/data/pg_hba.conf $R/pg_hba.conf
converged || exit 1
runuser -u postgres -- psql -X -Atq -h /run/postgresql -c "SELECT rolname FROM pg_roles WHERE rolname = 'dbuser_app'" >$R/roles.txt

systemctl reload pgreconciler
i=0
until journalctl -u pgreconciler -o cat | grep -q 'configuration reloaded' || [ $i -ge 100 ]; do sleep 0.2; i=$((i + 1)); done

ls /dev/shm >$R/shm-before.txt
systemctl stop pgreconciler
systemctl show pgreconciler -p ActiveState -p Result -p ExecMainStatus >$R/stop.txt
ls /dev/shm >$R/shm-after.txt
journalctl _SYSTEMD_INVOCATION_ID=$INV -o cat --no-pager >$R/journal.txt
echo done >$R/done
