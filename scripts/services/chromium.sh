#!/usr/bin/env bash
# Headless Chromium (and a CJK font) for the /wall browser test (tests/monitor/api/test_wall.py):
# scripts/services/chromium.sh install|start|stop|status
# A browser, not a service: the tests launch it themselves, so start and stop do nothing and
# status only says whether it is installed. All three succeed, so `scripts/services.sh start`
# can name it with the others.
set -euo pipefail
SERVICE=chromium
PORT=0 # lib.sh expects one; nothing listens
# shellcheck source=scripts/services/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A Chinese font too: the wall's labels are Chinese, and a screenshot without one shows boxes.
FONT=fonts-wqy-microhei

do_install() {
  if command -v chromium >/dev/null && dpkg -s "$FONT" >/dev/null 2>&1; then
    return 0
  fi
  apt_install chromium "$FONT"
}

do_start_checked() { :; }
do_stop() { :; }

do_status() {
  if command -v chromium >/dev/null; then
    say "installed ($(command -v chromium)); not a service, nothing runs"
  else
    say "not installed (scripts/services.sh install chromium); not a service, nothing runs"
  fi
}

answering() { command -v chromium >/dev/null; }

main "$@"
