#!/usr/bin/env bash
# Writes secrets/nats-<user>.env (one per NATS user of nats/troupe-permissions.conf: `password=...`),
# secrets/mongodb.env and secrets/model.env (from the examples beside them), with random passwords and
# a random MongoDB keyfile. Never overwrites an existing file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }

# 32 letters and digits, the first a letter: nats-server reads a $VARIABLE starting with a digit as a
# number and refuses to start.
password() { printf '%s%s' "$(openssl rand -base64 48 | tr -dc 'A-Za-z' | head -c 1)" "$(openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | head -c 31)"; }

write() {
  local name=$1
  shift
  if [[ -e "$name.env" ]]; then
    echo "$name.env exists: left as it is"
    return
  fi
  local text
  text="$(cat "$name.env.example")"
  while (($#)); do
    text="$(printf '%s\n' "$text" | sed "s|^$1=.*|$1=$2|")"
    shift 2
  done
  (umask 077 && printf '%s\n' "$text" >"$name.env")
  echo "wrote $name.env"
}

# The users of nats/troupe-permissions.conf; nats.yaml gives the servers TROUPE_NATS_<USER>_PASSWORD from each.
NATS_USERS=(admin orchestrator supervisor agents gateway approval-client producer)
for user in "${NATS_USERS[@]}"; do
  if [[ -e "nats-$user.env" ]]; then
    echo "nats-$user.env exists: left as it is"
  else
    (umask 077 && printf 'password=%s\n' "$(password)" >"nats-$user.env")
    echo "wrote nats-$user.env"
  fi
done
write mongodb MONGODB_ROOT_PASSWORD "$(password)" MONGODB_PASSWORD "$(password)" MONGODB_KEYFILE "$(openssl rand -base64 756 | tr -d '\n')"
write model
