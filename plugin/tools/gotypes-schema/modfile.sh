# Sourced by gen-k8s.sh and gen-mesh.sh (run from this directory).
# pinned_modfile NAME CHECK REQUIREMENT...: sets $mod to versions/NAME.mod, go.mod with each
# REQUIREMENT (module@version) raised, tidied through the Go module proxy (+ versions/NAME.sum);
# made only when missing or when it lacks the line CHECK ("module version"), so a committed one
# regenerates the schema exactly as it was.
pinned_modfile() {
    name=$1 check=$2
    shift 2
    mod=versions/$name.mod
    mkdir -p versions
    if [ ! -f "$mod" ] || ! grep -q "$check\$" "$mod"; then
        cp go.mod "$mod"
        cp go.sum "versions/$name.sum"
        for requirement in "$@"; do
            go mod edit -modfile="$mod" -require="$requirement"
        done
        GOFLAGS=-mod=mod go mod tidy -modfile="$mod"
    fi
}

# The MAJOR.MINOR line of a version: v1.30.8 -> v1.30
version_line() {
    echo "$1" | sed -E 's/^(v[0-9]+\.[0-9]+)\..*$/\1/'
}
