//! The floor for generation speed: the time to merely read and deserialise a spec into the
//! `openapiv3` model, which any generator built on it pays. `scripts/bench.sh` runs it:
//! `cargo bench -p connector-gen --bench floor -- SPEC...` prints `SPEC<TAB>milliseconds` (best of
//! three), or `SPEC<TAB>n/a (why)`. It allocates with mimalloc, as the command line does.

use std::path::Path;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn deserialise(path: &Path) -> Result<f64, String> {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        let spec: openapiv3::OpenAPI = if is_yaml {
            serde_yaml::from_slice(&bytes).map_err(|e| e.to_string())?
        } else {
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?
        };
        std::hint::black_box(&spec);
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(best)
}

fn main() {
    for arg in std::env::args().skip(1).filter(|a| !a.starts_with("--")) {
        match deserialise(Path::new(&arg)) {
            Ok(ms) => println!("{arg}\t{ms:.1}"),
            Err(why) => {
                let why: String = why.chars().take(80).collect();
                println!("{arg}\tn/a ({why})");
            }
        }
    }
}
