#!/usr/bin/env bash
# Runs the whole test suite. The PostgreSQL contract tests start their own throwaway cluster from the
# PostgreSQL 15 binaries and the email tests their own SMTP server; this script makes sure both are installed.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "Installing the PostgreSQL 15 server binaries (the storage tests start a throwaway cluster)..."
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql-15 >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql-15 >/dev/null; fi
fi
# The email tests talk to a real SMTP server: Debian's aiosmtpd, run by the system Python.
if ! /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null; then
  echo "Installing python3-aiosmtpd (the email tests start a real SMTP server)..."
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-aiosmtpd >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq python3-aiosmtpd >/dev/null; fi
fi
# initdb refuses to run as root: as root the tests run the cluster as the postgres system user.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --home /var/lib/postgresql postgres; fi

dotnet test Nudge.slnx --configuration Release "$@"
