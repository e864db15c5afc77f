# SPDX-License-Identifier: MIT
# A throwaway Prometheus server for the exporter tests (sourced): Debian's prometheus on
# loopback only, a temporary config and TSDB, a 1 s scrape interval.
#   prom_start DIR EXPORTER_PORT LOG  start it (sets PPORT, PROM_PID); 1 if not ready in 30 s
#   prom_stop                         stop it and remove DIR
#   promql EXPR                       the instant query's result array, compact JSON
#   prom_target_up                    0 once its one target is up (else PROM_TARGET says why)
#   free_port                         a loopback TCP port nobody listens on
#   wait_for SECONDS CMD...           retry CMD every 0.2 s; 1 if it never succeeded
#   exporter_up PORT                  0 once the exporter on PORT serves vmmem_up 1
#   rss_kb PID                        its VmRSS

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htln "sport = :$p" | grep -q . || { echo $p; return; }
	done
}

wait_for() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

exporter_up() { curl -sf "http://127.0.0.1:$1/metrics" | grep -qx 'vmmem_up 1'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

prom_start() {
	PROM_DIR=$1
	PPORT=$(free_port)
	mkdir -p "$PROM_DIR"
	cat > "$PROM_DIR/prometheus.yml" <<-EOF2
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: vmmem
	    static_configs:
	      - targets: ['127.0.0.1:$2']
	EOF2
	prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
		--web.listen-address=127.0.0.1:$PPORT > "$3" 2>&1 &
	PROM_PID=$!
	wait_for 30 curl -sf "http://127.0.0.1:$PPORT/-/ready" -o /dev/null
}

prom_stop() {
	[ -n "${PROM_PID:-}" ] || return 0
	stop_pid "$PROM_PID"
	PROM_PID=
	rm -rf "$PROM_DIR"
}

promql() { curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" | jq -c '.data.result'; }

prom_target_up() {
	PROM_TARGET=$(curl -sf "http://127.0.0.1:$PPORT/api/v1/targets" |
		jq -r '.data.activeTargets[0] | "\(.health) \(.lastError)"')
	[ "${PROM_TARGET%% *}" = up ]
}
