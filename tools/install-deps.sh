#!/bin/sh
# install-deps.sh — installs what vkti needs to build and test, from the distribution's packages.
# Debian 12 / Ubuntu 22.04 or newer: apt-get (run as root, or with sudo available).
# Elsewhere it prints the list to install by hand.
set -e
BUILD="cmake make gcc libc6-dev pkg-config libvulkan-dev libvulkan-volk-dev glslc libcjson-dev libstb-dev"
RUN="libvulkan1 mesa-vulkan-drivers vulkan-validationlayers"
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    missing=""
    for p in $BUILD $RUN; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "installing:$missing"
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    exit 0
fi
cat <<MSG
vkti needs, from your distribution:
  to build: CMake >= 3.22, a C11 compiler, Vulkan headers, volk (volk.c + volk.h), glslc (shaderc),
            cJSON, stb (stb_image.h)
  to run:   a Vulkan loader and driver (your GPU's, or Mesa's lavapipe for the CPU)
  to test:  Mesa lavapipe and the Khronos validation layer
Fedora:  dnf install cmake gcc vulkan-headers vulkan-loader-devel volk-devel glslc cjson-devel stb-devel mesa-vulkan-drivers vulkan-validation-layers
Arch:    pacman -S cmake gcc vulkan-headers vulkan-icd-loader volk shaderc cjson stb vulkan-swrast vulkan-validation-layers
MSG
exit 1
