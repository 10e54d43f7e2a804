//! Stage 1: generate every chosen spec in memory, recording ok / error / panic and the time taken.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use connector_gen::{load_connector, render_crate, Options};

/// How generating one spec ended.
pub enum Outcome {
    /// A crate was rendered.
    Ok {
        /// Actions generated.
        actions: usize,
        /// Types generated.
        types: usize,
        /// Warnings reported.
        warnings: usize,
        /// What the entity finder found.
        entities: EntityCounts,
    },
    /// The generator reported an error (its first line).
    Error(String),
    /// The generator panicked (the panic message).
    Panic(String),
}

impl Outcome {
    /// Whether the generator panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, Outcome::Panic(_))
    }
}

/// What the entity finder found in one spec.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntityCounts {
    /// Entities.
    pub entities: usize,
    /// Operations taken by an entity.
    pub operations: usize,
    /// Operations that stayed plain actions.
    pub plain: usize,
    /// Actions with a pagination style.
    pub paginated: usize,
}

impl EntityCounts {
    fn of(connector: &connector_gen::ir::Connector) -> Self {
        let operations: usize = connector.entities.iter().map(|e| e.operations.len()).sum();
        EntityCounts {
            entities: connector.entities.len(),
            operations,
            plain: connector.operations.len() - operations,
            paginated: connector
                .paging
                .values()
                .filter(|p| p.pagination.is_some())
                .count(),
        }
    }
}

/// The result for one spec.
pub struct Generated {
    /// The spec file.
    pub spec: PathBuf,
    /// The OpenAPI version the spec declares (`2.0`, `3.0`, `3.1`, `?`).
    pub version: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// Time spent generating.
    pub elapsed: Duration,
}

fn generate_one(spec: &PathBuf) -> Generated {
    let started = Instant::now();
    let bytes = std::fs::read(spec).unwrap_or_default();
    let options = Options::default();
    let label = connector_gen::spec_label(spec);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let lowered = load_connector(&bytes, &options)?;
        render_crate(
            &lowered.connector,
            &options,
            &label,
            std::path::Path::new("."),
        )?;
        Ok::<_, connector_gen::Error>((
            lowered.connector.operations.len(),
            lowered.connector.types.len(),
            lowered.warnings.len(),
            EntityCounts::of(&lowered.connector),
        ))
    }));
    let outcome = match result {
        Ok(Ok((actions, types, warnings, entities))) => Outcome::Ok {
            actions,
            types,
            warnings,
            entities,
        },
        Ok(Err(err)) => Outcome::Error(first_line(&err.to_string())),
        Err(panic) => Outcome::Panic(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panic".to_owned()),
        ),
    };
    Generated {
        spec: spec.clone(),
        version: crate::sample::version_of(spec),
        outcome,
        elapsed: started.elapsed(),
    }
}

/// The most informative single line of an error: the first error diagnostic when there is a list.
fn first_line(text: &str) -> String {
    let head = text.lines().next().unwrap_or_default();
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with("error:"))
        .unwrap_or(head)
        .to_owned()
}

/// Generates every spec on `jobs` threads (each with a large stack, as a guard rather than a
/// need: a stack overflow would abort the whole sweep instead of recording one failure).
pub fn run(specs: &[PathBuf], jobs: usize) -> Vec<Generated> {
    // Panics are recorded per spec; the default hook would print each one over the summary.
    std::panic::set_hook(Box::new(|_| {}));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(specs.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let worker = std::thread::Builder::new().stack_size(256 * 1024 * 1024);
            let spawned = worker.spawn_scoped(scope, || loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(spec) = specs.get(index) else { break };
                let generated = generate_one(spec);
                if let Ok(mut all) = results.lock() {
                    all.push(generated);
                }
            });
            if let Err(e) = spawned {
                eprintln!("could not start a worker thread: {e}");
            }
        }
    });
    let _ = std::panic::take_hook();
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by(|a, b| a.spec.cmp(&b.spec));
    results
}

/// One line: counts of ok / error / panic over all specs, then per declared version.
pub fn summarise(results: &[Generated]) -> String {
    let count = |f: &dyn Fn(&Generated) -> bool| results.iter().filter(|r| f(r)).count();
    let ok = count(&|r| matches!(r.outcome, Outcome::Ok { .. }));
    let panics = count(&|r| r.outcome.is_panic());
    let per_version: Vec<String> = [
        ("3.0", "OpenAPI 3.0"),
        ("3.1", "OpenAPI 3.1"),
        ("2.0", "Swagger 2.0"),
        ("?", "unknown"),
    ]
    .iter()
    .filter_map(|(version, label)| {
        let total = count(&|r| r.version == *version);
        let ok = count(&|r| r.version == *version && matches!(r.outcome, Outcome::Ok { .. }));
        let panics = count(&|r| r.version == *version && r.outcome.is_panic());
        (total > 0).then(|| format!("{label}: {ok}/{total} ok, {panics} panic"))
    })
    .collect();
    let total_time: Duration = results.iter().map(|r| r.elapsed).sum();
    let slowest = results.iter().max_by_key(|r| r.elapsed);
    format!(
        "generation: {} specs, {} ok, {} error, {} panic; {}; total {:.1} s; slowest {} ({:.2} s)",
        results.len(),
        ok,
        results.len() - ok - panics,
        panics,
        per_version.join("; "),
        total_time.as_secs_f64(),
        slowest
            .map(|r| crate::sample::relative_name(&r.spec))
            .unwrap_or_default(),
        slowest.map_or(0.0, |r| r.elapsed.as_secs_f64()),
    )
}

/// One line: the entity finder's totals over the specs that generated.
pub fn summarise_entities(results: &[Generated]) -> String {
    let mut total = EntityCounts::default();
    let mut with_entities = 0;
    let mut ok = 0;
    for r in results {
        if let Outcome::Ok { entities, .. } = &r.outcome {
            ok += 1;
            with_entities += usize::from(entities.entities > 0);
            total.entities += entities.entities;
            total.operations += entities.operations;
            total.plain += entities.plain;
            total.paginated += entities.paginated;
        }
    }
    format!(
        "entities: {} in {}/{} specs; {} operations taken by entities, {} stayed plain actions; {} paginated actions",
        total.entities, with_entities, ok, total.operations, total.plain, total.paginated
    )
}

/// The `n` most frequent failure reasons (messages with spec-specific parts
/// such as pointers and quoted names blurred so that like failures group together).
pub fn top_failures(results: &[Generated], n: usize) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for r in results {
        let message = match &r.outcome {
            Outcome::Error(m) => format!("error: {}", blur(m)),
            Outcome::Panic(m) => format!("panic: {}", blur(m)),
            Outcome::Ok { .. } => continue,
        };
        *counts.entry(message).or_default() += 1;
    }
    let mut sorted: Vec<(usize, String)> = counts.into_iter().map(|(m, c)| (c, m)).collect();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    sorted
        .into_iter()
        .take(n)
        .map(|(c, m)| format!("{c:>5} x {m}"))
        .collect()
}

fn blur(message: &str) -> String {
    let without_location = message.split(" (at #").next().unwrap_or(message);
    let mut out = String::new();
    let mut in_quote = false;
    for c in without_location.chars() {
        match c {
            '"' | '`' => {
                in_quote = !in_quote;
                out.push(c);
                if in_quote {
                    out.push('…');
                }
            }
            _ if in_quote => {}
            _ => out.push(c),
        }
    }
    out.chars().take(160).collect()
}
