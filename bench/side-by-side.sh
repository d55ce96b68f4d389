#!/bin/bash
# Runs two builds of the bench at the same time, one core each, N times, and prints both sim-idle ratios per round.
# On a noisy host both runs see the same phase, so the ratio between them means something where a run alone does not.
# usage: bench/side-by-side.sh N A/ActorStack.Bench.dll B/ActorStack.Bench.dll [sim-idle arguments...]
set -eu
n=$1; a=$2; b=$3; shift 3
ratio() { grep -E "^result" | sed -E 's/.*simulated:wall ([0-9.]+):1.*/\1/'; }
ta=$(mktemp); tb=$(mktemp); trap 'rm -f "$ta" "$tb"' EXIT
for i in $(seq "$n"); do
  dotnet "$a" sim-idle "$@" > "$ta" 2>&1 &
  dotnet "$b" sim-idle "$@" > "$tb" 2>&1 &
  wait
  echo "round $i: A $(ratio < "$ta"):1  B $(ratio < "$tb"):1"
done
