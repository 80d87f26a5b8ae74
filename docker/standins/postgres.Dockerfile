# Stand-in for postgres:17: Debian bookworm's PostgreSQL (15), with an entrypoint that, like the
# official image's, creates the cluster in the data volume on first start from POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB, and listens on the network with password logins. Never for
# production (README.md).
FROM kassa-standin-base:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# PostgreSQL's fast shutdown: open transactions roll back, nothing half-written is kept.
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
