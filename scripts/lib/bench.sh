# shellcheck shell=bash
# Shared by scripts/bench/*: sourced, not run.

# A free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Plan limits high enough that a benchmark is never refused (PUT /api/v1/admin/plans/{name}).
# shellcheck disable=SC2034 # used by the scripts that source this file
UNLIMITED_PLAN='{"per_minute":60000000,"daily":1000000000000,"monthly":1000000000000,"memories":50000,"storage_bytes":10737418240}'
