# Every recipe is a plain cargo command underneath; `just` alone lists them.

# List the recipes.
default:
    @just --list

# Run one lesson with its arguments: `just run race-lock --json`.
run lesson *args:
    cargo run --release -p {{lesson}} -- {{args}}

# Run a copyable example: `just example race_lock`.
example name *args:
    cargo run --release --example {{name}} -- {{args}}

# Build every binary, then run every test (unit, doc and end-to-end).
test:
    cargo build --workspace
    cargo test --workspace

# The same tests optimised: races show differently once compiled in release.
test-release:
    cargo build --workspace --release
    cargo test --workspace --release

# The loom model checks of the lock and counter lessons (their own target dir keeps the main cache).
loom:
    RUSTFLAGS="--cfg loom" cargo test --release -p race-lock --lib --target-dir target/loom -- loom

# Format check and clippy with warnings denied.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Build the documentation with warnings denied.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Every Python twin beside its Rust lesson on the same sizes, one table: `just compare --quick`.
# The Celery twin gets its own virtual environment; Redis is REDIS_URL or a private redis-server.
compare *args:
    cargo build --release --workspace
    test -x target/compare/venv/bin/python || python3 -m venv target/compare/venv
    target/compare/venv/bin/pip install --quiet --disable-pip-version-check -r examples/python/requirements-celery.txt
    cargo run --release -p compare -- {{args}}

# The benchmarks of the hot paths of every lesson (divan).
bench:
    cargo bench --workspace
