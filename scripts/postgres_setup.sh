#!/usr/bin/env bash
# Install (if missing) and start a local PostgreSQL server, then create the project's database and
# roles. Idempotent. Used by `make test` / CI and by `make postgres`; to use an existing server
# instead, skip this and set ALT911_PG_* (see README).
#   owner role  ALT911_PG_USER        (default alt911)         owns and publishes the schemas
#   BI role     ALT911_PG_BI_USER     (default alt911_bi)      reads marts, public_marts and reference (code labels) only
#   public role ALT911_PG_PUBLIC_USER (default alt911_public)  reads public_marts and reference only
# Passwords come from ALT911_PG_PASSWORD, ALT911_PG_BI_PASSWORD, ALT911_PG_PUBLIC_PASSWORD; the
# defaults are for a loopback test server only.
set -euo pipefail
DB="${ALT911_PG_DATABASE:-alt911}"
OWNER="${ALT911_PG_USER:-alt911}"; OWNER_PW="${ALT911_PG_PASSWORD:-alt911-local-only}"
BI="${ALT911_PG_BI_USER:-alt911_bi}"; BI_PW="${ALT911_PG_BI_PASSWORD:-bi-local-only}"
PUB="${ALT911_PG_PUBLIC_USER:-alt911_public}"; PUB_PW="${ALT911_PG_PUBLIC_PASSWORD:-public-local-only}"

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" != "0" ]; then
    echo "PostgreSQL is not installed and this is not root: install the Debian package 'postgresql'" >&2
    exit 1
  fi
  echo "installing PostgreSQL (Debian package)..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
  pg_createcluster "$VERSION" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" && $4 == "online" {found=1} END {exit !found}'; then
  pg_ctlcluster "$VERSION" main start
fi

psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtA $*"; }
role_sql() {  # create or update a login role
  echo "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 LOGIN; END IF; END \$\$;
        ALTER ROLE $1 LOGIN PASSWORD '$2';"
}
{ role_sql "$OWNER" "$OWNER_PW"; role_sql "$BI" "$BI_PW"; role_sql "$PUB" "$PUB_PW"; } | su postgres -c "psql -v ON_ERROR_STOP=1 -q"
if [ -z "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"")" ]; then
  su postgres -c "createdb -O $OWNER $DB"
fi
# Readers may connect; what they may read is granted by publishing, schema by schema.
su postgres -c "psql -v ON_ERROR_STOP=1 -q -d $DB" <<SQL
REVOKE ALL ON DATABASE $DB FROM PUBLIC;
GRANT CONNECT ON DATABASE $DB TO $BI, $PUB;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
echo "PostgreSQL $VERSION ready: database $DB, roles $OWNER (owner), $BI (BI), $PUB (public)"
if [ -z "${ALT911_PG_PASSWORD:-}" ]; then
  echo "to publish here: ALT911_PG_PASSWORD=$OWNER_PW ALT911_PUBLISH_POSTGRES=true make demo  (local test password)"
fi
