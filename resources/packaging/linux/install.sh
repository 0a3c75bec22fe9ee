#!/bin/sh
# Install Sniper for the current user (no root): ./install.sh [--prefix DIR], or remove it: ./install.sh --uninstall
# The program goes to PREFIX/lib/sniper-app (PREFIX defaults to ~/.local), a command to PREFIX/bin, the menu
# entry and icons to the XDG data dir. Your snipes, settings and logs (~/.local/share/sniper-app,
# ~/.config/sniper-app, ~/.local/state/sniper-app) are never touched, not even by --uninstall.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix="$HOME/.local"
action=install
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --uninstall) action=uninstall; shift ;;
        -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
data="${XDG_DATA_HOME:-$HOME/.local/share}"
appdir="$prefix/lib/sniper-app"
sizes="16 24 32 48 64 128 256 512"

if [ "$action" = uninstall ]; then
    rm -rf "$appdir"
    rm -f "$prefix/bin/sniper-app" "$data/applications/sniper-app.desktop" "$data/icons/hicolor/scalable/apps/sniper-app.svg"
    for s in $sizes; do rm -f "$data/icons/hicolor/${s}x${s}/apps/sniper-app.png"; done
    echo "Sniper removed (your data and settings are kept)."
    exit 0
fi

mkdir -p "$prefix/lib" "$prefix/bin" "$data/applications" "$data/icons/hicolor/scalable/apps"
rm -rf "$appdir.new"
cp -R "$here/sniper-app" "$appdir.new"
rm -rf "$appdir"
mv "$appdir.new" "$appdir"
ln -sf "$appdir/sniper-app" "$prefix/bin/sniper-app"
for s in $sizes; do
    mkdir -p "$data/icons/hicolor/${s}x${s}/apps"
    cp "$here/icons/sniper-$s.png" "$data/icons/hicolor/${s}x${s}/apps/sniper-app.png"
done
cp "$here/icons/sniper.svg" "$data/icons/hicolor/scalable/apps/sniper-app.svg"
# The menu entry names the program by its full path: ~/.local/bin is not on every session's PATH.
sed "s|^Exec=sniper-app|Exec=\"$appdir/sniper-app\"|" "$here/sniper-app.desktop" > "$data/applications/sniper-app.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "Sniper installed in $appdir; start it from the menu or with: $prefix/bin/sniper-app"
