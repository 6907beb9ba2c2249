#!/bin/sh
# The entrypoint of the test cluster's `topas/demo-users` image: the demo server
# (examples/apps/demo/server.js) listening on the Pod's IP — `hostname -i`, which the
# Pod's /etc/hosts answers — unless HOST says otherwise. Arguments: node, server.js, then
# the container's own arguments.
set -eu
node="$1"
server="$2"
shift 2
exec "$node" "$server" --host "${HOST:-$(hostname -i | cut -d' ' -f1)}" "$@"
