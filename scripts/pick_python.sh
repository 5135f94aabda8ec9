#!/bin/sh
# Print the path of a Python the course supports (pyproject.toml's requires-python, e.g. 3.10-3.12):
# $PYTHON when it is set (and only it), else python3, else python3.12 / 3.11 / 3.10 on PATH, the newest
# first. With none, explain on stderr and exit 1: instead of a compiler error ten minutes into
# `pip install` (numpy 1.26 and CompressAI 1.2.8 publish no wheels for newer Pythons).
#     sh scripts/pick_python.sh            # make install / lab / test call this
#     sh scripts/pick_python.sh --check .venv/bin/python
here=$(dirname "$0")
spec=$(sed -n 's/^requires-python *= *"\([^"]*\)".*/\1/p' "$here/../pyproject.toml")
low=$(echo "$spec" | sed -n 's/.*>=3\.\([0-9][0-9]*\).*/\1/p')
below=$(echo "$spec" | sed -n 's/.*<3\.\([0-9][0-9]*\).*/\1/p')
if [ -z "$low" ] || [ -z "$below" ]; then
    echo "pick_python.sh: cannot read the range from requires-python = \"$spec\" in pyproject.toml" >&2
    exit 2
fi
high=$((below - 1))
supported="3.$low to 3.$high"

fits() {
    "$1" -c "import sys; sys.exit(0 if (3, $low) <= sys.version_info[:2] <= (3, $high) else 1)" \
        >/dev/null 2>&1
}

version_of() {
    "$1" -c "import platform; print(platform.python_version())" 2>/dev/null || echo "not runnable"
}

explain() {
    cat >&2 <<MESSAGE
The course needs Python $supported; $1.
Its dependencies (numpy 1.26, which CompressAI 1.2.8 requires, and CompressAI itself) publish
prebuilt wheels only for those versions: on another Python pip compiles them from source, which
fails without a C/C++ compiler and the Python headers. Get a supported Python, then run make again:
  - pyenv:  pyenv install 3.12 && pyenv local 3.12
  - conda:  conda env create -f environment.yml (pins the version)
  - Debian/Ubuntu: apt install python3.11-venv (or the python3.12 package of your release)
  - python.org installers (Windows, macOS): 3.12
or name one: make install PYTHON=/path/to/python3.12
MESSAGE
}

if [ "$1" = "--check" ]; then
    if fits "$2"; then exit 0; fi
    explain "$2 is Python $(version_of "$2") (delete .venv to rebuild it with a supported one)"
    exit 1
fi
if [ -n "$PYTHON" ]; then
    if command -v "$PYTHON" >/dev/null 2>&1 && fits "$PYTHON"; then
        command -v "$PYTHON"
        exit 0
    fi
    explain "PYTHON=$PYTHON is Python $(version_of "$PYTHON")"
    exit 1
fi
for candidate in python3 $(i=$high; while [ "$i" -ge "$low" ]; do echo "python3.$i"; i=$((i - 1)); done); do
    if command -v "$candidate" >/dev/null 2>&1 && fits "$candidate"; then
        command -v "$candidate"
        exit 0
    fi
done
if command -v python3 >/dev/null 2>&1; then
    explain "python3 here is Python $(version_of python3) and no python3.$high ... python3.$low is on PATH"
else
    explain "there is no python3 on PATH"
fi
exit 1
