#!/bin/sh
# Installs the sickbay binary for this machine from a release, verifying its checksum.
#
#   curl -fsSL https://github.com/sickbay-dev/sickbay/releases/latest/download/install.sh | sh
#
# Settings (environment):
#   SICKBAY_VERSION        release tag, e.g. v0.2.0 (default: latest)
#   SICKBAY_DOWNLOAD_URL   where the release files are: a URL or a local directory
#                          (default: the GitHub release of SICKBAY_VERSION)
#   SICKBAY_INSTALL_DIR    where the binary goes (default: $HOME/.local/bin, which persists
#                          in AWS CloudShell)
#   SICKBAY_TARGET         override the detected target triple
set -eu

REPO="sickbay-dev/sickbay"
VERSION="${SICKBAY_VERSION:-latest}"
INSTALL_DIR="${SICKBAY_INSTALL_DIR:-$HOME/.local/bin}"

say() { printf 'sickbay-install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

detect_target() {
    os=$(uname -s)
    arch=$(uname -m)
    case "$arch" in
        x86_64 | amd64) arch=x86_64 ;;
        aarch64 | arm64) arch=aarch64 ;;
        *) die "no release for CPU $arch (x86_64 and aarch64 are built)" ;;
    esac
    case "$os" in
        Linux) echo "$arch-unknown-linux-gnu" ;;
        Darwin) echo "$arch-apple-darwin" ;;
        *) die "no release for $os (Linux and macOS are built)" ;;
    esac
}

# fetch SOURCE DEST: a URL with curl or wget, or a file from a local directory.
fetch() {
    case "$1" in
        http://* | https://*)
            if command -v curl >/dev/null 2>&1; then
                curl -fsSL "$1" -o "$2" || die "cannot download $1"
            elif command -v wget >/dev/null 2>&1; then
                wget -q -O "$2" "$1" || die "cannot download $1"
            else
                die "neither curl nor wget is installed"
            fi
            ;;
        *) cp "$1" "$2" 2>/dev/null || die "cannot read $1" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is installed: cannot verify the download"
    fi
}

target="${SICKBAY_TARGET:-$(detect_target)}"
if [ -n "${SICKBAY_DOWNLOAD_URL:-}" ]; then
    base="$SICKBAY_DOWNLOAD_URL"
elif [ "$VERSION" = latest ]; then
    base="https://github.com/$REPO/releases/latest/download"
else
    base="https://github.com/$REPO/releases/download/$VERSION"
fi
archive="sickbay-$target.tar.gz"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
say "downloading $archive from $base"
fetch "$base/$archive" "$tmp/$archive"
fetch "$base/$archive.sha256" "$tmp/$archive.sha256"

want=$(cut -d' ' -f1 <"$tmp/$archive.sha256")
got=$(sha256_of "$tmp/$archive")
[ -n "$want" ] || die "empty checksum file $archive.sha256"
[ "$want" = "$got" ] || die "checksum mismatch for $archive: expected $want, got $got; nothing installed"

tar -xzf "$tmp/$archive" -C "$tmp" || die "cannot unpack $archive"
[ -f "$tmp/sickbay" ] || die "$archive does not contain sickbay"
mkdir -p "$INSTALL_DIR"
# Install atomically: a half-copied binary never sits on PATH.
cp "$tmp/sickbay" "$INSTALL_DIR/.sickbay.new"
chmod 755 "$INSTALL_DIR/.sickbay.new"
mv "$INSTALL_DIR/.sickbay.new" "$INSTALL_DIR/sickbay"
say "installed $INSTALL_DIR/sickbay ($target)"
case ":$PATH:" in
    *":$INSTALL_DIR:"*) ;;
    *) say "add it to PATH: echo 'export PATH=\"$INSTALL_DIR:\$PATH\"' >> ~/.bashrc" ;;
esac
