//! CSV output of both stages (RFC 4180 quoting).

use std::io::Write;
use std::path::Path;

use crate::compile::Compiled;
use crate::generate::{EntityCounts, Generated, Outcome};
use crate::sample::relative_name;

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Writes `spec,version,status,millis,actions,types,warnings,entities,entity_operations,paginated,message`.
pub fn write_generation(path: &Path, results: &[Generated]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "spec,version,status,millis,actions,types,warnings,entities,entity_operations,paginated,message"
    )?;
    for r in results {
        let none = EntityCounts::default();
        let (status, actions, types, warnings, e, message) = match &r.outcome {
            Outcome::Ok {
                actions,
                types,
                warnings,
                entities,
            } => ("ok", *actions, *types, *warnings, *entities, String::new()),
            Outcome::Error(m) => ("error", 0, 0, 0, none, m.clone()),
            Outcome::Panic(m) => ("panic", 0, 0, 0, none, m.clone()),
        };
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            field(&relative_name(&r.spec)),
            r.version,
            status,
            r.elapsed.as_millis(),
            actions,
            types,
            warnings,
            e.entities,
            e.operations,
            e.paginated,
            field(&message)
        )?;
    }
    out.flush()
}

/// Writes `spec,crate,status,warnings,first_error`.
pub fn write_compile(path: &Path, results: &[Compiled]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "spec,crate,status,warnings,first_error")?;
    for r in results {
        writeln!(
            out,
            "{},{},{},{},{}",
            field(&relative_name(&r.spec)),
            field(&r.crate_name),
            r.status.as_str(),
            r.warnings,
            field(r.first_error.as_deref().unwrap_or(""))
        )?;
    }
    out.flush()
}
