//! jq mappings, run by jaq in a sandbox (SY-5). jaq ships no limits, so this module adds them:
//!
//! - **No process exit, no environment, no I/O.** `halt`, `halt_error`, `env`, `$ENV`,
//!   `input`/`inputs`, `debug` and `stderr` are not defined (a program naming one does not
//!   compile), and jaq's `unwrap_valr`, which calls `process::exit` on `halt`, is never called.
//! - **Steps and time.** jaq reaches every term it evaluates through its context's
//!   [`HasLut::lut`]; the context here counts those calls and, past `max_steps` or the deadline
//!   (checked every 1,024 steps), unwinds out of the interpreter with
//!   [`std::panic::resume_unwind`] (which runs no panic hook), caught around the run. jaq has no
//!   `unsafe` code, so unwinding through it only drops its values. `range/3`, native in jaq, is
//!   defined in jq here so that each number it yields costs steps.
//! - **Size.** The result is converted to JSON with a budget of `max_size` bytes: a value
//!   built of shared parts (`[$x, $x]` nested forty times) is refused while being walked,
//!   before it is written out.
//!
//! What a step budget cannot see is one operator given huge operands (`"x" * 1e9` allocates a
//! gigabyte in one step): the limits bound loops, recursion and results, not single
//! allocations. Builds with `panic = "abort"` lose the step and time limits' unwinding and
//! abort instead.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use jaq_core::data::{DataT, HasLut};
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;

/// How much one run of a mapping may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Terms evaluated at most (default 1,000,000).
    pub max_steps: u64,
    /// Time at most (default 1 s).
    pub max_time: Duration,
    /// The result's size at most, as JSON bytes (default 1 MiB).
    pub max_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 1_000_000,
            max_time: Duration::from_secs(1),
            max_size: 1 << 20,
        }
    }
}

/// How far the stack may grow during one run: the mapping thread ([`super::mapping`]) has
/// [`STACK_SIZE`], so deep recursion is stopped, and the values it built are dropped, with
/// room to spare.
pub const MAX_STACK: usize = 64 << 20;

/// The mapping thread's stack (reserved, touched only as far as it is used).
pub const STACK_SIZE: usize = 256 << 20;

/// Results nested deeper than this are refused (records from APIs are far shallower).
const MAX_DEPTH: usize = 512;

/// Definitions that replace jaq's: `range/3` in jq, so that it costs steps.
const SANDBOX_DEFS: &str = r#"
def range($from; $upto; $by):
  if $by > 0 then $from | def rec: if . < $upto then ., (. + $by | rec) else {}[] end; rec
  elif $by < 0 then $from | def rec: if . > $upto then ., (. + $by | rec) else {}[] end; rec
  else {}[] end;
"#;

/// Natives and definitions left out: they end the process, read the environment or inputs,
/// write to stderr, or (`range`) loop natively without costing steps.
const REMOVED: &[&str] = &[
    "halt",
    "halt_error",
    "env",
    "input",
    "inputs",
    "debug",
    "debug_empty",
    "stderr",
    "stderr_empty",
    "input_filename",
    "get_search_list",
    "get_prog_origin",
    "get_jq_origin",
    "$__loc__",
];

/// jaq's data kind for the sandbox: JSON values, and a context that counts steps.
struct Sandbox;

impl DataT for Sandbox {
    type V<'a> = Val;
    type Data<'a> = Counted<'a>;
}

#[derive(Clone)]
struct Counted<'a> {
    lut: &'a jaq_core::Lut<Sandbox>,
    budget: &'a Budget,
}

impl<'a> HasLut<'a, Sandbox> for Counted<'a> {
    fn lut(&self) -> &'a jaq_core::Lut<Sandbox> {
        self.budget.step();
        self.lut
    }
}

struct Budget {
    steps: Cell<u64>,
    max_steps: u64,
    deadline: Instant,
    /// Where the stack was when the run started, and how far it may grow from there.
    stack_base: usize,
    max_stack: usize,
}

/// The address of a local: where the stack is now (no `unsafe`: the address is only compared).
#[inline(always)]
fn stack_here() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

/// Why a run was stopped from inside the interpreter.
enum Stop {
    Steps(u64),
    Time,
    Depth,
}

impl Budget {
    fn step(&self) {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        if n > self.max_steps {
            resume_unwind(Box::new(Stop::Steps(self.max_steps)));
        }
        if n.is_multiple_of(1024) && Instant::now() > self.deadline {
            resume_unwind(Box::new(Stop::Time));
        }
        // Recursion that is not a tail call grows the stack: stopped well before it overflows.
        if self.stack_base.abs_diff(stack_here()) > self.max_stack {
            resume_unwind(Box::new(Stop::Depth));
        }
    }
}

/// A compiled jq program. Compiling checks the program; running it maps one record.
pub struct Program {
    filter: jaq_core::Filter<Sandbox>,
    limits: Limits,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("limits", &self.limits)
            .finish()
    }
}

impl Program {
    /// Compiles `code`; the error lists every problem, each with its byte offset.
    pub fn compile(code: &str, limits: Limits) -> Result<Program, Vec<String>> {
        let kept = |name: &str| !REMOVED.contains(&name);
        // jaq's native `range/3` gives way to the one in SANDBOX_DEFS (which `range/1` and
        // `range/2` call).
        let kept_native = |name: &str| kept(name) && name != "range";
        let own = jaq_core::load::parse(SANDBOX_DEFS, |p| p.defs()).unwrap_or_default();
        let defs = own
            .into_iter()
            .chain(jaq_core::defs())
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .filter(|def| kept(def.name));
        let funs = jaq_core::funs::<Sandbox>()
            .chain(jaq_std::funs::<Sandbox>())
            .chain(jaq_json::funs::<Sandbox>())
            .filter(|(name, _, _)| kept_native(name));
        let arena = Arena::default();
        let loader = Loader::new(defs);
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| {
                errors
                    .into_iter()
                    .flat_map(|(_, error)| load_problems(code, error))
                    .collect::<Vec<_>>()
            })?;
        let filter = jaq_core::Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                errors
                    .into_iter()
                    .flat_map(|(_, undefined)| undefined)
                    .map(|(name, kind)| {
                        let at = offset(code, name);
                        let what = match kind {
                            jaq_core::compile::Undefined::Var => "variable",
                            jaq_core::compile::Undefined::Mod => "module",
                            jaq_core::compile::Undefined::Label => "label",
                            _ => "filter",
                        };
                        let hint =
                            if REMOVED.contains(&name.trim_start_matches('$')) || name == "$ENV" {
                                " (not available in sync mappings: no exit, environment or I/O)"
                            } else {
                                ""
                            };
                        format!("undefined {what} `{name}` at byte {at}{hint}")
                    })
                    .collect::<Vec<_>>()
            })?;
        Ok(Program { filter, limits })
    }

    /// Runs the program on `input`: `Ok(None)` when it yields nothing (the record is left
    /// out), `Ok(Some(value))` for one value, an error in words for an error, a limit, or
    /// more than one value.
    pub fn run(&self, input: &Value) -> Result<Option<Value>, String> {
        let input: Val = serde_json::from_value(input.clone())
            .map_err(|e| format!("the record cannot be given to jq: {e}"))?;
        let budget = Budget {
            steps: Cell::new(0),
            max_steps: self.limits.max_steps,
            deadline: Instant::now() + self.limits.max_time,
            stack_base: stack_here(),
            max_stack: MAX_STACK,
        };
        let limits = self.limits;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let data = Counted {
                lut: &self.filter.lut,
                budget: &budget,
            };
            let ctx = Ctx::<Sandbox>::new(data, Vars::new([]));
            let mut outputs = self.filter.id.run((ctx, input));
            let first = match outputs.next() {
                None => return Ok(None),
                Some(Ok(value)) => value,
                Some(Err(exn)) => return Err(exception(exn)),
            };
            match outputs.next() {
                None => {}
                Some(Err(exn)) => return Err(exception(exn)),
                Some(Ok(_)) => {
                    return Err("the mapping gave more than one value for one record".into())
                }
            }
            let mut budget = limits.max_size;
            to_json(&first, &mut budget, 0).map(Some).ok_or_else(|| {
                format!(
                    "the mapped record is larger than the limit of {} bytes, or nested deeper than {MAX_DEPTH} levels",
                    limits.max_size
                )
            })
        }));
        match outcome {
            Ok(result) => result,
            Err(payload) => Err(match payload.downcast_ref::<Stop>() {
                Some(Stop::Steps(max)) => format!("the mapping took more than {max} steps"),
                Some(Stop::Time) => format!("the mapping ran longer than {:?}", limits.max_time),
                Some(Stop::Depth) => "the mapping recursed too deeply".into(),
                None => "the mapping failed inside the jq interpreter".into(),
            }),
        }
    }
}

fn load_problems(code: &str, error: jaq_core::load::Error<&str>) -> Vec<String> {
    use jaq_core::load::Error;
    match error {
        Error::Io(errors) => errors
            .into_iter()
            .map(|(path, message)| {
                format!("cannot load `{path}`: {message} (sync mappings import nothing)")
            })
            .collect(),
        Error::Lex(errors) => errors
            .into_iter()
            .map(|(expect, found)| {
                format!(
                    "expected {} at byte {}",
                    expect.as_str(),
                    offset(code, found)
                )
            })
            .collect(),
        Error::Parse(errors) => errors
            .into_iter()
            .map(|(expect, found)| {
                let at = offset(code, found);
                if found.is_empty() {
                    format!("expected {} at the end", expect.as_str())
                } else {
                    format!("expected {} at byte {at}, found `{found}`", expect.as_str())
                }
            })
            .collect(),
    }
}

/// Where `part` (a slice of `code`, as jaq's errors give) starts in `code`; 0 when it is not
/// one (a name from the standard library's definitions).
fn offset(code: &str, part: &str) -> usize {
    let start = code.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at >= start && at + part.len() <= start + code.len() {
        at - start
    } else {
        0
    }
}

fn exception(exn: jaq_core::Exn<'_, Val>) -> String {
    match exn.get_err() {
        Ok(error) => {
            let message = error.to_string();
            let mut short: String = message.chars().take(500).collect();
            if short.len() < message.len() {
                short.push('…');
            }
            format!("the mapping failed: {short}")
        }
        Err(_) => "the mapping stopped (halt or an unexpected break)".into(),
    }
}

/// Takes `n` bytes from `budget`; `None` when it has fewer.
fn spend(budget: &mut usize, n: usize) -> Option<()> {
    *budget = budget.checked_sub(n)?;
    Some(())
}

/// `value` as JSON, spending `budget` bytes (roughly as written out); `None` past it.
fn to_json(value: &Val, budget: &mut usize, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match value {
        Val::Null => {
            spend(budget, 4)?;
            Value::Null
        }
        Val::Bool(b) => {
            spend(budget, 5)?;
            Value::Bool(*b)
        }
        Val::Num(n) => {
            let text = n.to_string();
            spend(budget, text.len())?;
            serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
        }
        Val::TStr(bytes) | Val::BStr(bytes) => {
            spend(budget, bytes.len() + 2)?;
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        }
        Val::Arr(items) => {
            spend(budget, 2)?;
            let mut out = Vec::with_capacity(items.len().min(1024));
            for item in items.iter() {
                spend(budget, 1)?;
                out.push(to_json(item, budget, depth + 1)?);
            }
            Value::Array(out)
        }
        Val::Obj(map) => {
            spend(budget, 2)?;
            let mut out = serde_json::Map::new();
            for (key, item) in map.iter() {
                let key = match key {
                    Val::TStr(bytes) | Val::BStr(bytes) => {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                    other => other.to_string(),
                };
                spend(budget, key.len() + 4)?;
                let item = to_json(item, budget, depth + 1)?;
                out.insert(key, item);
            }
            Value::Object(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn program(code: &str) -> Program {
        Program::compile(code, Limits::default()).unwrap()
    }

    #[test]
    fn maps_records() {
        let p = program("{title: .name, amount: (.total_cents / 100), id: (.id | tostring)}");
        assert_eq!(
            p.run(&json!({"name": "A", "total_cents": 250, "id": 7})),
            Ok(Some(json!({"title": "A", "amount": 2.5, "id": "7"})))
        );
        assert_eq!(program("select(.x)").run(&json!({"x": false})), Ok(None));
        assert!(program(".[]").run(&json!([1, 2])).is_err());
        assert_eq!(
            program("[range(3)], [range(0; 10; 4)]")
                .run(&json!(null))
                .err(),
            Some("the mapping gave more than one value for one record".into())
        );
        assert_eq!(
            program("[range(0; 10; 4)]").run(&json!(null)),
            Ok(Some(json!([0, 4, 8])))
        );
    }

    #[test]
    fn no_exit_no_environment_no_io() {
        for code in [
            "halt",
            "halt_error(1)",
            "env",
            "$ENV",
            "input",
            "debug",
            "stderr",
            "$__loc__",
        ] {
            let problems = Program::compile(code, Limits::default()).unwrap_err();
            assert!(problems[0].contains("undefined"), "{code}: {problems:?}");
        }
        let problems = Program::compile("{a: }", Limits::default()).unwrap_err();
        assert!(problems[0].contains("byte"), "{problems:?}");
    }

    #[test]
    fn loops_recursion_and_huge_values_are_stopped() {
        // On a thread with the mapping thread's stack, as in a sync.
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn(limits_hold)
            .unwrap()
            .join()
            .unwrap();
    }

    fn limits_hold() {
        let tight = Limits {
            max_steps: 100_000,
            max_time: Duration::from_secs(5),
            max_size: 10_000,
        };
        for code in [
            "def f: f; f",
            "last(range(1e18))",
            "[limit(1e9; repeat(1))]",
            "def f: 1 + f; f",
            "reduce range(1e9) as $i (0; . + 1)",
        ] {
            let p = Program::compile(code, tight).unwrap();
            let err = p.run(&json!(null)).unwrap_err();
            assert!(
                err.contains("steps") || err.contains("deeply"),
                "{code}: {err}"
            );
        }
        let deep = Limits {
            max_steps: 10_000_000,
            ..tight
        };
        let err = Program::compile("def f: 1 + f; f", deep)
            .unwrap()
            .run(&json!(null))
            .unwrap_err();
        assert!(err.contains("deeply"), "{err}");
        let err = Program::compile("reduce range(20000) as $i (null; [.])", deep)
            .unwrap()
            .run(&json!(null))
            .unwrap_err();
        assert!(err.contains("nested deeper"), "{err}");
        let p = Program::compile("reduce range(40) as $i (1; [., .])", tight).unwrap();
        assert!(p.run(&json!(null)).unwrap_err().contains("larger than"));
        let slow = Limits {
            max_steps: u64::MAX,
            max_time: Duration::from_millis(200),
            max_size: 10_000,
        };
        let started = Instant::now();
        let err = Program::compile("def f: f; f", slow)
            .unwrap()
            .run(&json!(null))
            .unwrap_err();
        assert!(err.contains("longer than"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(program("error(\"bad\")")
            .run(&json!(1))
            .unwrap_err()
            .contains("bad"));
    }
}
