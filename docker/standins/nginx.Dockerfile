# Stand-in for nginx:1.28: Debian bookworm's nginx (1.22; docker/nginx.conf uses nothing newer),
# in the foreground, its logs on the container's output. Never for production (README.md).
FROM kassa-standin-base:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
