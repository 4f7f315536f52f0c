#!/usr/bin/env bash
# Set up, then start the HTTP API and the supplier portal on embedded defaults for a person to try.
# A demo supplier account is created on first run; its password and token are printed once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export DEMATFLOW_DATA_DIR="${DEMATFLOW_DATA_DIR:-./dematflow-data}"
if ! .venv/bin/dematflow accounts list --json | grep -q '"name": "demo-fournisseur"'; then
    password="demo-$(head -c 9 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
    echo "$password" | .venv/bin/dematflow accounts add --role supplier --name demo-fournisseur \
        --siren 552100554 --password
    echo "portail : nom demo-fournisseur, mot de passe $password"
fi
exec .venv/bin/dematflow serve "$@"
