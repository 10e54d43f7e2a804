//! Spec bytes → the whole pipeline to formatted Rust. `render_module` parses what it renders with
//! syn, so an output that is not valid Rust comes back as an error, and this target then fails.
#![no_main]

use connector_gen::{load_connector, render_module, Error, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = Options::default();
    if let Ok(lowered) = load_connector(data, &options) {
        match render_module(&lowered.connector, &options, "fuzz.yaml") {
            Ok(_) => {}
            Err(err @ Error::InvalidRust { .. }) => panic!("rendered invalid Rust: {err}"),
            Err(_) => {}
        }
    }
});
