#!/bin/sh
# Dependencies point down: tools -> engine -> query -> storage. Fails when a lower folder
# includes a header of a higher one.
cd "$(dirname "$0")/.." || exit 2
bad=0
check() { # folder, forbidden include prefixes...
  dir=$1
  shift
  for up in "$@"; do
    if grep -rn "#include \"$up/" "$dir" --include='*.c' --include='*.h'; then
      echo "layering: $dir/ includes $up/" >&2
      bad=1
    fi
  done
}
check storage query engine tools
check query engine tools
check engine tools
[ "$bad" -eq 0 ] && echo "layers ok"
exit $bad
