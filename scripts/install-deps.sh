#!/bin/sh
# Installs the Debian packages the test suite uses (run as root on Debian 12).
# Each test that needs one of these fails with the component's name when it is missing.
set -eu
PKGS="postgresql python3-duo-client oathtool openssl login-duo libpam-duo pamtester openssh-server sudo util-linux gcc make libpam0g-dev libpam-google-authenticator chromium chromium-driver libnss3-tools"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
  echo "all test packages present: $PKGS"
fi
