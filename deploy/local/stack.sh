#!/usr/bin/env bash
# The local stack for development and tests: one Kafka 4.1 KRaft node and one PostgreSQL cluster of
# our own, both on 127.0.0.1, with all their state under STACK_DIR.
#
#   deploy/local/stack.sh up       start what is not running, wait until it answers, create topics
#   deploy/local/stack.sh down     stop both cleanly (data is kept; `rm -rf $STACK_DIR` to reset)
#   deploy/local/stack.sh status   say what runs; exit 1 unless both run
#   deploy/local/stack.sh postgres-down   stop PostgreSQL only (to rehearse an outage; `up` starts it again)
#
# Safe to run twice and from several shells (a lock file serialises them). Works as root (CI: the
# PostgreSQL server runs as the `postgres` OS user) and as a normal user.
# Environment (defaults): STACK_DIR (<repo>/.local/stack), KAFKA_PORT (9092),
# KAFKA_CONTROLLER_PORT (9093), PG_PORT (55432), KAFKA_HEAP (512m).
# Opt-in, off by default, to try the clients' TLS/SASL options (careruntime.kafka_security) against a
# real broker; the PLAINTEXT listener stays. KAFKA_SASL_PORT adds a SASL_PLAINTEXT listener,
# KAFKA_SASL_SSL_PORT a SASL_SSL one and KAFKA_SSL_PORT an SSL one that requires a client certificate
# (mutual TLS). A throwaway CA, a server certificate for 127.0.0.1 and a client certificate are made in
# $STACK_DIR/kafka/tls (clients trust tls/ca.crt and may present tls/client.crt + tls/client.key). The
# SASL listeners take mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for the users of
# KAFKA_SASL_USERS ("name:password,name2:password2"); SCRAM users are created when the storage is
# formatted, i.e. in a fresh STACK_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="$(realpath -m "${STACK_DIR:-$ROOT/.local/stack}")"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${PG_PORT:-55432}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-}"
KAFKA_SASL_USERS="${KAFKA_SASL_USERS:-}"
HOST=127.0.0.1
PG_USER=careledger

PY="$ROOT/.venv/bin/python"
# The helpers live in the runtime package; this works before `make venv` installed it too.
export PYTHONPATH="$ROOT/runtime/src${PYTHONPATH:+:$PYTHONPATH}"
# The helpers below speak to the PLAINTEXT listener: a shell's Kafka client security must not leak in.
for var in "${!CARELEDGER_KAFKA_@}"; do unset "$var"; done

KAFKA_LIBS="$ROOT/.local/kafka/libs"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_OUT="$KAFKA_DIR/kafka.out"
LOG4J_CONF="$ROOT/deploy/local/log4j2.properties"

PG_DIR="$STACK_DIR/pg"
PGDATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"
PG_SOCKET_DIR="$PG_DIR/run"
# A unix socket path must fit in 107 bytes; a deeply nested checkout falls back to /tmp.
if (( ${#PG_SOCKET_DIR} + 20 > 107 )); then
    PG_SOCKET_DIR="/tmp/careledger-pg-$(id -u)-$PG_PORT"
fi

IS_ROOT=0
[[ "$(id -u)" -eq 0 ]] && IS_ROOT=1

say() { echo "stack: $*"; }
die() { echo "stack: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pg_bin() {
    local initdb
    initdb="$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
    [[ -x "$initdb" ]] || die "PostgreSQL is not installed: run deploy/local/install-postgres.sh"
    dirname "$initdb"
}

# PostgreSQL refuses to run as root: as root, run its tools as the postgres OS user.
as_pg() {
    if (( IS_ROOT )); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Writes stdin to a file the PostgreSQL server will read.
write_pg_file() {
    cat > "$1"
    if (( IS_ROOT )); then chown postgres:postgres "$1"; fi
}

# ---------------------------------------------------------------- Kafka

# True while the process runs our broker with our properties file: a recycled pid or a killed,
# not yet reaped (zombie, empty cmdline) process does not count.
kafka_alive() {
    tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" | grep -q "kafka.Kafka $KAFKA_PROPS"
}

kafka_pid() {
    local pid
    [[ -f "$KAFKA_PID" ]] || return 1
    pid="$(cat "$KAFKA_PID")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kafka_alive "$pid" || return 1
    echo "$pid"
}

# What kafka-run-class.sh passes, minus JMX and GC logging.
JAVA_OPTS=(
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$KAFKA_LOGS"
)

storage_tool() {
    java -Xmx256m "${JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool "$@"
}

# ---- The opt-in secured listeners (KAFKA_SASL_PORT, KAFKA_SASL_SSL_PORT, KAFKA_SSL_PORT).
KAFKA_TLS="$KAFKA_DIR/tls"
SASL_MECHANISMS="PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"

sasl_wanted() { [[ -n "$KAFKA_SASL_PORT$KAFKA_SASL_SSL_PORT" ]]; }
tls_wanted() { [[ -n "$KAFKA_SASL_SSL_PORT$KAFKA_SSL_PORT" ]]; }

# name:password pairs of KAFKA_SASL_USERS, one per line, checked.
sasl_users() {
    local pair
    local -a pairs
    [[ -n "$KAFKA_SASL_USERS" ]] || die "kafka: a SASL listener needs KAFKA_SASL_USERS (name:password,...)"
    IFS=, read -ra pairs <<< "$KAFKA_SASL_USERS"
    for pair in "${pairs[@]}"; do
        [[ "$pair" =~ ^[A-Za-z0-9._-]+:[A-Za-z0-9._~+/-]+$ ]] || die "kafka: bad KAFKA_SASL_USERS entry (want name:password, no quotes or spaces)"
        echo "$pair"
    done
}

# A throwaway CA, a server certificate for $HOST as a PEM keystore (PKCS#8 key + certificate), and a
# client certificate signed by the same CA.
kafka_tls_once() {
    [[ -f "$KAFKA_TLS/client.crt" ]] && return 0
    command -v openssl >/dev/null || die "kafka: a TLS listener needs openssl"
    mkdir -p "$KAFKA_TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=careledger local test CA" \
        -keyout "$KAFKA_TLS/ca.key" -out "$KAFKA_TLS/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout "$KAFKA_TLS/server.key" \
        -out "$KAFKA_TLS/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:%s,DNS:localhost\n' "$HOST" > "$KAFKA_TLS/server.ext"
    openssl x509 -req -in "$KAFKA_TLS/server.csr" -CA "$KAFKA_TLS/ca.crt" -CAkey "$KAFKA_TLS/ca.key" \
        -CAcreateserial -days 3650 -extfile "$KAFKA_TLS/server.ext" -out "$KAFKA_TLS/server.crt" 2>/dev/null
    cat "$KAFKA_TLS/server.key" "$KAFKA_TLS/server.crt" > "$KAFKA_TLS/server.pem"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=careledger-local-client" -keyout "$KAFKA_TLS/client.key" \
        -out "$KAFKA_TLS/client.csr" 2>/dev/null
    openssl x509 -req -in "$KAFKA_TLS/client.csr" -CA "$KAFKA_TLS/ca.crt" -CAkey "$KAFKA_TLS/ca.key" \
        -CAcreateserial -days 3650 -out "$KAFKA_TLS/client.crt" 2>/dev/null
    say "kafka: test CA of the TLS listeners: $KAFKA_TLS/ca.crt (client certificate: $KAFKA_TLS/client.crt)"
}

# Listener lines of the opt-in listeners: "listeners", "map" or "config".
sasl_props() {
    local name jaas_plain="" jaas_scram pair
    case "$1" in
        listeners)
            [[ -n "$KAFKA_SASL_PORT" ]] && printf ',SASL_PLAINTEXT://%s:%s' "$HOST" "$KAFKA_SASL_PORT"
            [[ -n "$KAFKA_SASL_SSL_PORT" ]] && printf ',SASL_SSL://%s:%s' "$HOST" "$KAFKA_SASL_SSL_PORT"
            [[ -n "$KAFKA_SSL_PORT" ]] && printf ',SSL://%s:%s' "$HOST" "$KAFKA_SSL_PORT"
            ;;
        map)
            [[ -n "$KAFKA_SASL_PORT" ]] && printf ',SASL_PLAINTEXT:SASL_PLAINTEXT'
            [[ -n "$KAFKA_SASL_SSL_PORT" ]] && printf ',SASL_SSL:SASL_SSL'
            [[ -n "$KAFKA_SSL_PORT" ]] && printf ',SSL:SSL'
            ;;
        config)
            if [[ -n "$KAFKA_SSL_PORT" ]]; then
                echo "listener.name.ssl.ssl.keystore.type=PEM"
                echo "listener.name.ssl.ssl.keystore.location=$KAFKA_TLS/server.pem"
                echo "listener.name.ssl.ssl.truststore.type=PEM"
                echo "listener.name.ssl.ssl.truststore.location=$KAFKA_TLS/ca.crt"
                echo "listener.name.ssl.ssl.client.auth=required"
            fi
            sasl_wanted || return 0
            while read -r pair; do jaas_plain+=" user_${pair%%:*}=\"${pair#*:}\""; done < <(sasl_users)
            jaas_scram="org.apache.kafka.common.security.scram.ScramLoginModule required;"
            echo "sasl.enabled.mechanisms=$SASL_MECHANISMS"
            for name in ${KAFKA_SASL_PORT:+sasl_plaintext} ${KAFKA_SASL_SSL_PORT:+sasl_ssl}; do
                echo "listener.name.$name.sasl.enabled.mechanisms=$SASL_MECHANISMS"
                echo "listener.name.$name.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required${jaas_plain};"
                echo "listener.name.$name.scram-sha-256.sasl.jaas.config=$jaas_scram"
                echo "listener.name.$name.scram-sha-512.sasl.jaas.config=$jaas_scram"
            done
            if [[ -n "$KAFKA_SASL_SSL_PORT" ]]; then
                echo "listener.name.sasl_ssl.ssl.keystore.type=PEM"
                echo "listener.name.sasl_ssl.ssl.keystore.location=$KAFKA_TLS/server.pem"
            fi
            ;;
    esac
    return 0
}

# --add-scram arguments for StorageTool format: every user, both SCRAM mechanisms.
sasl_scram_format_args() {
    local pair mechanism
    while read -r pair; do
        for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
            printf '%s\n' --add-scram "$mechanism=[name=${pair%%:*},password=${pair#*:}]"
        done
    done < <(sasl_users)
}

write_kafka_props() {
    # Rewritten on every start so port overrides apply; cluster id and data stay as formatted.
    # Static voters (not controller.quorum.bootstrap.servers + --standalone) keep the controller
    # endpoint out of the formatted metadata, so KAFKA_CONTROLLER_PORT may change between runs.
    local sasl_l="" sasl_m="" sasl_config=""
    if sasl_wanted || tls_wanted; then
        if tls_wanted; then kafka_tls_once; fi
        sasl_l="$(sasl_props listeners)"; sasl_m="$(sasl_props map)"; sasl_config="$(sasl_props config)"
    fi
    cat > "$KAFKA_PROPS" <<EOF
# Generated by deploy/local/stack.sh; edits are overwritten on the next start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT$sasl_l
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT$sasl_l
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT$sasl_m
$sasl_config
log.dirs=$KAFKA_DATA

# One node: every internal topic has a single replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=10
default.replication.factor=1
min.insync.replicas=1
num.partitions=1

# Topics come from deploy/topics.yaml only; a typo in a topic name must fail, not create a topic.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0

# Sized for a 2-core box with a ${KAFKA_HEAP} heap.
num.network.threads=2
num.io.threads=4
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
EOF
}

kafka_format_once() {
    [[ -f "$KAFKA_DATA/meta.properties" ]] && return 0
    local cluster_id
    cluster_id="$(storage_tool random-uuid | tail -n 1)"
    [[ -n "$cluster_id" ]] || die "kafka: StorageTool random-uuid printed nothing"
    say "kafka: formatting storage (cluster id $cluster_id)"
    local -a scram=()
    if sasl_wanted; then mapfile -t scram < <(sasl_scram_format_args); fi
    storage_tool format -t "$cluster_id" -c "$KAFKA_PROPS" "${scram[@]}" >/dev/null
    echo "$cluster_id" > "$KAFKA_DIR/cluster.id"
}

kafka_failed() {
    echo "stack: kafka: $1; last lines of $KAFKA_OUT and $KAFKA_LOGS/server.log:" >&2
    tail -n 15 "$KAFKA_OUT" >&2 || true
    tail -n 25 "$KAFKA_LOGS/server.log" >&2 || true
    exit 1
}

kafka_up() {
    local pid deadline
    if pid="$(kafka_pid)"; then
        say "kafka: already running (pid $pid) on $HOST:$KAFKA_PORT"
    else
        "$ROOT/deploy/local/install-kafka.sh"
        command -v java >/dev/null || die "kafka: java (17+) is required"
        port_open "$KAFKA_PORT" && die "kafka: port $KAFKA_PORT is taken by another process"
        port_open "$KAFKA_CONTROLLER_PORT" && die "kafka: port $KAFKA_CONTROLLER_PORT is taken by another process"
        mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
        rm -f "$KAFKA_PID"
        write_kafka_props
        kafka_format_once
        say "kafka: starting on $HOST:$KAFKA_PORT (heap $KAFKA_HEAP, data $KAFKA_DATA)"
        nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" "${JAVA_OPTS[@]}" \
            -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" >> "$KAFKA_OUT" 2>&1 < /dev/null 9>&- &
        pid=$!
        echo "$pid" > "$KAFKA_PID"
    fi
    deadline=$((SECONDS + 60))
    until port_open "$KAFKA_PORT"; do
        # kill -0, not kafka_alive: right after the fork the child may not have exec'd java yet.
        kill -0 "$pid" 2>/dev/null || { rm -f "$KAFKA_PID"; kafka_failed "the broker exited"; }
        (( SECONDS < deadline )) || kafka_failed "port $KAFKA_PORT not open after 60s"
        sleep 0.3
    done
    # An open port is not a working broker: wait for a real metadata round trip.
    "$PY" -m careruntime.stackinfo wait-kafka --bootstrap "$HOST:$KAFKA_PORT" \
        --timeout "$(( deadline > SECONDS ? deadline - SECONDS : 1 ))" \
        || kafka_failed "the broker does not answer"
}

kafka_down() {
    local pid
    if ! pid="$(kafka_pid)"; then
        rm -f "$KAFKA_PID"
        say "kafka: not running"
        return 0
    fi
    say "kafka: stopping (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 600); do
        kafka_alive "$pid" || { rm -f "$KAFKA_PID"; say "kafka: stopped"; return 0; }
        sleep 0.1
    done
    echo "stack: kafka: still running 60s after SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$KAFKA_PID"
}

kafka_status() {
    local pid
    if pid="$(kafka_pid)" && port_open "$KAFKA_PORT"; then
        say "kafka: running (pid $pid) on $HOST:$KAFKA_PORT"
    elif [[ -n "${pid:-}" ]]; then
        say "kafka: process $pid is up but $HOST:$KAFKA_PORT does not answer"; return 1
    else
        say "kafka: stopped"; return 1
    fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_running() {
    [[ -f "$PGDATA/PG_VERSION" ]] && as_pg "$(pg_bin)/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1
}

# The server, running as postgres, must be able to reach STACK_DIR (e.g. a clone under a 0700 /tmp
# folder): add only the search (x) bit where it is missing.
pg_make_reachable() {
    local dir="" part
    local -a parts
    IFS=/ read -ra parts <<< "${PG_DIR#/}"
    # From the top down: a folder further down only counts once its parents are reachable.
    for part in "${parts[@]:0:${#parts[@]}-1}"; do
        dir="$dir/$part"
        if ! runuser -u postgres -- test -x "$dir"; then
            say "postgres: granting o+x on $dir so the postgres user can reach $PG_DIR"
            chmod o+x "$dir"
        fi
    done
}

pg_prepare_dirs() {
    mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
    if (( IS_ROOT )); then
        id postgres >/dev/null 2>&1 || die "postgres: no 'postgres' OS user; is the postgresql package installed?"
        chown postgres:postgres "$PG_DIR" "$PG_SOCKET_DIR"
        pg_make_reachable
    fi
    chmod 700 "$PG_DIR"
}

pg_init_once() {
    local bin="$1"
    [[ -f "$PGDATA/PG_VERSION" ]] && return 0
    say "postgres: creating cluster in $PGDATA"
    # careledger is the bootstrap superuser, so no separate CREATE ROLE is needed.
    as_pg "$bin/initdb" -D "$PGDATA" -U "$PG_USER" --auth=trust --encoding=UTF8 --no-locale \
        --no-instructions >/dev/null
    # Local development only: anyone on this machine may connect as anyone, without a password.
    write_pg_file "$PGDATA/pg_hba.conf" <<EOF
# Generated by deploy/local/stack.sh. LOCAL DEVELOPMENT ONLY: trust, no passwords.
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
EOF
    echo "include_if_exists = 'stack.conf'" | as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
}

write_pg_conf() {
    write_pg_file "$PGDATA/stack.conf" <<EOF
# Generated by deploy/local/stack.sh on every start; edits are overwritten.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
shared_buffers = 256MB
work_mem = 8MB
maintenance_work_mem = 64MB
effective_cache_size = 1GB
# Durability as in production: the tests must see what a crash would really leave behind.
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 1GB
# Statement statistics for diagnosis (make bench prints PostgreSQL's time by statement from them).
shared_preload_libraries = 'pg_stat_statements'
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %u@%d '
EOF
}

pg_up() {
    local bin
    "$ROOT/deploy/local/install-postgres.sh"
    bin="$(pg_bin)"
    # A live postmaster.pid that does not answer is starting, recovering, or a killed server not yet
    # reaped: give it 30 s to become one or the other.
    local tries=60
    while pg_running; do
        if "$bin/pg_isready" -q -h "$HOST" -p "$PG_PORT"; then
            say "postgres: already running on $HOST:$PG_PORT"
            return 0
        fi
        (( --tries > 0 )) || die "postgres: $PGDATA/postmaster.pid names a live process that does not answer on $PG_PORT; see $PG_LOG"
        sleep 0.5
    done
    port_open "$PG_PORT" && die "postgres: port $PG_PORT is taken by another process"
    pg_prepare_dirs
    pg_init_once "$bin"
    write_pg_conf
    say "postgres: starting on $HOST:$PG_PORT (data $PGDATA)"
    if ! as_pg "$bin/pg_ctl" start -D "$PGDATA" -l "$PG_LOG" -w -t 60 -s 9>&-; then
        tail -n 20 "$PG_LOG" >&2 || true
        die "postgres: did not start"
    fi
    if ! as_pg "$bin/psql" -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atqc \
            "SELECT 1 FROM pg_database WHERE datname = '$PG_USER'" | grep -q 1; then
        as_pg "$bin/createdb" -h "$HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_USER"
    fi
}

pg_down() {
    if ! pg_running; then
        say "postgres: not running"
        return 0
    fi
    say "postgres: stopping"
    as_pg "$(pg_bin)/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 -s
    say "postgres: stopped"
}

pg_status() {
    if pg_running && "$(pg_bin)/pg_isready" -q -h "$HOST" -p "$PG_PORT"; then
        say "postgres: running on $HOST:$PG_PORT (postgresql://$PG_USER@$HOST:$PG_PORT/<db>)"
    else
        say "postgres: stopped"; return 1
    fi
}

# ---------------------------------------------------------------- commands

# Long-lived children (the broker, the postmaster) are started with fd 9 closed, or they would hold
# this lock for as long as they run.
lock_stack() {
    mkdir -p "$STACK_DIR"
    exec 9> "$STACK_DIR/.stack.lock"
    flock -w 300 9 || die "another stack.sh has held $STACK_DIR/.stack.lock for 5 minutes"
}

cmd_up() {
    [[ -x "$PY" ]] || die "no virtualenv at $ROOT/.venv: run 'make venv' first"
    lock_stack
    local started=$SECONDS
    pg_up
    kafka_up
    "$PY" -m careruntime.topics ensure --config "$ROOT/deploy/topics.yaml" \
        --bootstrap "$HOST:$KAFKA_PORT"
    say "up in $((SECONDS - started))s; kafka $HOST:$KAFKA_PORT, postgres $HOST:$PG_PORT, state in $STACK_DIR"
}

cmd_down() {
    if [[ ! -d "$STACK_DIR" ]]; then
        say "nothing to stop: $STACK_DIR does not exist"
        return 0
    fi
    lock_stack
    kafka_down
    pg_down
}

cmd_status() {
    local rc=0
    kafka_status || rc=1
    if [[ -f "$PGDATA/PG_VERSION" ]]; then pg_status || rc=1; else say "postgres: stopped (no cluster)"; rc=1; fi
    return "$rc"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    postgres-down) lock_stack; pg_down ;;
    *) echo "usage: $0 {up|down|status|postgres-down}" >&2; exit 2 ;;
esac
