#!/usr/bin/env bash
# Writes secrets/nats.env, secrets/mongodb.env and secrets/model.env from the examples beside them,
# with random passwords and a random MongoDB keyfile. Never overwrites an existing file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }

password() { openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | head -c 32; }

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

write nats NATS_PASSWORD "$(password)"
write mongodb MONGODB_ROOT_PASSWORD "$(password)" MONGODB_PASSWORD "$(password)" MONGODB_KEYFILE "$(openssl rand -base64 756 | tr -d '\n')"
write model
