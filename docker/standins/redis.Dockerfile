# Stand-in for redis:7.4: Debian bookworm's Redis (7.0). As the official image does, a server
# started without a configuration file accepts clients on the network (protected mode off).
# Never for production (README.md).
FROM kassa-standin-base:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
