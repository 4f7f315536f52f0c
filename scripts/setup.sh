#!/usr/bin/env bash
# Install what dematflow needs on Debian 12 (as root): OCR and PDF tools, then a .venv in the repo.
# Usage: scripts/setup.sh [pip extras, e.g. "test"]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng poppler-utils)
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
.venv/bin/python -m pip install -q -e "$target"
echo "setup: ready ($(.venv/bin/dematflow --help >/dev/null && echo .venv/bin/dematflow))" >&2
