#!/usr/bin/env bash
# Install the Debian packages that `make setup` (and so `make book` and `make test`) needs:
# Node.js and npm for the pinned front-end assets (`npm ci`), git (pre-commit and some tests read
# the checkout), a real browser (slide handouts, browser tests), Graphviz (the {dot} diagrams),
# fonts for non-Latin scripts and emoji in the PDF, and the PDF and EPUB checkers.
#
# Does nothing when everything is present. Otherwise, as root (CI, a container) it installs what
# is missing with apt-get; as anyone else it prints what to install and fails, changing nothing.
# Debian 12's npm (9.x, with Node.js 18) reads package-lock.json (lockfileVersion 3); a Node.js
# that brings its own npm is used as it is.
set -euo pipefail
need=()
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v git >/dev/null 2>&1 || need+=(git)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v pdfinfo >/dev/null 2>&1 || need+=(poppler-utils)
[ -f /usr/share/java/epubcheck.jar ] || need+=(epubcheck)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ] || need+=(fonts-noto-core)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need+=(fonts-noto-color-emoji)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${need[*]}" >&2
  echo "  install them with: sudo apt-get install --no-install-recommends ${need[*]}" >&2
  echo "  (or run make as root, which installs them)" >&2
  exit 1
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
