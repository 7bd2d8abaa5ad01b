#!/usr/bin/env bash
# Install Debian's Chromium and PostgreSQL server (with pg_dump) for the tests, only if
# missing. The pgvector extension is added when the distribution offers it.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v pg_dump >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_dump >/dev/null 2>&1 \
  || need+=(postgresql-client)

# pgvector for the installed server version, when a package for it exists.
if ! ls /usr/share/postgresql/*/extension/vector.control >/dev/null 2>&1; then
  for initdb in /usr/lib/postgresql/*/bin/initdb; do
    [ -e "$initdb" ] || continue
    major=$(basename "$(dirname "$(dirname "$initdb")")")
    if apt-cache pkgnames "postgresql-$major-pgvector" 2>/dev/null | grep -qx "postgresql-$major-pgvector"; then
      need+=("postgresql-$major-pgvector")
    fi
  done
fi
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing system packages for tests: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
