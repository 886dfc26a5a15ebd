# Sourced by .ci/run: start a throwaway PostgreSQL server on this machine and export TEST_DATABASE_URL.
# Prints why and leaves TEST_DATABASE_URL unset when no server can be started.

start_postgres() {
    if [ "$(id -u)" != 0 ]; then
        echo "PostgreSQL: not root, cannot start a server here"
        return 1
    fi
    if ! command -v pg_lsclusters >/dev/null 2>&1; then
        echo "PostgreSQL: not installed (apt-get install postgresql)"
        return 1
    fi
    local version port
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if ! pg_lsclusters --no-header | awk '{print $1, $2}' | grep -qx "$version main"; then
        pg_createcluster "$version" main >/dev/null
    fi
    pg_ctlcluster "$version" main start 2>/dev/null || true
    port=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$port" && break
        sleep 1
    done
    if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
        echo "PostgreSQL: server $version/main did not come up on port $port"
        return 1
    fi
    runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 -c "
        DO \$\$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vis2sound') THEN
                CREATE ROLE vis2sound LOGIN CREATEDB PASSWORD 'vis2sound';
            END IF;
        END \$\$;" || return 1
    runuser -u postgres -- psql -q -p "$port" -tc "SELECT 1 FROM pg_database WHERE datname = 'vis2sound'" |
        grep -q 1 || runuser -u postgres -- createdb -p "$port" -O vis2sound vis2sound || return 1
    export TEST_DATABASE_URL="postgres://vis2sound:vis2sound@127.0.0.1:$port/vis2sound"
    echo "PostgreSQL $version running on port $port"
}
