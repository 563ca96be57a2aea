# shellcheck shell=bash
# Throwaway PostgreSQL and Redis for tests. Sourced by scripts/test and scripts/services.
#
#   wm_services_install          install postgresql / redis-server with apt when missing
#   wm_services_prepare_dir DIR  make DIR usable by the service user (wmtest when root)
#   wm_services_start DIR        start both servers with all state in DIR, export WM_TEST_*
#   wm_services_stop DIR         stop both servers started in DIR (safe to call twice)
#   wm_services_print_env        print the `export WM_TEST_...=...` lines
#   wm_kill_leftovers DIR        SIGKILL processes whose working dir is inside DIR
#
# PostgreSQL refuses to run as root, so when root the servers run as the system user `wmtest`.

WM_SVC_USER=wmtest
WM_APT_UPDATED=0

wm_log() { printf '%s\n' "[services] $*" >&2; }
wm_die() { wm_log "ERROR: $*"; exit 1; }

wm_is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as root (directly, or through sudo for a normal user).
wm_as_root() {
  if wm_is_root; then "$@"; else sudo "$@"; fi
}

# Run a command as the user that owns the servers, from inside DIR (the
# service user may not be allowed to enter the caller's working directory).
wm_as_svc() {
  local dir=$1; shift
  if wm_is_root; then
    (cd "$dir" && runuser -u "$WM_SVC_USER" -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

wm_apt_install() {
  if [[ $WM_APT_UPDATED -eq 0 ]]; then
    wm_log "apt-get update"
    wm_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    WM_APT_UPDATED=1
  fi
  wm_log "apt-get install $*"
  wm_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@"
}

# Highest installed PostgreSQL bin dir, or nothing.
wm_pg_bindir() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -n $d && -x $d/initdb ]] && printf '%s\n' "$d"
  return 0
}

wm_services_install() {
  local pkgs=()
  [[ -n $(wm_pg_bindir) ]] || pkgs+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
  if ((${#pkgs[@]})); then wm_apt_install "${pkgs[@]}"; fi
  [[ -n $(wm_pg_bindir) ]] || wm_die "no PostgreSQL found under /usr/lib/postgresql/*/bin"
  command -v redis-server >/dev/null 2>&1 || wm_die "redis-server not found after install"
}

# Create the unprivileged service user (idempotent, tolerates a concurrent creation).
wm_ensure_svc_user() {
  wm_is_root || return 0
  id -u "$WM_SVC_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$WM_SVC_USER" 2>/dev/null || id -u "$WM_SVC_USER" >/dev/null
}

# A free TCP port on 127.0.0.1 below the ephemeral range (so that outgoing
# connections never hold it).
wm_free_port() {
  local port
  if command -v python3 >/dev/null 2>&1; then
    python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randrange(15000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
    return
  fi
  for _ in $(seq 1 200); do
    port=$((15000 + RANDOM % 17000))
    # A refused connection means nobody listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      printf '%s\n' "$port"; return 0
    fi
  done
  wm_die "no free port found"
}

wm_services_prepare_dir() {
  local dir=$1
  wm_ensure_svc_user
  mkdir -p "$dir"
  if wm_is_root; then
    chown "$WM_SVC_USER": "$dir"
    chmod 700 "$dir"
  fi
}

wm_pg_start() {
  local dir=$1 port=$2 bin sockdir
  bin=$(wm_pg_bindir)
  wm_as_svc "$dir" "$bin/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 \
    --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; wm_die "initdb failed"; }
  # Unix socket paths are limited to ~107 bytes; skip the socket in a deep directory.
  sockdir=$dir
  ((${#dir} < 90)) || sockdir=''
  cat >>"$dir/pg/postgresql.conf" <<CONF

# wm test settings
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
# Room for the memory benchmark's ~300 MB database in PostgreSQL's own cache, as a server
# sized for its data would have (the default 128 MB made every search copy pages from the
# kernel's cache); allocated as it is used, unless in huge pages (reserved at start).
shared_buffers = 1GB
# In huge pages when the kernel has them (see wm_pg_huge_pages); otherwise normal pages.
huge_pages = try
CONF
  wm_pg_huge_pages "$dir" "$bin"
  if ! wm_as_svc "$dir" "$bin/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t 60 start \
    >"$dir/pg_ctl.log" 2>&1; then
    cat "$dir/pg_ctl.log" >&2 || true
    wm_pg_fail "$dir" "$port"
  fi
  for _ in $(seq 1 50); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && return 0
    sleep 0.2
  done
  wm_pg_fail "$dir" "$port"
}

# Reserve the kernel huge pages (2 MB) that PostgreSQL's shared memory needs, as a server
# sized for its data would have: in huge pages a search took ~11% less of PostgreSQL's CPU
# than in 4 kB pages (docs/PERFORMANCE.md, eighth pass). Root only, best effort; what was
# added is recorded in DIR and given back by wm_services_stop. WM_PG_HUGE_PAGES=0 skips it.
wm_pg_huge_pages() {
  local dir=$1 bin=$2 need free rsvd total after
  [[ ${WM_PG_HUGE_PAGES:-1} != 0 ]] && wm_is_root && [[ -w /proc/sys/vm/nr_hugepages ]] || return 0
  need=$(wm_as_svc "$dir" "$bin/postgres" -D "$dir/pg" -C shared_memory_size_in_huge_pages 2>/dev/null) || return 0
  [[ $need =~ ^[0-9]+$ ]] || return 0
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  rsvd=$(awk '/^HugePages_Rsvd:/ {print $2}' /proc/meminfo)
  ((need > free - rsvd)) || return 0
  total=$(cat /proc/sys/vm/nr_hugepages)
  echo $((total + need - (free - rsvd))) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
  after=$(cat /proc/sys/vm/nr_hugepages)
  if ((after > total)); then
    echo $((after - total)) >"$dir/hugepages.added"
    wm_log "reserved $((after - total)) huge pages for PostgreSQL (WM_PG_HUGE_PAGES=0 skips this)"
  fi
}

# Give back the huge pages wm_pg_huge_pages reserved for DIR's PostgreSQL (already stopped).
wm_pg_huge_pages_release() {
  local dir=$1 added total
  [[ -f $dir/hugepages.added ]] || return 0
  added=$(cat "$dir/hugepages.added")
  total=$(cat /proc/sys/vm/nr_hugepages)
  if [[ $added =~ ^[0-9]+$ ]]; then
    echo $((total > added ? total - added : 0)) 2>/dev/null >/proc/sys/vm/nr_hugepages || true
  fi
  rm -f "$dir/hugepages.added"
}

wm_pg_fail() {
  wm_log "PostgreSQL did not answer on 127.0.0.1:$2; its log ($1/postgres.log):"
  cat "$1/postgres.log" >&2 || true
  wm_die "PostgreSQL failed to start"
}

wm_redis_start() {
  local dir=$1 port=$2
  wm_as_svc "$dir" "$(command -v redis-server)" --port "$port" --bind 127.0.0.1 \
    --save '' --appendonly no --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    || true
  for _ in $(seq 1 100); do
    [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.2
  done
  wm_log "Redis did not answer on port $port; its log:"
  cat "$dir/redis.log" >&2 || true
  wm_die "Redis failed to start"
}

wm_services_start() {
  local dir=$1 pg_port redis_port
  pg_port=$(wm_free_port)
  redis_port=$(wm_free_port)
  [[ $redis_port != "$pg_port" ]] || redis_port=$(wm_free_port)
  wm_pg_start "$dir" "$pg_port"
  wm_redis_start "$dir" "$redis_port"
  export WM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
  export WM_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/"
  # No symlink resolution: Debian links redis-server to redis-check-rdb, argv[0] picks the mode.
  WM_TEST_REDIS_SERVER=$(realpath -s "$(command -v redis-server)")
  export WM_TEST_REDIS_SERVER
}

wm_services_print_env() {
  printf 'export WM_TEST_POSTGRES_URL=%q\n' "$WM_TEST_POSTGRES_URL"
  printf 'export WM_TEST_REDIS_URL=%q\n' "$WM_TEST_REDIS_URL"
  printf 'export WM_TEST_REDIS_SERVER=%q\n' "$WM_TEST_REDIS_SERVER"
}

# Stop the servers whose state lives in DIR. Never fails.
wm_services_stop() {
  local dir=$1 bin pid
  [[ -d $dir ]] || return 0
  bin=$(wm_pg_bindir)
  if [[ -n $bin && -f $dir/pg/postmaster.pid ]]; then
    wm_as_svc "$dir" "$bin/pg_ctl" -D "$dir/pg" -m fast -w -t 20 stop >/dev/null 2>&1 \
      || wm_as_svc "$dir" "$bin/pg_ctl" -D "$dir/pg" -m immediate -w -t 10 stop >/dev/null 2>&1 \
      || true
  fi
  wm_pg_huge_pages_release "$dir"
  if [[ -f $dir/redis.pid ]]; then
    pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/redis.pid"
  fi
  return 0
}

# SIGKILL processes still working inside DIR (e.g. a redis-server started by a
# test process that was itself killed). Matches by exact directory, nothing else.
wm_kill_leftovers() {
  local dir=$1 p cwd
  [[ -d /proc/self && -n $dir ]] || return 0
  for p in /proc/[0-9]*; do
    cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
    if [[ $cwd == "$dir" || $cwd == "$dir"/* ]]; then
      kill -9 "${p#/proc/}" 2>/dev/null || true
    fi
  done
  return 0
}
