# Stand-in for python:3.11-slim: Debian bookworm's Python 3.11 with pip and venv, `python` on
# PATH as in the official image. It trusts the certificate authorities of the machine it was
# built on (local-ca/, filled by build.sh), and pip is told so: behind a TLS-inspecting proxy,
# pip in an image built from it reaches PyPI as the host does. Never for production (README.md).
FROM kassa-standin-base:bookworm
COPY local-ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
       python-is-python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV LANG=C.UTF-8 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
