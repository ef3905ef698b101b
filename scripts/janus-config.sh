#!/usr/bin/env bash
# Writes a minimal configuration of Debian's janus for `switchboard-bench --target janus` into
# DIR: the VideoRoom plugin and the WebSocket transport only (linked into DIR/plugins and
# DIR/transports, so Janus loads nothing else), the WebSocket API on IP:PORT, full ICE with
# half trickle (candidates in the SDP), no STUN, IPv4, a DTLS certificate Janus generates at
# start, and the log in DIR/janus.log. Janus never gathers on loopback interfaces: its host
# candidates are the machine's other addresses (ICE-INTERFACES limits them, e.g. eth0); the
# bench's clients on 127.0.0.1 reach them through the kernel's local delivery, as over lo.
# Start Janus with
#   janus -C DIR/janus.jcfg -F DIR
# Usage: scripts/janus-config.sh DIR [PORT (8188)] [IP (127.0.0.1)] [ICE-INTERFACES (all)]
set -euo pipefail

dir=${1:?usage: $0 DIR [PORT] [IP] [ICE-INTERFACE]}
port=${2:-8188}
ip=${3:-127.0.0.1}
iface=${4:-}

libdir=
for d in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus /opt/janus/lib/janus; do
  if [ -e "$d/plugins/libjanus_videoroom.so" ] && [ -e "$d/transports/libjanus_websockets.so" ]; then
    libdir=$d
    break
  fi
done
[ -n "$libdir" ] || { echo "$0: no janus plugins found (apt-get install janus)" >&2; exit 1; }

mkdir -p "$dir/plugins" "$dir/transports" "$dir/events" "$dir/loggers"
ln -sf "$libdir/plugins/libjanus_videoroom.so" "$dir/plugins/libjanus_videoroom.so"
ln -sf "$libdir/transports/libjanus_websockets.so" "$dir/transports/libjanus_websockets.so"

cat >"$dir/janus.jcfg" <<EOF
general: {
	configs_folder = "$dir"
	plugins_folder = "$dir/plugins"
	transports_folder = "$dir/transports"
	events_folder = "$dir/events"
	loggers_folder = "$dir/loggers"
	log_to_file = "$dir/janus.log"
	debug_level = 4
	debug_timestamps = true
	session_timeout = 60
}
certificates: {
}
media: {
	ipv6 = false
}
nat: {
	nice_debug = false
	full_trickle = false
	ice_lite = false
	ice_tcp = false
$([ -n "$iface" ] && printf '\tice_enforce_list = "%s"' "$iface")
	ignore_mdns = true
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
	broadcast = false
}
EOF

cat >"$dir/janus.transport.websockets.jcfg" <<EOF
general: {
	json = "plain"
	ws = true
	ws_port = $port
	ws_ip = "$ip"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
EOF

# no configured rooms: the bench creates its own
cat >"$dir/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
EOF
echo "$dir"
