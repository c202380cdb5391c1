#!/usr/bin/env python3
"""Render Pigsty's PgBouncer files for one instance of an inventory, with
Pigsty's own Jinja templates, to make the golden files of
TestRenderMatchesPigsty. Not run by the tests; see README.md here.

    render.py PIGSTY_DIR INVENTORY STORED_JSON HOST_IP OUT_DIR

PIGSTY_DIR is a checkout of pgsty/pigsty (roles/pgsql/templates/ is read
from it: pgbouncer.useropts, pgbouncer.database, pgbouncer.hba; Pigsty's
code is not copied into this repository). INVENTORY is a Pigsty inventory
(YAML, or JSON such as `cue export` prints). STORED_JSON maps role names to
what pg_authid.rolpassword holds for roles whose password the inventory
does not give (null for NULL). Writes userlist.txt, useropts.txt,
database.txt and pgb_hba.conf into OUT_DIR.

What stands in for Ansible: its variable precedence (host vars > group
vars > all.vars > role defaults), the template module's Jinja settings
(trim_blocks, trailing newline kept), the bool, regex_search and strftime
filters, and pgb-user (files/postgres/pgb-user), whose userlist.txt is
emulated: "<dbsu>" "" first, then the monitor, the admin and each pg_users
entry with pgbouncer true (not absent, not with pgbouncer_auth_query), each
with what pg_authid holds (a verifier in the inventory is stored verbatim
by PostgreSQL), then sort -r | uniq in the C locale.

Pigsty v4.5 sorts the HBA rules by their order field before the loop
(pigsty-model.md 5.4); templates without that step are given the list
already sorted that way.
"""
import json
import os
import re
import sys

import jinja2
import yaml

# Pigsty v4.5 role defaults for what these templates read.
DEFAULTS = {
    "pg_dbsu": "postgres", "pg_replication_username": "replicator", "pg_admin_username": "dbuser_dba",
    "pg_monitor_username": "dbuser_monitor", "pg_pwd_enc": "scram-sha-256", "pg_localhost": "/var/run/postgresql",
    "pg_port": 5432, "pgbouncer_port": 6432, "pgbouncer_auth_query": False, "pg_offline_query": False,
    "admin_ip": "10.10.10.10", "node_firewall_intranet": ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"],
    "pg_users": [], "pg_databases": [], "pgb_hba_rules": [],
    "pg_default_roles": [
        {"name": "dbrole_readonly", "login": False}, {"name": "dbrole_offline", "login": False},
        {"name": "dbrole_readwrite", "login": False}, {"name": "dbrole_admin", "login": False},
        {"name": "postgres", "superuser": True}, {"name": "replicator", "replication": True},
        {"name": "dbuser_dba", "superuser": True, "pgbouncer": True, "pool_mode": "session", "pool_connlimit": 16},
        {"name": "dbuser_monitor", "pgbouncer": True, "pool_mode": "session", "pool_connlimit": 8},
    ],
    "pgb_default_hba_rules": [
        {"user": "${dbsu}", "db": "pgbouncer", "addr": "local", "auth": "peer", "title": "dbsu local admin access with os ident", "order": 100},
        {"user": "all", "db": "all", "addr": "localhost", "auth": "pwd", "title": "allow all user local access with pwd", "order": 150},
        {"user": "${monitor}", "db": "pgbouncer", "addr": "intra", "auth": "pwd", "title": "monitor access via intranet with pwd", "order": 200},
        {"user": "${monitor}", "db": "all", "addr": "world", "auth": "deny", "title": "reject all other monitor access addr", "order": 250},
        {"user": "${admin}", "db": "all", "addr": "intra", "auth": "pwd", "title": "admin access via intranet with pwd", "order": 300},
        {"user": "${admin}", "db": "all", "addr": "world", "auth": "deny", "title": "reject all other admin access addr", "order": 350},
        {"user": "all", "db": "all", "addr": "intra", "auth": "pwd", "title": "allow all user intra access with pwd", "order": 400},
    ],
}


def to_bool(a):  # ansible.plugins.filter.core.to_bool
    if a is None or isinstance(a, bool):
        return a
    if isinstance(a, str):
        a = a.lower()
    return a in ("yes", "on", "1", "true", 1)


def groups_of(inv, ip):
    """Every group (name, vars) that lists ip, walking children."""
    out = []

    def walk(name, g):
        g = g or {}
        if ip in (g.get("hosts") or {}):
            out.append((name, g.get("vars") or {}))
        for cname, c in (g.get("children") or {}).items():
            walk(cname, c)

    for name, g in (inv["all"].get("children") or {}).items():
        walk(name, g)
    return out


def host_vars(inv, ip):
    v = dict(DEFAULTS)
    v.update(inv["all"].get("vars") or {})
    groups = groups_of(inv, ip)
    for _, gv in sorted(groups, key=lambda g: g[0]):
        v.update(gv)
    for name, g in (inv["all"].get("children") or {}).items():
        hv = ((g or {}).get("hosts") or {}).get(ip)
        if hv:
            v.update(hv)
    return v, groups


def main():
    pigsty, inv_path, stored_path, ip, out = sys.argv[1:6]
    with open(inv_path) as f:
        inv = yaml.safe_load(f)
    with open(stored_path) as f:
        stored = json.load(f)
    v, groups = host_vars(inv, ip)
    members = []
    for name, g in (inv["all"].get("children") or {}).items():
        for hip in ((g or {}).get("hosts") or {}):
            hv, _ = host_vars(inv, hip)
            if hv.get("pg_cluster") == v["pg_cluster"]:
                members.append(hip)
    infra = sorted((((inv["all"].get("children") or {}).get("infra") or {}).get("hosts") or {}).keys())
    rules = v["pgb_default_hba_rules"] + v["pgb_hba_rules"]
    ordered = sorted([r for r in rules if "order" in r], key=lambda r: r["order"])
    rules = ordered + [r for r in rules if "order" not in r]
    v.update({
        "inventory_hostname": ip, "pg_instance": "%s-%s" % (v["pg_cluster"], v["pg_seq"]),
        "pg_cluster_members": sorted(set(members)), "groups": {"infra": infra}, "ansible_managed": "Ansible managed",
        "pgb_default_hba_rules": rules, "pgb_hba_rules": [],
    })
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(pigsty, "roles/pgsql/templates")),
                             trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["bool"] = to_bool
    env.filters["regex_search"] = lambda s, p: re.search(p, s) is not None
    env.filters["strftime"] = lambda fmt: "2026-01-01 00:00"
    os.makedirs(out, exist_ok=True)
    for tmpl, name in [("pgbouncer.useropts", "useropts.txt"), ("pgbouncer.database", "database.txt"), ("pgbouncer.hba", "pgb_hba.conf")]:
        with open(os.path.join(out, name), "w") as f:
            f.write(env.get_template(tmpl).render(**v))

    # pg_authid as PostgreSQL holds it: a verifier from the inventory
    # verbatim, system passwords from the pg_*_password globals, the rest
    # from STORED_JSON; a role in none of them does not exist.
    authid = dict(stored)
    system = {v["pg_admin_username"]: "pg_admin_password", v["pg_monitor_username"]: "pg_monitor_password",
              v["pg_replication_username"]: "pg_replication_password", v["pg_dbsu"]: "pg_dbsu_password"}
    for r in v["pg_default_roles"] + v["pg_users"]:
        if r.get("state") == "absent":
            authid.pop(r["name"], None)
            continue
        pw = r.get("password") or v.get(system.get(r["name"], ""), "")
        if pw:
            assert pw.startswith("SCRAM-SHA-256$") or pw.startswith("md5"), "fixture passwords must be verifiers"
            authid[r["name"]] = pw
    entries = {}

    def pgb_user(name, password=None):
        if password is not None:  # NULL
            entries[name] = password
        elif name in authid:  # AUTO
            entries[name] = authid[name] or ""

    pgb_user(v["pg_dbsu"], "")
    pgb_user(v["pg_monitor_username"])
    pgb_user(v["pg_admin_username"])
    for u in v["pg_users"]:
        if u.get("state") != "absent" and "pgbouncer" in u and to_bool(u["pgbouncer"]) and not to_bool(v["pgbouncer_auth_query"]):
            pgb_user(u["name"])
    lines = sorted({'"%s" "%s"' % kv for kv in entries.items()}, reverse=True)
    with open(os.path.join(out, "userlist.txt"), "w") as f:
        f.write("".join(l + "\n" for l in lines))


if __name__ == "__main__":
    main()
