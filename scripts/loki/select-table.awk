# For `make exp-loki-select`: lines "STRATEGY STEP LOCUS_CLASSES" from `loki select` over several
# trees (each run restarting at step 1) -> picks until the locus covers all nodes, and the mean locus
# size after each pick (a run that is done keeps its final size, as the reference pads its curves).
{
    if ($2 == 1) { run[$1]++ }
    r = run[$1]; size[$1, r, $2] = $3; if ($2 > last[$1, r]) last[$1, r] = $2
    if ($2 > maxstep) maxstep = $2
}
END {
    for (s = 1; s <= 2; s++) {
        name = (s == 1) ? "active" : "random"
        total = 0
        for (r = 1; r <= run[name]; r++) total += last[name, r]
        printf "%s: %.1f picks on average to cover the tree (%d trees)\n", name, total / run[name], run[name]
    }
    printf "\n| picks | active: mean locus size | random: mean locus size |\n|---|---|---|\n"
    for (k = 1; k <= maxstep; k++) {
        printf "| %d |", k
        for (s = 1; s <= 2; s++) {
            name = (s == 1) ? "active" : "random"; sum = 0
            for (r = 1; r <= run[name]; r++) {
                kk = (k <= last[name, r]) ? k : last[name, r]
                sum += size[name, r, kk]
            }
            printf " %.1f |", sum / run[name]
        }
        printf "\n"
    }
}
