//! What normalising at the edge costs: for each spec, the best of five runs of parsing alone
//! (`load::parse`), of loading (parse, version check, and the 3.1 rewrite or the 2.0
//! conversion), and of lowering the loaded document. `cargo bench -p connector-gen --bench
//! normalise -- SPEC...` prints `SPEC<TAB>version<TAB>parse ms<TAB>load ms<TAB>normalise ms
//! <TAB>moved subtrees<TAB>lower ms`.

use std::path::Path;
use std::time::Instant;

use connector_gen::{load, lower};

fn best<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..5 {
        let start = Instant::now();
        let value = std::hint::black_box(f());
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        out = Some(value);
    }
    // Five runs always ran.
    (best, out.expect("five runs"))
}

fn main() {
    for arg in std::env::args().skip(1).filter(|a| !a.starts_with("--")) {
        let Ok(bytes) = std::fs::read(Path::new(&arg)) else {
            println!("{arg}\tn/a (unreadable)");
            continue;
        };
        let (parse, _) = best(|| load::parse(&bytes, usize::MAX));
        let (loaded, document) = best(|| load::load(&bytes, usize::MAX));
        let Ok(document) = document else {
            println!("{arg}\tn/a (does not load)");
            continue;
        };
        let (lowered, _) = best(|| {
            let mut diags = connector_gen::diagnostics::Diagnostics::default();
            lower::lower(&document.root, &lower::LowerOptions::default(), &mut diags)
        });
        println!(
            "{arg}\t{}\t{parse:.1}\t{loaded:.1}\t{:.1}\t{}\t{lowered:.1}",
            document.version.declared(),
            loaded - parse,
            document.source_map.len(),
        );
    }
}
