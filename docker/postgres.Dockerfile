# PostgreSQL 15 with pgSphere, for docker-compose.yml: Debian 12's packages, as on our CI
# machines (today PostgreSQL 15.20 with pgSphere 1.2.0). PostgreSQL 15.20 refuses that
# pgSphere's install script as packaged, so pgsphere-fix.sh leaves its two obsolete operators
# out at build time (it changes nothing once Debian ships a fixed pgSphere).
FROM debian:bookworm-slim
COPY pgsphere-fix.sh /usr/local/bin/pgsphere-fix.sh
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-pgsphere \
 && rm -rf /var/lib/apt/lists/* \
 && /usr/local/bin/pgsphere-fix.sh /usr/share/postgresql/15/extension \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
EXPOSE 5432
CMD ["/usr/local/bin/postgres-entrypoint.sh"]
