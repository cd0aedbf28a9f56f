#!/usr/bin/env bash
# Make sure Graphviz's `dot` program is available (tracegraph renders images with it).
# Installs it with apt-get when missing and running as root; otherwise explains how.
set -u
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Graphviz 'dot' not found: installing it with apt-get (package graphviz)..."
    export DEBIAN_FRONTEND=noninteractive
    if apt-get install -y -q graphviz >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q graphviz >/dev/null 2>&1; }; then
        echo "Graphviz installed: $(dot -V 2>&1)"
        exit 0
    fi
    echo "apt-get could not install graphviz." >&2
fi
cat >&2 <<'MSG'
Graphviz's `dot` program is not installed, so image output (SVG/PNG/PDF) and the
tests that render images will be skipped. Tracing, .dot and .json output still work.
Install it with one of:
    sudo apt-get install graphviz      (Debian/Ubuntu)
    brew install graphviz              (macOS)
    conda install -c conda-forge graphviz
    choco install graphviz             (Windows)
MSG
exit 0
