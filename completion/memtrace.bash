# SPDX-License-Identifier: MIT
# bash completion for memtrace: commands, each command's options and their values, and log
# files (*.mtr, also the .mtr.2 ... a second process writes) and directories (a run's logs)
# where a log is expected.
# Installed by meson as share/bash-completion/completions/memtrace; to try it from a source
# tree: source completion/memtrace.bash

_memtrace_logs() {
    local IFS=$'\n'
    COMPREPLY+=($(compgen -d -- "$1"))
    COMPREPLY+=($(compgen -f -X '!*.mtr*' -- "$1"))
    type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
}

# The options of run that take a value as the next word (for finding where PROG starts).
_memtrace_run_valued="-o --output --sample-interval --error-exitcode --fail-on --kinds
    --show-leak-kinds --suppressions --fail-leaked-above --fail-peak-above"

_memtrace() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=${COMP_WORDS[COMP_CWORD - 1]}
    local raw_cur=$cur raw_prev=$prev
    # --opt=VALUE: bash splits the word at '=' (COMP_WORDBREAKS), so the value being completed
    # is the word after a lone '=' and its option the word before it
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]] && ((COMP_CWORD >= 3)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
    local commands="run attach report leaks peak lines timeline fragmentation diff export flamegraph html logstats help"
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return 0
    fi
    local cmd=${COMP_WORDS[1]} opts=""
    case $cmd in
    run) opts="--output -o --sample-interval --follow-fork --no-follow-fork --keep-free-lists --live --aggregate --quiet -q
               --leak-check --error-exitcode --fail-on --fail-leaked-above --fail-peak-above
               --after-finalization --kinds --show-leak-kinds --suppressions --gen-suppressions
               --show-import-machinery --full-names --python=on --python=off --help -h" ;;
    report) opts="--format --top --frames --tree --fail-peak-above --thread --from --to --no-color
                  --show-import-machinery --full-names --no-index --help -h" ;;
    peak) opts="--format --top --frames --tree --thread --from --to --no-color --show-import-machinery
                --full-names --no-index --help -h" ;;
    fragmentation) opts="--format --top --frames --request --thread --from --to --no-color
                         --show-import-machinery --full-names --no-index --help -h" ;;
    leaks) opts="--kinds --show-leak-kinds --fail-on --error-exitcode --fail-leaked-above
                 --after-finalization --suppressions --gen-suppressions --format --output -o
                 --source-root --frames --tree --thread --from --to --no-color --show-import-machinery
                 --full-names --no-index --help -h" ;;
    timeline) opts="--output -o --width --height --thread --from --to --no-color --no-index --help
                    -h" ;;
    diff) opts="--format --by --fail-above --top --frames --thread --from --to --no-color
                --show-import-machinery --full-names --help -h" ;;
    export) opts="--to --from --output -o --cost --thread --show-import-machinery --full-names --no-index --help
                  -h" ;;
    flamegraph) opts="--output -o --cost --title --min-percent --width --thread --from --to
                      --show-import-machinery --full-names --no-index --help -h" ;;
    html) opts="--output -o --title --top --thread --from --to --show-import-machinery --full-names
                --no-index --help -h" ;;
    lines) opts="--file --function --thread --from --to --format --no-color --no-index --help -h" ;;
    logstats) opts="--format --help -h" ;;
    attach) opts="--output -o --duration --sample-interval --quiet -q --live --help -h" ;;
    help)
        ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return 0
        ;;
    esac

    if [[ $cmd == run ]]; then
        # the program, then its own arguments (files, and its own options: none of ours);
        # an option's value is not the program, whether it is the next word or after '='
        # (--fail-on=all: '--fail-on' '=' 'all')
        local i w found=0
        for ((i = 2; i < COMP_CWORD; i++)); do
            w=${COMP_WORDS[i]}
            if [[ $w == = ]]; then
                ((i++))
            elif [[ " "$_memtrace_run_valued" " == *[[:space:]]"$w"[[:space:]]* ]]; then
                [[ ${COMP_WORDS[i + 1]} == = ]] || ((i++))
            elif [[ $w == -- ]]; then
                ((i + 1 < COMP_CWORD)) && found=1
                break
            elif [[ $w != -* ]]; then
                found=1
                break
            fi
        done
        if ((found)); then
            local IFS=$'\n'
            COMPREPLY=($(compgen -f -- "$cur"))
            type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
            return 0
        fi
        if [[ $raw_prev == -- ]] || [[ $cur != -* && $raw_prev != = && $raw_cur != = &&
            " "$_memtrace_run_valued" " != *[[:space:]]"$prev"[[:space:]]* ]]; then
            COMPREPLY=($(compgen -c -- "$cur")) # PROG: a command or a path to one
            return 0
        fi
    fi

    case $prev in
    --format)
        if [[ $cmd == leaks ]]; then
            COMPREPLY=($(compgen -W "text json sarif junit" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
        fi
        return 0
        ;;
    --to)
        # export's --to is its format first (a time is also its window's end)
        if [[ $cmd == export ]]; then
            COMPREPLY=($(compgen -W "folded pprof massif" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "start end peak" -- "$cur")) # or seconds: 1.5
        fi
        return 0
        ;;
    --from) COMPREPLY=($(compgen -W "start end peak" -- "$cur")); return 0 ;;
    --cost)
        if [[ $cmd == flamegraph ]]; then
            COMPREPLY=($(compgen -W "peak leaked allocations temporary allocated" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "peak leaked allocations allocated" -- "$cur"))
        fi
        return 0
        ;;
    --by) COMPREPLY=($(compgen -W "peak leaked" -- "$cur")); return 0 ;;
    --python) COMPREPLY=($(compgen -W "on off" -- "$cur")); return 0 ;;
    --kinds | --show-leak-kinds | --fail-on)
        # a list: complete its last element and keep the ones before it (definite,in -> definite,indirect)
        local done=""
        [[ $cur == *,* ]] && done=${cur%,*},
        COMPREPLY=($(compgen -P "$done" -W "definite indirect possible reachable unclassified all none" \
            -- "${cur##*,}"))
        return 0
        ;;
    --source-root)
        local IFS=$'\n'
        COMPREPLY=($(compgen -d -- "$cur"))
        type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
        return 0
        ;;
    -o | --output | --suppressions | --file)
        local IFS=$'\n'
        COMPREPLY=($(compgen -f -- "$cur"))
        type compopt >/dev/null 2>&1 && compopt -o filenames 2>/dev/null
        return 0
        ;;
    --top | --frames | --request | --width | --height | --min-percent | --title | --fail-above | --function | \
        --error-exitcode | --sample-interval | --fail-leaked-above | --fail-peak-above | --thread | \
        --duration)
        return 0 # a number, a name, or a thread's name or id: nothing to offer
        ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    if [[ $cmd == attach ]]; then # a running process's pid
        COMPREPLY=($(compgen -W "$(command ls /proc 2>/dev/null | grep -E '^[0-9]+$')" -- "$cur"))
        return 0
    fi
    _memtrace_logs "$cur"
    return 0
}

complete -F _memtrace memtrace
