#!/bin/sh
# test_docs.sh -- every reference in code, help, the man page and the docs points to a
# document in the repository:
#   - no citation of documents users do not have (the project's original
#     specification and platform notes, cited as "SPEC x.y" and "PLATFORM-NOTES");
#   - every "§n" or "§n.m" cites a section that exists: in the document named before
#     it on the same line (docs/MODEL.md §3.4, PLATFORM.md §2, "§2.1, §2.2" after
#     one name), or, inside docs/, in the document itself. A range §3.1-3.5 needs
#     both ends. Sections are the numbered headings ("## 3. Training",
#     "### 3.4 Label generation").
# A negative control shows the section check can fail.
set -u
cd "$(dirname "$0")/.."
ok() { echo "ok - $1"; }
failed=0
bad() { echo "not ok - $1"; failed=1; }

# Where citations live: everything but the committed fixtures (data) and this file.
sources() {
  find lib cli include examples tests docs tools third_party -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' -o -name '*.md' -o -name '*.1' \) \
    ! -path 'tests/fixtures/*' ! -name 'test_docs.sh' 2>/dev/null
  for f in README.md CHANGELOG.md Makefile; do [ -e "$f" ] && echo "$f"; done
}

# check_sections ROOT FILE...: prints one "# file:line: ..." per citation of a missing
# document or section (ROOT holds docs/).
check_sections() {
  root=$1
  shift
  {
    # headings first: "H <doc> <number>"
    for d in "$root"/docs/*.md; do
      name=${d##*/}
      sed -n 's/^##* \([0-9][0-9]*\(\.[0-9][0-9]*\)*\)\.\{0,1\} .*/H '"$name"' \1/p' "$d"
    done
    # then the citations, token by token in line order: "C <file>:<line>:<token>"
    grep -noE '[A-Z][A-Z]*\.md|§[0-9][0-9.]*(-[0-9][0-9.]*)?' "$@" /dev/null | sed 's/^/C /'
  } | awk '
    $1 == "H" { sec[$2 " " $3] = 1; docs[$2] = 1; next }
    {
      rest = substr($0, 3)
      i = index(rest, ":"); file = substr(rest, 1, i - 1); rest = substr(rest, i + 1)
      i = index(rest, ":"); line = substr(rest, 1, i - 1); tok = substr(rest, i + 1)
      where = file ":" line
      if (where != last) {                 # a new line: no document named yet
        last = where
        n = split(file, parts, "/")
        cur = (file ~ /(^|\/)docs\/[^\/]*\.md$/) ? parts[n] : ""
      }
      if (tok ~ /\.md$/) { cur = tok; next }
      sub(/^§/, "", tok)
      sub(/\.+$/, "", tok)
      if (cur == "") { print "# " where ": §" tok " names no document"; next }
      if (!(cur in docs)) { print "# " where ": " cur " §" tok ": no numbered document " cur " in docs/"; next }
      m = split(tok, ends, "-")
      for (k = 1; k <= m; k++)
        if (!((cur " " ends[k]) in sec)) print "# " where ": " cur " has no section " ends[k]
    }'
}

# 1. No citation of the documents users do not have.
files=$(sources)
hits=$(grep -nw 'SPEC' $files /dev/null; grep -n 'PLATFORM-NOTES\|SPEC\.md' $files /dev/null)
[ -z "$hits" ] && ok "no citation of SPEC or PLATFORM-NOTES" ||
  { echo "$hits" | sed 's/^/# /'; bad "no citation of SPEC or PLATFORM-NOTES"; }

# 2. Every § cites an existing section; and there are citations to check.
out=$(check_sections . $files)
count=$(grep -oE '§[0-9]' $files /dev/null | wc -l)
[ "$count" -gt 40 ] || out="$out
# only $count section citations found: is this the source tree?"
[ -z "$out" ] && ok "every § cites an existing section ($count citations)" ||
  { echo "$out"; bad "every § cites an existing section"; }

# 3. The documents code cites are there and numbered.
for d in MODEL PLATFORM; do
  n=$(grep -c '^## [0-9][0-9]*\. ' "docs/$d.md" 2>/dev/null || echo 0)
  [ "$n" -ge 5 ] && ok "docs/$d.md has numbered sections ($n)" || bad "docs/$d.md has numbered sections"
done

# 4. Negative control: a missing section, a missing document and a bare § are found.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/docs"
printf '# X\n## 1. One\n### 1.1 A part\n' >"$tmp/docs/X.md"
printf '/* X.md §1.1, §1 and X.md §2 */\n/* Y.md §1 */\n/* §1 */\n/* X.md §1-1.2 */\n' >"$tmp/a.c"
out=$(check_sections "$tmp" "$tmp/a.c")
n=$(printf '%s\n' "$out" | grep -c .)
if [ "$n" -eq 4 ] && echo "$out" | grep -q 'X.md has no section 2$' &&
  echo "$out" | grep -q 'no numbered document Y.md' && echo "$out" | grep -q 'names no document' &&
  echo "$out" | grep -q 'X.md has no section 1.2$'; then
  ok "negative control: bad citations are reported"
else
  echo "$out" | sed 's/^/# control: /'
  bad "negative control: bad citations are reported"
fi
exit $failed
