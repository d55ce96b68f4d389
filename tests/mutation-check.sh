#!/usr/bin/env bash
# Mutation check (issue 14): applies each small behaviour-breaking change under tests/mutations/ to the product code,
# one at a time, builds, runs the tests that must notice it, restores the tree, and reports per mutation
# "caught" / "NOT CAUGHT". Exit status 0 only if every mutation applied, built and was caught.
#
#   tests/mutation-check.sh                 every mutation
#   tests/mutation-check.sh NAME...         only these (NN-name, name, or a unique part of it)
#   tests/mutation-check.sh --list          the mutations: name, file(s), what it changes, filter
#   tests/mutation-check.sh --table         the same as the README's markdown table
#   tests/mutation-check.sh --check         only check that every patch still applies (no build)
#   --no-baseline                           skip the clean build and the clean run of the filters (faster; use it only
#                                           when the tests are known to pass)
#
# A mutation is a unified diff, tests/mutations/NN-name.patch, whose leading comment lines give
#   # what: the change, in kernel terms
#   # filter: the dotnet test --filter that must fail with the mutation applied
#   # caught-by: the test(s) that fail (documentation; the README table is made from it)
# The tree is restored from copies of the touched files taken before the patch (so uncommitted edits of your own
# survive), after every mutation and on any exit (Ctrl-C, failure). After the last mutation the clean tree is
# built again, so the binaries on disk are never a mutant's.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dir=tests/mutations
proj=tests/ActorStack.Tests
hang_timeout=${MUTATION_HANG_TIMEOUT:-300s}

die() { echo "mutation-check: $*" >&2; exit 2; }
field() { sed -n "s/^# $2: *//p" "$1" | head -1; }
name_of() { basename "$1" .patch; }
files_of() { git apply --numstat "$1" 2>/dev/null | cut -f3; }

all=()
while IFS= read -r p; do all+=("$p"); done < <(ls "$dir"/*.patch 2>/dev/null | sort)
[ ${#all[@]} -gt 0 ] || die "no mutations in $dir"

mode=run baseline=1 sel=()
for a in "$@"; do
  case "$a" in
    --list) mode=list ;;
    --table) mode=table ;;
    --check) mode=check ;;
    --no-baseline) baseline=0 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $a (--list, --table, --check, --no-baseline, NAME...)" ;;
    *) sel+=("$a") ;;
  esac
done

chosen=()
if [ ${#sel[@]} -eq 0 ]; then chosen=("${all[@]}")
else
  for s in "${sel[@]}"; do
    m=()
    for p in "${all[@]}"; do
      n=$(name_of "$p")
      if [ "$n" = "$s" ] || [ "${n#[0-9][0-9]-}" = "$s" ]; then m=("$p"); break; fi
      case "$n" in *"$s"*) m+=("$p") ;; esac
    done
    [ ${#m[@]} -eq 1 ] || die "'$s' matches ${#m[@]} mutations (see --list)"
    chosen+=("${m[0]}")
  done
fi

case $mode in
  list)
    for p in "${chosen[@]}"; do
      printf '%s\n    file:   %s\n    what:   %s\n    filter: %s\n' "$(name_of "$p")" "$(files_of "$p" | paste -sd' ')" \
        "$(field "$p" what)" "$(field "$p" filter)"
    done
    exit 0 ;;
  table)
    echo '| mutation | file | what it changes | caught by |'
    echo '|---|---|---|---|'
    for p in "${chosen[@]}"; do
      printf '| `%s` | %s | %s | %s |\n' "$(name_of "$p")" "$(files_of "$p" | sed 's/.*/`&`/' | paste -sd' ')" \
        "$(field "$p" what)" "$(field "$p" caught-by)"
    done
    exit 0 ;;
esac

# ---------------------------------------------------------------- applying and restoring
backup=$(mktemp -d "${TMPDIR:-/tmp}/mutation-check.XXXXXX")
applied=""     # the patch whose files are saved in $backup while it is applied
restore() {
  [ -n "$applied" ] || return 0
  local f
  # A plain cp: the restored file is newer than the mutant's build, so the next build compiles it again.
  while IFS= read -r f; do cp "$backup/files/$f" "$f"; done < "$backup/list"
  applied=""
}
dirty_bins=0
on_exit() {
  local rc=$?
  restore
  rm -rf "$backup"
  if [ $dirty_bins = 1 ]; then
    echo "mutation-check: interrupted; the tree is restored, but the last build was of a mutant:" >&2
    echo "  rebuild before testing: dotnet build $proj -c Release" >&2
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apply_mutation() { # $1 = patch; 0 if applied
  local p=$1 f
  files_of "$p" > "$backup/list"
  [ -s "$backup/list" ] || return 1
  rm -rf "$backup/files"
  while IFS= read -r f; do
    [ -f "$f" ] || return 1
    mkdir -p "$backup/files/$(dirname "$f")"
    cp -p "$f" "$backup/files/$f"
  done < "$backup/list"
  git apply --check "$p" 2>"$backup/apply.err" || return 1
  applied=$p
  git apply "$p" 2>"$backup/apply.err" || { restore; return 1; }
}

build() { # quiet; prints the errors on failure
  dotnet build "$proj" -c Release -v q -nologo > "$backup/build.log" 2>&1 && return 0
  grep -E " error " "$backup/build.log" | sort -u | head -10 | sed 's/^/      /'
  return 1
}

run_tests() { # $1 = filter; sets T_FAILED T_TOTAL; 0 if all passed
  local out=$backup/test.log
  # A test that hangs under a mutation is killed by the blame collector and counts as failed.
  dotnet test "$proj" -c Release --no-build --nologo --filter "$1" \
    --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none > "$out" 2>&1
  local rc=$?
  T_FAILED=$(sed -n 's/.*Failed: *\([0-9][0-9]*\).*/\1/p' "$out" | tail -1)
  T_TOTAL=$(sed -n 's/.*Total: *\([0-9][0-9]*\).*/\1/p' "$out" | tail -1)
  return $rc
}

# ---------------------------------------------------------------- check mode: does every patch still apply?
if [ $mode = check ]; then
  bad=0
  for p in "${chosen[@]}"; do
    if git apply --check "$p" 2>/dev/null; then echo "applies        $(name_of "$p")"
    else echo "DOES NOT APPLY $(name_of "$p")"; git apply --check "$p" 2>&1 | sed 's/^/      /'; bad=1; fi
  done
  exit $bad
fi

for p in "${chosen[@]}"; do
  [ -n "$(field "$p" filter)" ] || die "$(name_of "$p"): no '# filter:' line"
done

# ---------------------------------------------------------------- baseline: the filters pass on the clean tree
if [ $baseline = 1 ]; then
  echo "== build (clean tree)"
  build || die "the clean tree does not build"
  union=""
  while IFS= read -r f; do union+="${union:+|}($f)"; done < <(for p in "${chosen[@]}"; do field "$p" filter; done | sort -u)
  echo "== baseline: the mutations' filters on the clean tree"
  if ! run_tests "$union"; then
    tail -30 "$backup/test.log" | grep -E "Failed |Failed:|error" | head -20 >&2
    die "the tests fail without any mutation (failed: ${T_FAILED:-?}); fix that first"
  fi
  echo "   ${T_TOTAL:-?} tests passed"
fi

# ---------------------------------------------------------------- the mutations
results=()
bad=0
for p in "${chosen[@]}"; do
  n=$(name_of "$p")
  filter=$(field "$p" filter)
  echo "== $n: $(field "$p" what)"
  if ! apply_mutation "$p"; then
    sed 's/^/      /' "$backup/apply.err"
    results+=("DOES NOT APPLY  $n")
    bad=1; continue
  fi
  dirty_bins=1
  if ! build; then
    restore
    results+=("BUILD FAILED    $n")
    bad=1; continue
  fi
  if run_tests "$filter"; then
    results+=("NOT CAUGHT      $n   (${T_TOTAL:-0} tests passed: $filter)")
    bad=1
  elif [ -z "${T_TOTAL:-}" ]; then
    grep -E "error|No test" "$backup/test.log" | head -5 | sed 's/^/      /'
    results+=("NO TEST RUN     $n   ($filter)")
    bad=1
  else
    failed=$(grep -E "^ *Failed [A-Za-z]" "$backup/test.log" | sed 's/^ *Failed //; s/ \[.*//' | sort -u)
    echo "$failed" | head -8 | sed 's/^/      failed: /'
    results+=("caught          $n   (${T_FAILED} of ${T_TOTAL:-?} tests failed)")
  fi
  restore
done

echo "== build (clean tree again)"
if build; then dirty_bins=0; else echo "mutation-check: the clean tree does not build after restoring" >&2; bad=1; fi
[ -z "$(git status --porcelain --untracked-files=no -- $(for p in "${chosen[@]}"; do files_of "$p"; done) | grep -v '^??')" ] \
  || echo "note: the mutated files differ from HEAD (your own uncommitted edits, restored as they were)"

echo
echo "== mutation check summary"
printf '%s\n' "${results[@]}"
caught=$(printf '%s\n' "${results[@]}" | grep -c '^caught')
echo "${caught} of ${#results[@]} mutations caught"
exit $bad
