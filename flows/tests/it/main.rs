//! connector-flows' integration tests, one binary: stores on SQLite files and on a real
//! Postgres server (started by scripts/test.sh; skipped with a SKIPPED line without one,
//! failing with POSTGRES_REQUIRED=1 as in CI).

mod receiver;
mod store;
mod support;
