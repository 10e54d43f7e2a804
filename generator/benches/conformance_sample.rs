//! Lists the specs of the conformance compile sample, so that `scripts/bench-conformance.sh` times
//! the very crates `conformance --compile N` compiles. Not a measurement itself:
//! `cargo bench -p connector-gen --bench conformance_sample -- CORPUS N [SEED]` prints one spec
//! path a line.
//!
//! The choice is the conformance binary's own code (`tests/src/bin/conformance/sample.rs`,
//! included below rather than copied), with the same seed and the same rule that GitHub's spec is
//! always in the sample.

use std::path::PathBuf;
use std::process::ExitCode;

#[allow(dead_code, unused_imports)]
#[path = "../../tests/src/bin/conformance/sample.rs"]
mod sample;

/// The conformance binary's default `--seed`; its compile sample uses the seed plus one.
const SEED: u64 = 2026;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(corpus), Some(n)) = (args.first(), args.get(1)) else {
        eprintln!("usage: conformance_sample CORPUS N [SEED]");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N takes a whole number, got {n:?}");
        return ExitCode::from(2);
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => SEED,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("SEED takes a whole number");
            return ExitCode::from(2);
        }
    };
    let specs = match sample::find_specs(&PathBuf::from(corpus)) {
        Ok(specs) => specs,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut chosen = sample::seeded(&specs, n, seed.wrapping_add(1));
    if let Some(github) = specs.iter().find(|s| s.ends_with("api.github.com.json")) {
        if !chosen.contains(github) {
            chosen.pop();
            chosen.push(github.clone());
        }
    }
    for spec in chosen {
        println!("{}", spec.display());
    }
    ExitCode::SUCCESS
}
