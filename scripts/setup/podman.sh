#!/usr/bin/env bash
# Prepares Podman for the container runner's tests (idempotent):
#  1. containers.conf with the settings this sandbox needs (DESIGN.md: crun refuses the hybrid
#     cgroup layout and the default file-descriptor limit is refused);
#  2. the local base image localhost/maestro-busybox:latest, imported from a root filesystem made
#     of Debian's static busybox (there is no image registry here);
#  3. the Docker-compatible API service on unix:///run/maestro-podman.sock (MAESTRO_PODMAN_SOCKET
#     overrides the path). The tests' globalSetup starts the service too when it is not running.
set -euo pipefail

IMAGE="localhost/maestro-busybox:latest"
SOCKET="${MAESTRO_PODMAN_SOCKET:-/run/maestro-podman.sock}"
cache="$HOME/.cache/maestro/podman"
mkdir -p "$cache"

if ! command -v podman >/dev/null || [ ! -x /bin/busybox ] || ! command -v runc >/dev/null; then
  apt-get install -y -o DPkg::Lock::Timeout=600 podman runc fuse-overlayfs slirp4netns uidmap busybox-static
fi

conf_body='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'
marker="# written by summit-maestro scripts/setup/podman.sh"
if [ "$(id -u)" = 0 ]; then conf=/etc/containers/containers.conf; else conf="$HOME/.config/containers/containers.conf"; fi
mkdir -p "$(dirname "$conf")"
if [ ! -e "$conf" ] || head -n1 "$conf" | grep -qF "$marker"; then
  printf '%s\n%s\n' "$marker" "$conf_body" >"$conf"
else
  echo "podman.sh: $conf exists and was not written by Maestro; leaving it alone." >&2
  echo "podman.sh: it must contain: $conf_body" >&2
fi

if ! podman image exists "$IMAGE"; then
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/work" "$root/home/maestro"
  chmod 1777 "$root/tmp" "$root/work"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nmaestro:x:1000:1000:maestro:/home/maestro:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nmaestro:x:1000:\n' >"$root/etc/group"
  chown 1000:1000 "$root/home/maestro"
  tar -C "$root" -cf "$cache/rootfs.tar" .
  podman import --change 'ENV PATH=/bin' --change 'USER 1000:1000' --change 'WORKDIR /work' \
    --change 'CMD ["/bin/sh"]' "$cache/rootfs.tar" "$IMAGE" >/dev/null
  echo "podman.sh: imported $IMAGE"
fi

ping() { curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }
if ! ping; then
  rm -f "$SOCKET"
  # Started from /: the service outlives this script, and conmon inherits its working directory;
  # started inside a clone that is later deleted, every container then fails to attach
  # ("Failed to get working directory", HTTP 409 from the API).
  (cd / && exec setsid nohup podman system service --time=0 "unix://$SOCKET") >"$cache/service.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do ping && break; sleep 0.2; done
  ping || { echo "podman.sh: the service did not answer on $SOCKET (see $cache/service.log)" >&2; exit 1; }
fi
echo "podman.sh: ready ($IMAGE, unix://$SOCKET)"
