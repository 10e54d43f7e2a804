//! Spec bytes → load → resolve → lower: must return (an error is fine), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = connector_gen::load_connector(data, &connector_gen::Options::default());
});
