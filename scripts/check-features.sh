#!/usr/bin/env bash
# docs/FEATURES.md promises three statuses: done, partial, planned. A row that says anything else
# ("in progress", "planned (hardening issue)" after that issue landed) is a document that stopped
# being true: fail. Notes belong in a notes column, not in the status.
set -euo pipefail
file="${1:-$(dirname "$0")/../docs/FEATURES.md}"
# A table's header is the row right above its |---| separator; in tables with a "status" column,
# every body row's cell in that column is checked. Escaped pipes (\|) inside cells are not
# column separators.
bad=$(awk '
  { line = $0; gsub(/\\\|/, "/", line); n = split(line, cell, "|") }
  line ~ /^\|[-:| ]+\|$/ {
    col = 0
    for (i = 2; i < prev_n; i++) if (prev[i] ~ /^ *status *$/) col = i
    next
  }
  line !~ /^\|/ { col = 0 }
  line ~ /^\|/ && col > 0 {
    s = cell[col]; gsub(/^ +| +$/, "", s)
    if (s !~ /^(done|partial|planned)$/)
      printf "%s:%d: status \"%s\"\n", FILENAME, NR, s
  }
  { prev_n = n; for (i = 1; i <= n; i++) prev[i] = cell[i] }
' "$file")
if [ -n "$bad" ]; then
  echo "$bad"
  echo "FEATURES.md: a status must be done, partial or planned" >&2
  exit 1
fi
echo "FEATURES.md: every status is done, partial or planned"
