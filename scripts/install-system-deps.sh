#!/usr/bin/env bash
# Install the Debian packages the toolkit and its tests need, if they are missing:
#   chromium        headless browser for the map tests
#   poppler-utils   pdftotext/pdftoppm, to check the report's PDF
#   libpango-1.0-0, libpangoft2-1.0-0, fonts-dejavu-core   WeasyPrint's renderer and a font
#   openjdk-17-jre-headless, maven   run and fetch the tests' Neo4j server (graphstore.neo4j_server)
set -euo pipefail
want=(chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core openjdk-17-jre-headless maven)
need=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
