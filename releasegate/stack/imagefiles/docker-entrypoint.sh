#!/usr/bin/env bash
# Entrypoint of the releasegate/postgres:<major>-<suite> images (Debian packages, no registry needed).
#
# Honours the contract of the official `postgres` image:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user), PGDATA (default
#   /var/lib/postgresql/data), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, the *_FILE variants,
#   /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh on an empty data directory, and extra arguments
#   (`-c key=value`) handed to postgres. The readiness line "database system is ready to accept
#   connections" is logged twice on the first start (temporary server used for initialisation, then
#   the real one) and once on later starts, exactly like the official image.
#
# Differences, on purpose:
#   * TLS is ON by default with a self-signed certificate made at first start (openssl, key 0600).
#     POSTGRES_SSL=off turns it off; POSTGRES_SSL_ONLY=on accepts TCP clients over TLS only.
#     POSTGRES_SSL_CN sets the certificate's common name (default: the container's hostname).
#   * pg_stat_statements is preloaded (track=all) and created in POSTGRES_DB.
#   * Errors go to stderr with the failing statement (log_min_error_statement=error), so
#     `docker logs` shows database errors.
#   * The cluster is initialised with `-E UTF8 --locale=C.UTF-8`.
#   * pg_hba.conf is owned by this script (first line marker) and rewritten at every start from
#     POSTGRES_SSL / POSTGRES_SSL_ONLY / POSTGRES_HOST_AUTH_METHOD. Remove the marker line to keep
#     a hand-written file.
#   * Runs as root and drops to the postgres user with setpriv (no gosu); `--user postgres` works
#     too. Arbitrary uids without a passwd entry are not supported.
set -Eeo pipefail

HBA_MARKER='# managed by docker-entrypoint.sh (releasegate); delete this line to keep your own rules'

log() {
	printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S.%3N UTC')" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

is_on() {
	case "${1,,}" in
		on | true | yes | 1 | require | required | enable | enabled) return 0 ;;
		*) return 1 ;;
	esac
}

# file_env VAR [DEFAULT]: VAR may come from VAR itself or from the file named by VAR_FILE.
file_env() {
	local var="$1" file_var="${1}_FILE" default="${2:-}" value
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set (they are exclusive)"
	fi
	value="$default"
	if [ -n "${!var:-}" ]; then
		value="${!var}"
	elif [ -n "${!file_var:-}" ]; then
		value="$(<"${!file_var}")"
	fi
	export "$var"="$value"
	unset "$file_var"
}

setup_env() {
	: "${PGDATA:=/var/lib/postgresql/data}"
	export PGDATA
	file_env POSTGRES_USER postgres
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
	: "${POSTGRES_SSL:=on}"
	: "${POSTGRES_SSL_ONLY:=off}"
	export POSTGRES_HOST_AUTH_METHOD POSTGRES_SSL POSTGRES_SSL_ONLY
	if is_on "$POSTGRES_SSL_ONLY" && ! is_on "$POSTGRES_SSL"; then
		die "POSTGRES_SSL_ONLY=on needs POSTGRES_SSL=on"
	fi
}

# As root: prepare directories, then run this script again as the postgres user.
drop_privileges() {
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres /var/run/postgresql
	chmod 3777 /var/run/postgresql
	if command -v find >/dev/null 2>&1; then
		find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	else
		chown -R postgres:postgres "$PGDATA"
	fi
	chmod 700 "$PGDATA"
	export HOME=/var/lib/postgresql
	if command -v setpriv >/dev/null 2>&1; then
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
	fi
	exec runuser -u postgres -- "$BASH_SOURCE" "$@"
}

check_password() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		cat >&2 <<-'EOM'
			Error: the database is uninitialized and no superuser password is set.
			       Set POSTGRES_PASSWORD to a non-empty value (or POSTGRES_PASSWORD_FILE), or set
			       POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password
			       (never do that outside a throw-away test).
		EOM
		exit 1
	fi
	if [ "${#POSTGRES_PASSWORD}" -ge 100 ]; then
		log "warning: POSTGRES_PASSWORD is 100 characters or longer; some clients truncate it"
	fi
}

ensure_certificate() {
	local crt="$PGDATA/server.crt" key="$PGDATA/server.key" cn
	if [ -s "$crt" ] && [ -s "$key" ]; then
		return 0
	fi
	cn="${POSTGRES_SSL_CN:-${HOSTNAME:-localhost}}"
	log "creating a self-signed TLS certificate for CN=$cn"
	(
		umask 077
		openssl req -new -x509 -days 3650 -nodes -newkey rsa:2048 -sha256 \
			-subj "/CN=$cn" \
			-addext "subjectAltName=DNS:$cn,DNS:localhost,IP:127.0.0.1" \
			-keyout "$key" -out "$crt" >/dev/null 2>&1
	) || die "openssl could not create the TLS certificate in $PGDATA"
	chmod 600 "$key"
	chmod 644 "$crt"
}

write_tls_conf() {
	local conf="$PGDATA/releasegate-tls.conf"
	if is_on "$POSTGRES_SSL"; then
		ensure_certificate
		cat >"$conf" <<-EOF
			# written at every start by docker-entrypoint.sh from POSTGRES_SSL
			ssl = on
			ssl_cert_file = 'server.crt'
			ssl_key_file = 'server.key'
		EOF
	else
		printf '%s\n%s\n' '# written at every start by docker-entrypoint.sh from POSTGRES_SSL' \
			'ssl = off' >"$conf"
	fi
}

write_hba() {
	local hba="$PGDATA/pg_hba.conf" method="$POSTGRES_HOST_AUTH_METHOD" types=()
	if [ -s "$hba" ] && [ "$(head -n 1 "$hba")" != "$HBA_MARKER" ]; then
		return 0
	fi
	if is_on "$POSTGRES_SSL_ONLY"; then
		types=(hostssl)
	elif is_on "$POSTGRES_SSL"; then
		types=(hostssl host)
	else
		types=(host)
	fi
	{
		printf '%s\n' "$HBA_MARKER"
		printf '# TYPE  DATABASE     USER  ADDRESS       METHOD\n'
		printf 'local   all          all                 trust\n'
		printf 'local   replication  all                 trust\n'
		local type
		for type in "${types[@]}"; do
			printf '%-7s all          all   127.0.0.1/32  %s\n' "$type" "$method"
			printf '%-7s all          all   ::1/128       %s\n' "$type" "$method"
			printf '%-7s all          all   0.0.0.0/0     %s\n' "$type" "$method"
			printf '%-7s all          all   ::/0          %s\n' "$type" "$method"
			printf '%-7s replication  all   0.0.0.0/0     %s\n' "$type" "$method"
			printf '%-7s replication  all   ::/0          %s\n' "$type" "$method"
		done
	} >"$hba"
	chmod 600 "$hba"
}

append_server_conf() {
	cat >>"$PGDATA/postgresql.conf" <<-'EOF'

		# --- added by docker-entrypoint.sh (releasegate) ---
		listen_addresses = '*'
		password_encryption = 'scram-sha-256'
		shared_preload_libraries = 'pg_stat_statements'
		pg_stat_statements.track = all
		log_destination = 'stderr'
		logging_collector = off
		log_min_messages = warning
		log_min_error_statement = error
		include_if_exists = 'releasegate-tls.conf'
	EOF
}

psql_init() {
	psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"
}

run_initdb_files() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					log "running $f"
					"$f"
				else
					log "sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql)
				log "running $f"
				psql_init --dbname "$POSTGRES_DB" -f "$f"
				;;
			*.sql.gz)
				log "running $f"
				gunzip -c "$f" | psql_init --dbname "$POSTGRES_DB"
				;;
			*.sql.xz)
				log "running $f"
				xz -dc "$f" | psql_init --dbname "$POSTGRES_DB"
				;;
			*.sql.zst)
				log "running $f"
				zstd -dc "$f" | psql_init --dbname "$POSTGRES_DB"
				;;
			*) log "ignoring $f" ;;
		esac
	done
}

init_cluster() {
	check_password
	if [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
		die "PGDATA ($PGDATA) is not empty but holds no cluster: use an empty directory (e.g. a subdirectory of the mount point)"
	fi
	log "initialising a new cluster in $PGDATA (UTF8, C.UTF-8)"
	local host_method="$POSTGRES_HOST_AUTH_METHOD"
	# shellcheck disable=SC2086
	initdb --username="$POSTGRES_USER" -D "$PGDATA" -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host="$host_method" $POSTGRES_INITDB_ARGS
	append_server_conf
	: >"$PGDATA/pg_hba.conf"
	write_hba
	write_tls_conf

	log "starting a temporary server on the local socket only"
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -t 60 start
	export PGHOST=/var/run/postgresql PGPORT=5432

	if [ -n "$POSTGRES_PASSWORD" ]; then
		psql_init --dbname postgres --set pw="$POSTGRES_PASSWORD" --set usr="$POSTGRES_USER" <<-'EOSQL'
			SET password_encryption = 'scram-sha-256';
			ALTER ROLE :"usr" WITH PASSWORD :'pw';
		EOSQL
	fi
	psql_init --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
		SELECT format('CREATE DATABASE %I', :'db')
		WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
	EOSQL
	psql_init --dbname "$POSTGRES_DB" -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
	run_initdb_files

	pg_ctl -D "$PGDATA" -m fast -w -t 60 stop
	unset PGHOST PGPORT
	log "PostgreSQL init process complete; ready for start up."
}

main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi
	if [ "$1" != postgres ]; then
		exec "$@"
	fi
	setup_env
	if [ "$(id -u)" = 0 ]; then
		drop_privileges "$@"
	fi
	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		init_cluster
	else
		log "PostgreSQL data directory $PGDATA already holds a cluster; skipping initialisation"
	fi
	write_hba
	write_tls_conf
	exec "$@"
}

main "$@"
