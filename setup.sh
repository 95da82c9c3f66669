#!/usr/bin/env bash
# One-time setup on a fresh Debian 12 machine: cross toolchains, QEMU, and a virtualenv at .venv
# holding tinygen and its test dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES=(
  gcc-arm-none-eabi libnewlib-arm-none-eabi picolibc-arm-none-eabi
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  qemu-system-arm qemu-system-misc
  python3-venv gcc make ccache
  chromium
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "setup: installing tinygen with test and example dependencies into .venv"
.venv/bin/python -m pip install -q -e ".[test,examples]"
.venv/bin/tinygen doctor
