#!/usr/bin/env bash
# Install what dematflow needs on Debian 12 (as root): OCR and PDF tools, then a .venv in the repo.
# Usage: scripts/setup.sh [pip extras, e.g. "test"]
set -euo pipefail
cd "$(dirname "$0")/.."

extras=",${1:-},"
packages=(tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng poppler-utils)
command -v npm >/dev/null || packages+=(npm)
# The portal's browser tests: Debian's chromium (playwright cannot download a browser here) and a font.
[[ $extras == *,test,* ]] && packages+=(chromium fonts-dejavu-core)
# The PKCS#11 seal tests: SoftHSM2 (a software token) and OpenSC's pkcs11-tool to load a key into it.
[[ $extras == *,test,* ]] && packages+=(softhsm2 opensc)
# The antivirus tests: clamd, started privately with a generated signature (no virus database).
[[ $extras == *,test,* ]] && packages+=(clamav-daemon)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=$(command -v python3.11 || command -v python3)
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "dematflow needs Python 3.11"'
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
target="."
[ -n "${1:-}" ] && target=".[$1]"
# Every dependency at the version of the lock (README, Development: how to regenerate it).
.venv/bin/python -m pip install -q -e "$target" -c requirements/constraints.txt

# The portal's web assets (htmx; axe-core too for the tests) from the npm registry, served by the app
# itself: installed again only when the lock file or the set of dependencies changes.
assets=api/static
omit=(--omit=dev)
[[ $extras == *,test,* ]] && omit=()
want="$(sha256sum "$assets/package-lock.json" | cut -d' ' -f1) ${omit[*]:-with-dev}"
stamp="$assets/node_modules/.dematflow-installed"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing the portal's web assets (npm ci)" >&2
    (cd "$assets" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error "${omit[@]}" >/dev/null)
    echo "$want" >"$stamp"
fi
echo "setup: ready ($(.venv/bin/dematflow --help >/dev/null && echo .venv/bin/dematflow))" >&2
