//! Tests that measure their own process (peak memory, open files, live tasks) run alone in a child
//! process: every integration test of a crate is one binary, so other tests run beside them.
//! The generator's tests include this file too.

/// Runs the test `name` (its path in this binary, `module::test`) alone in a child process, this
/// test binary again filtered to it, so that what it measures of its process (peak memory, open
/// files, live tasks) is its own and not that of the tests running beside it. Returns `true` in
/// the child, where the caller goes on with the test's body, and `false` in the parent once the
/// child ran exactly that test and passed.
pub fn in_own_process(name: &str) -> bool {
    const CHILD: &str = "CONNECTOR_TEST_OWN_PROCESS";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .output()
        .expect("running the test in its own process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} in its own process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    false
}
