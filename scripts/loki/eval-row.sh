#!/bin/sh
# For the loki experiments: one Markdown row from a `loki eval` JSON report on stdin (its "all" group):
# | LABEL | argmax acc. | Loki acc. | argmax E[d²] | Loki E[d²] | reduction |
# Usage: loki eval ... | scripts/loki/eval-row.sh "LABEL CELLS"
sed -E 's/.*"all":\{"count":[0-9]+,"argmax":\{"accuracy":([^,]+),"mean_sq_distance":([^}]+)\},"loki":\{"accuracy":([^,]+),"mean_sq_distance":([^}]+)\},"relative_improvement":([^}]+)\}.*/\1 \3 \2 \4 \5/' |
  awk -v label="$1" '{ printf "| %s | %.3f | %.3f | %.3f | %.3f | %.1f%% |\n", label, $1, $2, $3, $4, 100 * $5 }'
