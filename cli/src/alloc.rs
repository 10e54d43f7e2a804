//! The command line's allocator: mimalloc instead of the system's.
//!
//! Generating a large spec allocates and frees tens of millions of small strings, maps and syntax
//! nodes; glibc's malloc and free were a third of all instructions of GitHub's generation. With
//! mimalloc the same run takes about a quarter less user CPU. How long freed pages wait before
//! they go back to the system trades memory for system time: GitHub's generation peaked at about
//! 160 MiB with mimalloc's 10 ms (glibc: 150), and at 150 MiB with 1 ms, which spent 0.25 s more
//! in the kernel faulting pages back in than it saved under load. 2 ms kept GitHub's peak at about
//! 154 MiB and Microsoft Graph's at glibc's (660-680 MiB), with most of the gain.
//!
//! The build.rs library does not choose an allocator: that is the build script's to do.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v2's `mimalloc.h` (libmimalloc-sys names no constant for
/// it). Its default is 10 (milliseconds), which the tests check to catch a renumbering.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The environment variable mimalloc reads the purge delay from; a user's setting wins.
const PURGE_DELAY_VARIABLE: &str = "MIMALLOC_PURGE_DELAY";

/// The purge delay, in milliseconds.
const PURGE_AFTER_MS: std::ffi::c_long = 2;

/// Sets the purge delay, unless the environment chose one.
pub(crate) fn tune() {
    if std::env::var_os(PURGE_DELAY_VARIABLE).is_none() {
        // SAFETY: setting an option is a store into mimalloc's option table, valid at any time.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_AFTER_MS) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_the_option_tuned() {
        // SAFETY: reading and setting options is valid at any time.
        let before = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_none() {
            assert_eq!(
                before, 10,
                "option {PURGE_DELAY} is not mimalloc's purge delay"
            );
        }
        tune();
        // SAFETY: as above.
        let after = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_none() {
            assert_eq!(after, PURGE_AFTER_MS);
        } else {
            assert_eq!(after, before, "the environment's setting was overridden");
        }
    }
}
