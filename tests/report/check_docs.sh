#!/usr/bin/env bash
# The man page is well-formed roff and documents every option and command the
# binary's --help lists, and every command answers --help.
# usage: check_docs.sh MAILCONFORM_BINARY SOURCE_DIR
set -u
bin=$1 src=$2 man=$2/docs/mailconform.1
fail=0 passed=0
ok()  { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

if command -v groff >/dev/null; then
  out=$(groff -man -ww -z "$man" 2>&1)
  [ -z "$out" ] && ok "groff -man -ww: no warnings" || bad "groff warnings: $out"
else
  bad "groff is not installed (scripts/install-deps.sh installs groff-base)"
fi

# roff escapes '-' as '\-': compare against the page with those undone
text=$(sed 's/\\-/-/g; s/\\e/\\/g' "$man")
for cmd in check relay probe rules explain version; do
  if help=$("$bin" "$cmd" --help 2>&1) && [ -n "$help" ]; then
    ok "$cmd --help"
  else
    bad "$cmd --help fails"
    continue
  fi
  grep -q "^\.B mailconform $cmd" <<<"$text" || grep -q "^\.B $cmd\$" <<<"$text" \
    && ok "man page names command $cmd" || bad "man page does not name command $cmd"
  for opt in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
    [ "$opt" = "--help" ] && continue
    grep -q -- "$opt" <<<"$text" && ok "man page documents $cmd $opt" \
      || bad "man page does not document $cmd $opt"
  done
done
echo "$passed passed, $fail failed"
[ "$fail" -eq 0 ]
