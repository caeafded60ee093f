# Every recipe is a plain cargo command underneath; `just` alone lists them.

# List the recipes.
default:
    @just --list

# `cargo run -p <lesson>` resolves the dependencies' features for that lesson alone, so after a
# workspace build it compiles again every dependency whose features differ. `--workspace --bin`
# resolves them for the whole workspace and builds only that lesson, so every lesson reuses what
# `cargo build --release --workspace` (`just compare`, `just test-release`) compiled.
# Run one lesson with its arguments: `just run race-lock --json`.
run lesson *args:
    cargo build --release --workspace --bin {{lesson}}
    target/release/{{lesson}} {{args}}

# Resolved for the whole workspace too, as `cargo test --workspace --release` resolves them. The
# two examples that need tokio or apalis get the feature that brings it (`required-features` in
# Cargo.toml); the others compile only the root package's dev-dependencies beside themselves.
# Run a copyable example: `just example race_lock`.
example name *args:
    cargo build --release --workspace --example {{name}} {{ if name == "task_queue" { "--features apalis" } else if name == "async_mixed" { "--features tokio" } else { "" } }}
    target/release/examples/{{name}} {{args}}

# `--all-features` builds the examples that need tokio or apalis too.
# Build every binary, then run every test (unit, doc and end-to-end).
test:
    cargo build --workspace
    cargo test --workspace --all-features

# The same tests optimised: races show differently once compiled in release.
test-release:
    cargo build --workspace --release
    cargo test --workspace --release --all-features

# The loom model checks of the lock and counter lessons (their own target dir keeps the main cache).
loom:
    RUSTFLAGS="--cfg loom" cargo test --release -p race-lock --lib --target-dir target/loom -- loom

# Format check and clippy with warnings denied.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings

# Every example copied into a project of its own with only the `[dependencies]` its header names,
# built offline and run with small sizes: `just copy-check`, or `just copy-check race_lock`.
copy-check *names:
    python3 tools/copy_check.py {{names}}

# Build the documentation with warnings denied.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# mdBook renders a missing include as nothing, so `cargo test` checks every include (tests/book.rs).
# Render the book into target/book (installs the pinned mdBook when it is missing).
book:
    command -v mdbook >/dev/null && mdbook --version | grep -q 'v0.5.4' || cargo install mdbook --version 0.5.4 --locked --no-default-features --features search
    mdbook build book

# Needs Debian's chromium and chromium-driver (`.ci/run` installs them); selenium goes in a venv.
# Open every page of the book in headless Chromium: includes, images, links, each chapter's code.
book-check: book
    test -x target/book-venv/bin/python || python3 -m venv target/book-venv
    target/book-venv/bin/pip install --quiet --disable-pip-version-check -r book/requirements.txt
    target/book-venv/bin/python book/check.py target/book

# Every Python twin beside its Rust lesson, one table: `just compare --quick`. A full run also
# writes the table and its sentences into README.md and docs/results.md, the chart into docs/.
# The Celery twin gets its own virtual environment; Redis is REDIS_URL or a private redis-server.
compare *args:
    cargo build --release --workspace
    test -x target/compare/venv/bin/python || python3 -m venv target/compare/venv
    target/compare/venv/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements-celery.txt
    target/release/compare --write-into README.md --write-into docs/results.md --chart-into docs/compare.svg --book-into book/src/generated {{args}}

# The benchmarks of the hot paths of every lesson (divan), written into docs/results.md.
bench:
    cargo build --release --workspace
    mkdir -p target
    cargo bench --workspace > target/bench.txt 2>&1 || { cat target/bench.txt; exit 1; }
    cat target/bench.txt
    target/release/results target/bench.txt --into docs/results.md

# Each lesson over the size that matters (threads, chunk, message size, tasks), Rust beside its
# Python twin at the same points: `just sweep --quick`, `just sweep --lesson race-lock`. Writes
# target/compare/sweep.jsonl; a full run also docs/sweeps/, docs/results.md and the book's pages
# (from the record of each chart's latest full run in docs/sweeps/; `just sweep --redraw` writes
# them again from it without running).
# The Celery twin gets the environment `just compare` makes; Redis is REDIS_URL or a private one.
sweep *args:
    cargo build --release --workspace
    test -x target/compare/venv/bin/python || python3 -m venv target/compare/venv
    target/compare/venv/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements-celery.txt
    target/release/sweep {{args}}

# `yes` keeps the other core busy; the row is JSON, and docs/results.md has a run.
# task-queue's SQLite backend under load: 1 000 000 jobs, or `just bench-queue 200000`.
bench-queue jobs="1000000":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --release --workspace --bin task-queue
    yes > /dev/null &
    busy=$!
    trap 'kill $busy' EXIT
    target/release/task-queue --json --jobs {{jobs}} --timeout-s 3000

# task-queue across hosts made of network namespaces (as root), with a host cut off, killed, the
# broker restarted and a slow link, beside Celery: `just cluster --quick`. Writes target/cluster/.
cluster *args:
    cargo build --release --workspace
    test -x target/compare/venv/bin/python || python3 -m venv target/compare/venv
    target/compare/venv/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements-celery.txt
    cluster/cluster.sh {{args}}
    # A full run's table is the book's: the page that shows it gives its own heading.
    case " {{args}} " in *" --quick "*) ;; *) sed 1,2d target/cluster/cluster.md > book/src/generated/cluster.md ;; esac
