#!/bin/sh
# pgsphere-fix.sh EXTENSION_DIR
#
# Debian 12's pgSphere 1.2.0 (postgresql-15-pgsphere) declares two obsolete operators,
# `@ (bigint, smoc)` and `@ (spoint, smoc)`, whose COMMUTATOR clashes with `<@`. PostgreSQL
# 15.20 and later refuse that ("commutator operator @> is already the commutator of operator
# <@"), so CREATE EXTENSION pg_sphere fails. Upstream pgSphere dropped both in 1.4. This
# script leaves their two CREATE OPERATOR statements out of every pg_sphere--*.sql in
# EXTENSION_DIR, in place, and changes nothing else (a fixed pgSphere is left as it is). The
# image of docker-compose.yml runs it at build time; Tapir's embedded cluster does the same in
# a private copy (crates/pginstall), and a test checks that both give the same scripts.
set -eu
dir="${1:?usage: pgsphere-fix.sh EXTENSION_DIR}"
for script in "$dir"/pg_sphere--*.sql; do
    [ -f "$script" ] || continue
    awk '
        # A statement is obsolete when it defines the operator @ with one of the two argument pairs.
        function obsolete(text,    s) {
            s = tolower(text)
            gsub(/[ \t\r\n]+/, " ", s)
            gsub(/"/, "", s)
            if (s !~ /^create operator @ ?\(/) return 0
            if (s !~ /rightarg ?= ?smoc ?[,)]/) return 0
            return s ~ /leftarg ?= ?(bigint|spoint) ?[,)]/
        }
        !open && /^CREATE OPERATOR[ \t]/ { open = 1; statement = "" }
        open {
            statement = statement $0 "\n"
            if (index($0, ";")) {
                if (!obsolete(statement)) printf "%s", statement
                open = 0
            }
            next
        }
        { print }
        END { if (open) printf "%s", statement }
    ' "$script" > "$script.fixed"
    if cmp -s "$script" "$script.fixed"; then
        rm -f "$script.fixed"
    else
        cat "$script.fixed" > "$script"
        rm -f "$script.fixed"
        echo "pgsphere-fix: left the obsolete operators @(bigint, smoc) and @(spoint, smoc) out of $script"
    fi
done
